// Package web holds Hearth's browser client: plain HTML, CSS and JavaScript
// modules with no build step, embedded in the binary.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// ContentSecurityPolicy is sent with the HTML of the client. The client
// needs nothing more: it has no inline script or style, and loads nothing
// from other origins.
const ContentSecurityPolicy = "default-src 'self'; connect-src 'self' ws: wss:; " +
	"img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; script-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// file is one embedded file, ready to serve.
type file struct {
	name        string
	body        []byte
	contentType string
	etag        string
}

var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
	".json": "application/json",
	".txt":  "text/plain; charset=utf-8",
}

// Handler serves the client. It answers:
//
//   - "/" and "/r/{room}" with index.html, so that a join link such as
//     /r/tuesday-grief opens the client with the room filled in;
//   - "/assets/{file}" with the scripts, styles and images;
//   - anything else with 404.
//
// Every response says Cache-Control: no-cache and has an ETag, so browsers
// check for a new version cheaply. Only GET and HEAD are allowed.
func Handler() http.Handler {
	files := map[string]*file{}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ct := contentTypes[path.Ext(p)]
		if ct == "" {
			ct = "application/octet-stream"
		}
		name := strings.TrimPrefix(p, "static/")
		files[name] = &file{
			name:        name,
			body:        body,
			contentType: ct,
			etag:        `"` + hex.EncodeToString(sum[:12]) + `"`,
		}
		return nil
	})
	if err != nil {
		panic("web: reading the embedded client: " + err.Error())
	}
	index := files["index.html"]
	if index == nil {
		panic("web: the embedded client has no index.html")
	}

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		p := r.URL.Path
		var f *file
		switch {
		case p == "/" || p == "/index.html":
			f = index
		case isRoomPath(p):
			f = index
		case strings.HasPrefix(p, "/assets/"):
			name := strings.TrimPrefix(p, "/assets/")
			if name != "index.html" {
				f = files[name]
			}
		case p == "/favicon.ico":
			f = files["favicon.svg"]
		}
		if f == nil {
			http.NotFound(w, r)
			return
		}
		serve(w, r, f)
	})
}

// isRoomPath reports whether p is /r/{room} with a room made of the
// characters the protocol allows. The client checks the length and shows a
// message for a bad name, so the server only needs to avoid odd paths.
func isRoomPath(p string) bool {
	room, ok := strings.CutPrefix(p, "/r/")
	if !ok || room == "" || len(room) > 64 {
		return false
	}
	for _, c := range room {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

func serve(w http.ResponseWriter, r *http.Request, f *file) {
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", f.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	if f.name == "index.html" {
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Permissions-Policy", "camera=(self), microphone=(self), display-capture=(self), geolocation=()")
		h.Set("X-Frame-Options", "DENY")
	}
	// ServeContent answers If-None-Match and Range requests; the embedded
	// files have no modification time.
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.body))
}
