package signaling

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hearth-rtc/hearth/protocol"
)

// PROTOCOL.md is kept in step with the code by the tests in this file: the
// examples decode into the message types, and every message type, error
// code and bye reason the code has is documented.

// direction is who sends a message.
type direction int

const (
	anyDirection direction = iota
	fromClient
	fromServer
)

// example is one JSON message in PROTOCOL.md.
type example struct {
	line int
	dir  direction
	typ  string
	raw  json.RawMessage
}

// protocolDoc is what the tests read from PROTOCOL.md.
type protocolDoc struct {
	text     string
	examples []example
	// codes are the rows of the error table, with their "closes" cell.
	codes map[string]string
	// sections maps a heading's text to the text under it.
	sections map[string]string
}

var inlineExample = regexp.MustCompile("`(\\{\"type\".*?\\})`")

func readProtocol(t testing.TB) protocolDoc {
	t.Helper()
	b, err := os.ReadFile("PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	d := protocolDoc{text: string(b), codes: map[string]string{}, sections: map[string]string{}}
	dir := anyDirection
	inJSON, inFence := false, false
	var block strings.Builder
	blockLine := 0
	heading := ""
	for i, line := range strings.Split(d.text, "\n") {
		n := i + 1
		if strings.HasPrefix(line, "```") {
			switch {
			case inJSON:
				d.examples = append(d.examples, splitExamples(t, blockLine, dir, block.String())...)
				block.Reset()
				inJSON = false
			case inFence:
				inFence = false
			case strings.TrimPrefix(line, "```") == "json":
				inJSON, blockLine = true, n+1
			default:
				inFence = true
			}
			continue
		}
		if inJSON {
			block.WriteString(line + "\n")
			continue
		}
		if inFence {
			continue
		}
		if strings.HasPrefix(line, "#") {
			level := len(line) - len(strings.TrimLeft(line, "#"))
			heading = strings.TrimSpace(line[level:])
			switch {
			case strings.Contains(heading, "Client → server"):
				dir = fromClient
			case strings.Contains(heading, "Server → client"):
				dir = fromServer
			case level <= 2:
				dir = anyDirection
			}
			continue
		}
		d.sections[heading] += line + "\n"
		for _, m := range inlineExample.FindAllStringSubmatch(line, -1) {
			d.examples = append(d.examples, splitExamples(t, n, dir, m[1])...)
		}
		if heading == "error" && strings.HasPrefix(line, "| `") {
			cells := strings.Split(line, "|")
			if len(cells) >= 4 {
				d.codes[strings.Trim(strings.TrimSpace(cells[1]), "`")] = strings.TrimSpace(cells[3])
			}
		}
	}
	if len(d.examples) == 0 || len(d.codes) == 0 {
		t.Fatal("PROTOCOL.md: found no examples or no error table")
	}
	return d
}

// splitExamples reads the JSON objects of one code block.
func splitExamples(t testing.TB, line int, dir direction, text string) []example {
	t.Helper()
	var out []example
	dec := json.NewDecoder(strings.NewReader(text))
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("PROTOCOL.md:%d: not JSON: %v", line, err)
		}
		var env struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(raw, &env); err != nil || env.Type == "" {
			t.Fatalf("PROTOCOL.md:%d: %s is not an object with a type", line, raw)
		}
		out = append(out, example{line: line, dir: dir, typ: env.Type, raw: raw})
	}
}

// decodeStrict decodes an example, its type field aside, into the Go type
// mk makes, refusing fields that type does not have.
func decodeStrict(raw json.RawMessage, mk func() any) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return err
	}
	delete(fields, "type")
	b, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(mk())
}

// TestProtocolExamples: every example in PROTOCOL.md is a message type of
// its direction and decodes into that type's Go struct with no field the
// struct does not have.
func TestProtocolExamples(t *testing.T) {
	d := readProtocol(t)
	for _, ex := range d.examples {
		client, server := protocol.ClientMessages()[ex.typ], protocol.ServerMessages()[ex.typ]
		var err error
		switch {
		case ex.dir == fromClient && client == nil, ex.dir == fromServer && server == nil, client == nil && server == nil:
			t.Errorf("PROTOCOL.md:%d: %q is not a message type %s", ex.line, ex.typ, ex.dir)
			continue
		case ex.dir == fromClient:
			err = decodeStrict(ex.raw, client)
		case ex.dir == fromServer:
			err = decodeStrict(ex.raw, server)
		default:
			// Outside a directed section: either direction will do.
			err = errors.New("no type")
			if client != nil {
				err = decodeStrict(ex.raw, client)
			}
			if err != nil && server != nil {
				err = decodeStrict(ex.raw, server)
			}
		}
		if err != nil {
			t.Errorf("PROTOCOL.md:%d: %s %s: %v", ex.line, ex.typ, ex.raw, err)
		}
	}
}

