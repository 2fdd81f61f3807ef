package web_test

import (
	"bytes"
	"io/fs"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// maxLines is the most lines a script or stylesheet of the client may have:
// past it, split the file by what each part owns.
const maxLines = 600

// staticFiles returns the names under static with one of the extensions,
// and their contents.
func staticFiles(t *testing.T, exts ...string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	dir := os.DirFS("static")
	err := fs.WalkDir(dir, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !slices.Contains(exts, path.Ext(p)) {
			return err
		}
		b, err := fs.ReadFile(dir, p)
		files[p] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no %v files under static", exts)
	}
	return files
}

// TestFileLength keeps every script and stylesheet short enough to hold in
// one's head.
func TestFileLength(t *testing.T) {
	for name, b := range staticFiles(t, ".js", ".css") {
		lines := bytes.Count(b, []byte("\n"))
		if len(b) > 0 && b[len(b)-1] != '\n' {
			lines++
		}
		if lines > maxLines {
			t.Errorf("%s has %d lines, more than %d: split it by what each part owns", name, lines, maxLines)
		}
	}
}

// TestIndexLoadsEveryFile checks that index.html links every stylesheet and
// loads or preloads every module (so a new file is not forgotten, and the
// chain of imports costs one round trip), and names no file that is gone.
func TestIndexLoadsEveryFile(t *testing.T) {
	index, err := os.ReadFile("static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	tag := regexp.MustCompile(`<(?:link rel="(stylesheet|modulepreload)" href|script type="module" src)="/assets/([^"]+)"`)
	loaded := map[string]string{}
	for _, m := range tag.FindAllStringSubmatch(string(index), -1) {
		how := m[1]
		if how == "" {
			how = "script"
		}
		if _, dup := loaded[m[2]]; dup {
			t.Errorf("index.html loads %s twice", m[2])
		}
		loaded[m[2]] = how
	}
	files := staticFiles(t, ".js", ".css")
	for name := range files {
		want := []string{"stylesheet"}
		if path.Ext(name) == ".js" {
			want = []string{"script", "modulepreload"}
		}
		if how, ok := loaded[name]; !ok || !slices.Contains(want, how) {
			t.Errorf("index.html does not load %s as %s", name, strings.Join(want, " or "))
		}
	}
	for name := range loaded {
		if _, ok := files[name]; !ok {
			t.Errorf("index.html loads %s, which is not under static", name)
		}
	}
}

// TestModulesImportOneWay checks that every module imports only files that
// exist and that the imports have no cycle.
func TestModulesImportOneWay(t *testing.T) {
	from := regexp.MustCompile(`(?m)^(?:import|export)\b[^;]*?\bfrom '\./([^']+)';`)
	modules := staticFiles(t, ".js")
	imports := map[string][]string{}
	for name, b := range modules {
		for _, m := range from.FindAllStringSubmatch(string(b), -1) {
			if _, ok := modules[m[1]]; !ok {
				t.Errorf("%s imports %s, which is not under static", name, m[1])
				continue
			}
			imports[name] = append(imports[name], m[1])
		}
	}
	const visiting, done = 1, 2
	state := map[string]int{}
	var visit func(name string, path []string)
	visit = func(name string, path []string) {
		path = append(path, name)
		switch state[name] {
		case visiting:
			t.Errorf("import cycle: %s", strings.Join(path, " -> "))
			return
		case done:
			return
		}
		state[name] = visiting
		for _, dep := range imports[name] {
			visit(dep, path)
		}
		state[name] = done
	}
	names := make([]string, 0, len(modules))
	for name := range modules {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		visit(name, nil)
	}
}
