package firefox_test

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

	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/firefox"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const page = `<!doctype html>
<html><head><meta charset="utf-8"><title>t</title></head>
<body><button id="b">press</button><input id="i" aria-label="i">
<script src="/page.js"></script></body></html>`

const script = `
document.getElementById("b").addEventListener("click", (ev) => {
  window.clicked = (window.clicked || 0) + (ev.isTrusted ? 1 : 100);
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

// TestBrowser drives one browser through every command, then closes it.
func TestBrowser(t *testing.T) {
	srv := server(t)
	b := firefox.New(t, firefox.Desktop)
	ctx := t.Context()
	if !strings.HasPrefix(b.Version(), "firefox/") {
		t.Errorf("Version = %q", b.Version())
	}
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
	var n int
	if err := b.Eval(ctx, `window.clicked`, &n); err != nil || n != 1 {
		t.Errorf("clicks = %d, %v; want one trusted click", n, err)
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
	// Promises are awaited; scripts give their last value.
	if err := b.Eval(ctx, `new Promise(r => setTimeout(() => r(41 + window.clicked), 10))`, &n); err != nil || n != 42 {
		t.Errorf("Eval promise = %d, %v; want 42", n, err)
	}
	if err := b.Eval(ctx, `window.x = 2; window.x + 1`, &n); err != nil || n != 3 {
		t.Errorf("Eval script = %d, %v; want 3", n, err)
	}
	if err := b.Eval(ctx, `undefined`, nil); err != nil {
		t.Errorf("Eval undefined: %v", err)
	}
	if err := b.Eval(ctx, `null.x`, nil); err == nil {
		t.Error("Eval of a throwing expression succeeded")
	}

	if err := b.Fill(ctx, "#i", "hello"); err != nil {
		t.Fatal(err)
	}
	if err := b.Fill(ctx, "#i", "héllo again"); err != nil {
		t.Fatal(err)
	}
	var v string
	if err := b.Eval(ctx, `document.getElementById("i").value`, &v); err != nil || v != "héllo again" {
		t.Errorf("value after Fill = %q, %v", v, err)
	}

	if errs := b.ConsoleErrors(); len(errs) != 1 || !strings.Contains(errs[0], "boom from page") {
		t.Errorf("ConsoleErrors = %q, want the page's console.error", errs)
	}
	reqs := b.Requests()
	if len(reqs) < 2 || !strings.HasSuffix(reqs[1], "/page.js") {
		t.Errorf("Requests = %q, want the page and its script", reqs)
	}
	if nl := b.NonLoopbackRequests(); len(nl) != 0 {
		t.Errorf("NonLoopbackRequests = %q", nl)
	}
	b.ClearLogs()
	if len(b.ConsoleMessages())+len(b.Requests()) != 0 {
		t.Error("ClearLogs kept something")
	}

	path := filepath.Join(t.TempDir(), "shot.png")
	if err := b.Screenshot(path); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Width != 1280 || cfg.Height != 800 {
		t.Errorf("screenshot is %dx%d, want 1280x800", cfg.Width, cfg.Height)
	}

	media(t, b)

	b.Close()
	b.Close() // a second call is harmless
	if err := b.Eval(context.Background(), `1`, nil); err == nil {
		t.Error("Eval after Close succeeded")
	}
}

// media checks that the fake devices start without a prompt, and that ICE
// candidates are UDP host candidates with addresses, not mDNS names,
// 127.0.0.1 among them; no STUN server is used.
func media(t *testing.T, b *firefox.Browser) {
	t.Helper()
	ctx := t.Context()
	var got struct {
		Tracks     []string
		Candidates []string
	}
	err := b.Eval(ctx, `(async () => {
		const s = await navigator.mediaDevices.getUserMedia({audio: true, video: true});
		const pc = new RTCPeerConnection();
		s.getTracks().forEach((t) => pc.addTrack(t, s));
		const done = new Promise((r) => pc.addEventListener("icegatheringstatechange", () => pc.iceGatheringState === "complete" && r()));
		await pc.setLocalDescription();
		await done;
		const out = {Tracks: s.getTracks().map((t) => t.kind + ":" + t.readyState),
			Candidates: pc.localDescription.sdp.split("\r\n").filter((l) => l.startsWith("a=candidate:"))};
		pc.close();
		s.getTracks().forEach((t) => t.stop());
		return out;
	})()`, &got)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.Tracks, " ") != "audio:live video:live" {
		t.Errorf("fake devices gave %q", got.Tracks)
	}
	loopback := false
	for _, c := range got.Candidates {
		f := strings.Fields(c)
		if len(f) < 8 || strings.HasSuffix(f[4], ".local") || f[7] != "host" || strings.EqualFold(f[2], "tcp") {
			t.Errorf("candidate %q: want UDP host candidates with real addresses", c)
			continue
		}
		loopback = loopback || f[4] == "127.0.0.1"
	}
	if !loopback {
		t.Errorf("no candidate on 127.0.0.1 among %q", got.Candidates)
	}
}

// A missing browser skips the test, outside CI.
func TestMissing(t *testing.T) {
	t.Setenv("CI", "false")
	var ran bool
	t.Run("missing", func(t *testing.T) {
		ran = true
		firefox.New(t, firefox.Options{ExecPath: "/nonexistent/firefox"})
		t.Error("New returned without a browser")
	})
	if !ran {
		t.Fatal("the subtest did not run")
	}
}