func (d direction) String() string {
	switch d {
	case fromClient:
		return "from clients"
	case fromServer:
		return "from the server"
	}
	return "in either direction"
}

// TestProtocolDocumentsEveryMessage: each message type the server handles
// has an example in a client → server section, and each it sends one in a
// server → client section; and every type the server sends is one it
// lists, in the Go type listed for it.
func TestProtocolDocumentsEveryMessage(t *testing.T) {
	d := readProtocol(t)
	shown := map[direction]map[string]bool{fromClient: {}, fromServer: {}, anyDirection: {}}
	for _, ex := range d.examples {
		shown[ex.dir][ex.typ] = true
	}
	for typ := range protocol.ClientMessages() {
		if !shown[fromClient][typ] {
			t.Errorf("PROTOCOL.md has no example of %q from a client", typ)
		}
	}
	for typ := range protocol.ServerMessages() {
		if !shown[fromServer][typ] {
			t.Errorf("PROTOCOL.md has no example of %q from the server", typ)
		}
	}
	src := parseSignaling(t)
	for _, s := range src.sent {
		mk, ok := protocol.ServerMessages()[s.typ]
		if !ok {
			t.Errorf("%s: the server sends %q, which protocol.ServerMessages does not list", s.pos, s.typ)
			continue
		}
		if got := typeName(mk()); got != s.goType {
			t.Errorf("%s: %q is sent as %s, listed as %s", s.pos, s.typ, s.goType, got)
		}
	}
}

// TestProtocolDocumentsEveryCode: every error code the server can send in
// an error message is a row of PROTOCOL.md's error table (room refusals
// included), every other code (refusals at the upgrade) is named in the
// document, and so is every bye reason and waiting reason.
func TestProtocolDocumentsEveryCode(t *testing.T) {
	d := readProtocol(t)
	src := parseSignaling(t)
	room := parseRoomConsts(t)
	for _, code := range room["Code"] {
		if !slices.Contains(protocol.Codes(), protocol.Code(code)) {
			t.Errorf("room code %q is not a protocol code", code)
		}
	}
	sent := append(slices.Clone(src.errorCodes), room["Code"]...)
	slices.Sort(sent)
	for _, code := range slices.Compact(sent) {
		if _, ok := d.codes[code]; !ok {
			t.Errorf("error code %q is not in PROTOCOL.md's error table", code)
		}
	}
	for _, code := range protocol.Codes() {
		if !strings.Contains(d.text, "`"+string(code)+"`") {
			t.Errorf("code %q is not in PROTOCOL.md", code)
		}
	}
	for _, r := range src.byeReasons {
		if !strings.Contains(d.sections["bye"], "`"+r+"`") {
			t.Errorf("bye reason %q is not in PROTOCOL.md's bye section", r)
		}
	}
	for _, r := range room["WaitReason"] {
		if !strings.Contains(d.sections["waiting"], "`"+r+"`") {
			t.Errorf("waiting reason %q is not in PROTOCOL.md's waiting section", r)
		}
	}
}

// signalingSource is what the tests read from the code that sends
// messages: this package's, and the live rooms' (package live).
type signalingSource struct {
	// errorCodes are the codes (constants and literals) that go into
	// error messages.
	errorCodes []string
	byeReasons []string
	sent       []sentLiteral
}

// sentLiteral is a message literal with a type field, as sent.
type sentLiteral struct {
	pos, typ, goType string
}

