package app_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/hearth-rtc/hearth/"

// forbidden lists, for each product package (by folder), the imports that
// would run against the layering in README.md: the domain knows no network
// or media, the SFU knows no roles, the Go client knows only the wire, and
// test helpers are for tests only.
var forbidden = map[string][]string{
	"room": {"net/http", module + "sfu", module + "signaling", module + "admin", module + "internal",
		"github.com/pion/", "github.com/gorilla/", "github.com/redis/"},
	"room/redisstore": {module + "sfu", module + "signaling", module + "admin", module + "internal", "github.com/pion/"},
	"sfu":             {module + "room", module + "signaling", module + "admin", module + "internal"},
	"signaling":       {module + "admin", module + "internal"},
	"admin":           {module + "sfu", module + "signaling", module + "internal"},
	"web":             {module},
	"internal/client": {module + "room", module + "sfu", module + "signaling", module + "admin", module + "internal/app"},
}

// TestLayering: product code imports only downward, and nothing but tests
// imports internal/testutil.
func TestLayering(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == "testdata" || name == "node_modules" || strings.HasPrefix(name, ".") && path != root {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		dir := filepath.ToSlash(filepath.Dir(rel))
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(p, module+"internal/testutil") && !strings.HasPrefix(dir, "internal/testutil") {
				t.Errorf("%s imports the test helper %s", rel, p)
			}
			for _, bad := range forbidden[dir] {
				if strings.HasPrefix(p, bad) {
					t.Errorf("%s imports %s, against the layering", rel, p)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
