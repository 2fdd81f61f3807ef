package app_test

import (
	"errors"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	gotypes "go/types"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
	"room": {"net/http", module, "github.com/pion/", "github.com/gorilla/", "github.com/redis/"},
	"membership": {"net/http", module + "sfu", module + "live", module + "signaling", module + "admin", module + "internal",
		"github.com/pion/", "github.com/gorilla/", "github.com/redis/"},
	"membership/redisstore": {module + "sfu", module + "live", module + "signaling", module + "admin", module + "internal", "github.com/pion/"},
	"protocol": {"net/http", module + "sfu", module + "live", module + "membership", module + "signaling", module + "admin",
		module + "internal", "github.com/gorilla/", "github.com/redis/"},
	"live": {"net/http", module + "membership", module + "signaling", module + "admin", module + "internal",
		"github.com/gorilla/", "github.com/redis/"},
	"cluster": {module + "sfu", module + "live", module + "membership", module + "signaling", module + "admin", module + "internal",
		"github.com/pion/", "github.com/gorilla/"},
	"sfu":       {module + "room", module + "live", module + "membership", module + "signaling", module + "admin", module + "internal"},
	"signaling": {module + "admin", module + "internal"},
	"span": {module + "room", module + "live", module + "membership", module + "signaling", module + "admin",
		module + "internal"},
	"admin": {module + "sfu", module + "live", module + "signaling", module + "internal"},
	"web":   {module},
	"internal/client": {module + "room", module + "sfu", module + "live", module + "membership", module + "signaling",
		module + "admin", module + "internal/app"},
}

// leaves are product packages under internal/ that any product package may
// use: they import nothing of the module.
var leaves = []string{"internal/clientaddr"}

// TestLayering: product code imports only downward, nothing but tests
// imports internal/testutil, and the leaves import nothing of the module.
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
			if slices.Contains(leaves, dir) && strings.HasPrefix(p, module) {
				t.Errorf("%s imports %s, but is a leaf", rel, p)
			}
			if slices.Contains(leaves, strings.TrimPrefix(p, module)) {
				continue
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

// fileLayered lists the packages (by folder) whose files form layers: no
// file uses, directly or through others, a file that uses it, so each
// package reads bottom up.
var fileLayered = []string{"live"}

// TestFileLayering: in each package of fileLayered, the graph of "file A
// uses a type, function, method, field, constant or variable declared in
// file B" has no cycle. A failure names the files of one cycle and one use
// on each of its arrows.
func TestFileLayering(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	imp, fset := exportImporter(t, root, fileLayered)
	for _, dir := range fileLayered {
		t.Run(strings.ReplaceAll(dir, "/", "_"), func(t *testing.T) {
			g := buildFileGraph(t, fset, imp, filepath.Join(root, filepath.FromSlash(dir)), module+dir)
			if cyc := g.cycle(); cyc != nil {
				var b strings.Builder
				for i, a := range cyc {
					b.WriteString("\n\t" + g.edges[a][cyc[(i+1)%len(cyc)]])
				}
				t.Fatalf("%s: files refer to each other in a cycle:%s", dir, b.String())
			}
			t.Logf("%s: %d files, %d arrows; bottom up: %s", dir, len(g.files), g.count(), strings.Join(g.order(), " "))
		})
	}
}

// exportImporter imports packages from the compiler's export data, which
// `go list -export` builds (or finds in the build cache) for the packages
// in dirs and all they import: much faster than type-checking every import
// from source.
func exportImporter(t *testing.T, root string, dirs []string) (gotypes.Importer, *token.FileSet) {
	t.Helper()
	args := []string{"list", "-export", "-deps", "-f", "{{.ImportPath}}\t{{.Export}}"}
	for _, d := range dirs {
		args = append(args, "./"+d)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%w: %s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	export := map[string]string{}
	for line := range strings.Lines(string(out)) {
		path, file, _ := strings.Cut(strings.TrimSpace(line), "\t")
		export[path] = file
	}
	fset := token.NewFileSet()
	return importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		file := export[path]
		if file == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(file)
	}), fset
}

// fileGraph is a package's files and, for each arrow from a file to a file
// it uses, one use described ("floor.go:31 uses Controls (controls.go)").
type fileGraph struct {
	files []string
	edges map[string]map[string]string
}