func parseSignaling(t testing.TB) signalingSource {
	t.Helper()
	fset := token.NewFileSet()
	var files []*ast.File
	var paths []string
	for _, pattern := range []string{"*.go", "../live/*.go"} {
		more, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, more...)
	}
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	var src signalingSource
	consts := protocolCodes(t)
	// value resolves a string literal or a protocol.Code constant.
	value := func(e ast.Expr) (string, bool) {
		switch e := e.(type) {
		case *ast.BasicLit:
			s, err := strconv.Unquote(e.Value)
			return s, err == nil
		case *ast.SelectorExpr:
			if x, ok := e.X.(*ast.Ident); ok && x.Name == "protocol" {
				v, ok := consts[e.Sel.Name]
				return v, ok
			}
		}
		return "", false
	}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if fn, ok := n.Fun.(*ast.Ident); ok && fn.Name == "perr" && len(n.Args) > 0 {
					if v, ok := value(n.Args[0]); ok {
						src.errorCodes = append(src.errorCodes, v)
					}
				}
			case *ast.CompositeLit:
				var name *ast.Ident
				switch tn := n.Type.(type) {
				case *ast.Ident:
					name = tn
				case *ast.SelectorExpr:
					name = tn.Sel
				default:
					return true
				}
				for _, el := range n.Elts {
					kv, ok := el.(*ast.KeyValueExpr)
					if !ok {
						continue
					}
					key, _ := kv.Key.(*ast.Ident)
					if key == nil {
						continue
					}
					v, ok := value(kv.Value)
					switch {
					case name.Name == "protoError" && key.Name == "code" && ok,
						name.Name == "Error" && key.Name == "Code" && ok:
						src.errorCodes = append(src.errorCodes, v)
					case name.Name == "Bye" && key.Name == "Reason" && ok:
						src.byeReasons = append(src.byeReasons, v)
					case key.Name == "Type" && ok:
						src.sent = append(src.sent, sentLiteral{pos: fset.Position(n.Pos()).String(), typ: v, goType: name.Name})
					}
				}
			}
			return true
		})
	}
	if len(src.errorCodes) == 0 || len(src.byeReasons) == 0 || len(src.sent) == 0 {
		t.Fatal("found no codes, bye reasons or sent messages in the source")
	}
	return src
}

// stringConsts returns a file's string constants by name, those of the
// named type only if typ is set.
func stringConsts(f *ast.File, typ string) map[string]string {
	out := map[string]string{}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			if typ != "" {
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != typ {
					continue
				}
			}
			for i, name := range vs.Names {
				if i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if s, err := strconv.Unquote(lit.Value); err == nil {
						out[name.Name] = s
					}
				}
			}
		}
	}
	return out
}

// protocolCodes reads package protocol's Code constants by name.
func protocolCodes(t testing.TB) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../protocol/codes.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	return stringConsts(f, "Code")
}

// parseRoomConsts reads package room's Code and WaitReason constants;
// under "*", every string constant as name=value.
func parseRoomConsts(t testing.TB) map[string][]string {
	t.Helper()
	paths, err := filepath.Glob("../room/*.go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	fset := token.NewFileSet()
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, typ := range []string{"Code", "WaitReason"} {
			for _, v := range stringConsts(f, typ) {
				out[typ] = append(out[typ], v)
			}
		}
		for name, v := range stringConsts(f, "") {
			out["*"] = append(out["*"], name+"="+v)
		}
	}
	if len(out["Code"]) == 0 || len(out["WaitReason"]) == 0 {
		t.Fatal("found no room codes or waiting reasons")
	}
	return out
}

// typeName is the name of the struct a pointer points to.
func typeName(v any) string {
	return strings.TrimPrefix(fmt.Sprintf("%T", v), "*protocol.")
}

// TestProtocolDocumentsTokenClaims: the claims a join token is issued with
// (room/token.go) are the rows of PROTOCOL.md's claims table.
func TestProtocolDocumentsTokenClaims(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "../room/token.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The registered claims, by the field names jwt.RegisteredClaims gives them.
	registered := map[string]string{"Issuer": "iss", "Subject": "sub", "Audience": "aud", "ExpiresAt": "exp",
		"NotBefore": "nbf", "IssuedAt": "iat", "ID": "jti"}
	var claims []string
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.TypeSpec:
			if st, ok := n.Type.(*ast.StructType); ok && n.Name.Name == "jwtClaims" {
				for _, field := range st.Fields.List {
					if field.Tag != nil {
						tag, _ := strconv.Unquote(field.Tag.Value)
						if name, _, _ := strings.Cut(strings.TrimPrefix(tag, `json:"`), `"`); name != "" {
							claims = append(claims, name)
						}
					}
				}
			}
		case *ast.CompositeLit:
			if sel, ok := n.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "RegisteredClaims" {
				for _, el := range n.Elts {
					if kv, ok := el.(*ast.KeyValueExpr); ok {
						claims = append(claims, registered[kv.Key.(*ast.Ident).Name])
					}
				}
			}
		}
		return true
	})
	if len(claims) < 4 {
		t.Fatalf("found only claims %q in room/token.go", claims)
	}
	section := readProtocol(t).sections["Join tokens"]
	for _, c := range claims {
		if !strings.Contains(section, "| `"+c+"` |") {
			t.Errorf("token claim %q is not in PROTOCOL.md's claims table", c)
		}
	}
}
