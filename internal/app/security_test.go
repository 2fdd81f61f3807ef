package app

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestSecurityNamesRealTests keeps SECURITY.md true: every test a promise
// names exists, in the file named before it when one is, and every test
// file it names exists.
func TestSecurityNamesRealTests(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "SECURITY.md"))
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]bool{} // every top-level test function in the repository
	files := map[string]string{}
	decl := regexp.MustCompile(`(?m)^func (Test\w+|Fuzz\w+|Benchmark\w+)\(`)
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		files[filepath.ToSlash(rel)] = string(src)
		for _, m := range decl.FindAllStringSubmatch(string(src), -1) {
			all[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile("`([^`]+)`")
	checked := 0
	for _, line := range strings.Split(string(doc), "\n") {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| promise") {
			continue
		}
		cells := strings.Split(line, " | ")
		tests := cells[len(cells)-1]
		file := ""
		for _, m := range code.FindAllStringSubmatch(tests, -1) {
			name := m[1]
			switch {
			case strings.HasSuffix(name, "_test.go"):
				file = name
				if _, ok := files[file]; !ok {
					t.Errorf("SECURITY.md names %s, which does not exist", file)
				}
			case strings.HasSuffix(name, "*"): // a family, such as Fuzz*
			case strings.HasPrefix(name, "Test") || strings.HasPrefix(name, "Fuzz"):
				fn, _, _ := strings.Cut(name, "/")
				checked++
				if src, ok := files[file]; ok && !strings.Contains(src, "func "+fn+"(") {
					// A name after a file may still be a test of the same
					// package in another file.
					if !all[fn] {
						t.Errorf("SECURITY.md names %s (after %s), which does not exist", fn, file)
					}
				} else if !all[fn] {
					t.Errorf("SECURITY.md names %s, which does not exist", fn)
				}
			}
		}
	}
	if checked < 50 {
		t.Errorf("found only %d test names in SECURITY.md; is the table's format changed?", checked)
	}
}
