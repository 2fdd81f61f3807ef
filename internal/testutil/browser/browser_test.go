package browser_test

import (
	"context"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/hearth-rtc/hearth/internal/testutil/browser"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const page = `<!doctype html>
<html><head><meta charset="utf-8"><title>t</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><button id="b">press</button><input id="i" aria-label="i">
<script src="/page.js"></script></body></html>`

const script = `
document.getElementById("b").addEventListener("click", () => {
  window.clicked = (window.clicked || 0) + 1;
  setTimeout(() => { window.later = true; }, 300);
});
console.error("boom from page");
`

func server(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	})
	mux.HandleFunc("/page.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, script)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestDesktop(t *testing.T) {
	srv := server(t)
	b := browser.New(t, browser.Desktop)
	ctx := t.Context()
	if err := b.Navigate(ctx, srv.URL); err != nil {
		t.Fatal(err)
	}
	var size [2]int
	if err := b.Eval(ctx, `[innerWidth, innerHeight]`, &size); err != nil {
		t.Fatal(err)
	}
	if size != [2]int{1280, 800} {
		t.Errorf("viewport = %v, want [1280 800]", size)
	}

	if err := b.Click(ctx, "#b"); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitJS(ctx, `window.later === true`, budget.Step); err != nil {
		t.Fatal(err)
	}
	// A condition that never holds must time out, on its own timeout
	// (not the caller's context), and say what it saw.
	bounded, cancel := budget.Context(t, budget.Step)
	defer cancel()
	err := b.WaitJS(bounded, `window.never.deref`, 300*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "never") {
		t.Errorf("WaitJS on a false condition = %v, want a timeout error", err)
	}
	if bounded.Err() != nil {
		t.Errorf("WaitJS with a 300ms timeout ran until its context ended")
	}
	// Promises are awaited.
	var n int
	if err := b.Eval(ctx, `new Promise(r => setTimeout(() => r(41 + window.clicked), 10))`, &n); err != nil || n != 42 {
		t.Errorf("Eval promise = %d, %v; want 42", n, err)
	}

	if err := b.Fill(ctx, "#i", "hello"); err != nil {
		t.Fatal(err)
	}
	var v string
	if err := b.Eval(ctx, `document.getElementById("i").value`, &v); err != nil || v != "hello" {
		t.Errorf("value after Fill = %q, %v", v, err)
	}

	if err := b.WaitJS(ctx, `true`, budget.Step); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range b.ConsoleErrors() {
		if strings.Contains(e, "boom from page") {
			found = true
		}
	}
	if !found {
		t.Errorf("ConsoleErrors = %q, want the page's console.error", b.ConsoleErrors())
	}
	reqs := b.Requests()
	if len(reqs) < 2 || !strings.HasSuffix(reqs[1], "/page.js") {
		t.Errorf("Requests = %q, want the page and its script", reqs)
	}
	if nl := b.NonLoopbackRequests(); len(nl) != 0 {
		t.Errorf("NonLoopbackRequests = %q", nl)
	}

	path := filepath.Join(t.TempDir(), "shot.png")
	if err := b.Screenshot(path); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 1280, 800)
}

func TestPhone(t *testing.T) {
	srv := server(t)
	b := browser.New(t, browser.Phone)
	ctx := t.Context()
	if err := b.Navigate(ctx, srv.URL); err != nil {
		t.Fatal(err)
	}
	var got struct {
		W, H  int
		DPR   float64
		Touch bool
	}
	if err := b.Eval(ctx, `({W: innerWidth, H: innerHeight, DPR: devicePixelRatio, Touch: navigator.maxTouchPoints > 0})`, &got); err != nil {
		t.Fatal(err)
	}
	if got.W != 390 || got.H != 844 || got.DPR != 2 || !got.Touch {
		t.Errorf("phone viewport = %+v, want 390x844 at 2x with touch", got)
	}
	path := filepath.Join(t.TempDir(), "phone.png")
	if err := b.Screenshot(path); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 780, 1688)
}

func TestCloseEndsProcesses(t *testing.T) {
	b := browser.New(t, browser.Desktop)
	if err := b.Eval(t.Context(), `1`, nil); err != nil {
		t.Fatal(err)
	}
	b.Close()
	b.Close() // a second call is harmless
	if err := b.Eval(context.Background(), `1`, nil); err == nil {
		t.Error("Eval after Close succeeded")
	}
}

func TestIsLocalURL(t *testing.T) {
	for u, want := range map[string]bool{
		"http://127.0.0.1:8080/":       true,
		"ws://127.0.0.1:1/ws":          true,
		"http://localhost/x":           true,
		"http://[::1]:9/":              true,
		"data:image/png;base64,AAAA":   true,
		"blob:http://127.0.0.1/abc":    true,
		"https://fonts.example.com/a":  false,
		"http://10.0.0.1/":             false,
		"http://127.evil.example.com/": false,
	} {
		if got := browser.IsLocalURL(u); got != want {
			t.Errorf("IsLocalURL(%q) = %v, want %v", u, got, want)
		}
	}
}

func checkPNG(t *testing.T, path string, w, h int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Width != w || cfg.Height != h {
		t.Errorf("%s is %dx%d, want %dx%d", filepath.Base(path), cfg.Width, cfg.Height, w, h)
	}
}