// buildFileGraph type-checks the non-test files in dir and records, for
// every use of an object the package declares outside the using file, an
// arrow between the two files. Local variables, parameters and types
// declared inside functions stay within one file and are left out.
func buildFileGraph(t *testing.T, fset *token.FileSet, imp gotypes.Importer, dir, path string) *fileGraph {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	g := &fileGraph{edges: map[string]map[string]string{}}
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
		g.files = append(g.files, filepath.Base(name))
	}
	info := &gotypes.Info{Uses: map[*ast.Ident]gotypes.Object{}, Selections: map[*ast.SelectorExpr]*gotypes.Selection{}}
	pkg, err := (&gotypes.Config{Importer: imp}).Check(path, fset, files, info)
	if err != nil {
		t.Fatalf("type-checking %s: %v", path, err)
	}
	// Keep the earliest use on each arrow, so a failure reads the same every run.
	first := map[[2]string]token.Pos{}
	add := func(at token.Pos, obj gotypes.Object, name string) {
		if obj == nil || obj.Pkg() != pkg || !obj.Pos().IsValid() {
			return
		}
		if v, ok := obj.(*gotypes.Var); ok && !v.IsField() && obj.Parent() != pkg.Scope() {
			return // a local variable or parameter
		}
		if p := obj.Parent(); p != nil && p != pkg.Scope() {
			return // a constant or type declared inside a function
		}
		from := fset.Position(at)
		a, b := filepath.Base(from.Filename), filepath.Base(fset.Position(obj.Pos()).Filename)
		if a == b {
			return
		}
		if p, ok := first[[2]string{a, b}]; ok && p <= at {
			return
		}
		first[[2]string{a, b}] = at
		if g.edges[a] == nil {
			g.edges[a] = map[string]string{}
		}
		g.edges[a][b] = fmt.Sprintf("%s:%d uses %s (%s)", a, from.Line, name, b)
	}
	for id, obj := range info.Uses {
		add(id.Pos(), obj, qualifiedName(obj))
	}
	// A selection through embedded fields uses each of them, unwritten.
	for se, sel := range info.Selections {
		typ, idx := sel.Recv(), sel.Index()
		for _, i := range idx[:len(idx)-1] {
			if p, ok := typ.(*gotypes.Pointer); ok {
				typ = p.Elem()
			}
			st, ok := typ.Underlying().(*gotypes.Struct)
			if !ok {
				break
			}
			f := st.Field(i)
			add(se.Sel.Pos(), f, f.Name()+" (embedded)")
			typ = f.Type()
		}
	}
	return g
}

// qualifiedName names a method with its receiver's type (Controls.give).
func qualifiedName(obj gotypes.Object) string {
	if fn, ok := obj.(*gotypes.Func); ok {
		if recv := fn.Signature().Recv(); recv != nil {
			typ := recv.Type()
			if p, ok := typ.(*gotypes.Pointer); ok {
				typ = p.Elem()
			}
			if n, ok := typ.(*gotypes.Named); ok {
				return n.Obj().Name() + "." + obj.Name()
			}
		}
	}
	return obj.Name()
}

func (g *fileGraph) count() int {
	n := 0
	for _, to := range g.edges {
		n += len(to)
	}
	return n
}

// cycle returns the files of one cycle, each using the next and the last
// using the first, or nil if there is none.
func (g *fileGraph) cycle() []string {
	const (
		unseen = iota
		open   // on the current path
		done
	)
	state := map[string]int{}
	var path, found []string
	var visit func(a string) bool
	visit = func(a string) bool {
		state[a] = open
		path = append(path, a)
		for _, b := range slices.Sorted(maps.Keys(g.edges[a])) {
			switch state[b] {
			case open:
				found = path[slices.Index(path, b):]
				return true
			case unseen:
				if visit(b) {
					return true
				}
			}
		}
		path = path[:len(path)-1]
		state[a] = done
		return false
	}
	for _, a := range g.files {
		if state[a] == unseen && visit(a) {
			return found
		}
	}
	return nil
}

// order lists the files of an acyclic graph bottom up: each uses only files
// before it. Ties go alphabetically.
func (g *fileGraph) order() []string {
	var out []string
	placed := map[string]bool{}
	for len(out) < len(g.files) {
		for _, a := range g.files {
			if placed[a] {
				continue
			}
			ready := true
			for b := range g.edges[a] {
				ready = ready && placed[b]
			}
			if ready {
				out = append(out, a)
				placed[a] = true
				break
			}
		}
	}
	return out
}
