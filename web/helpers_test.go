package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/browser"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/web"
)

// page is a browser tab that the helpers drive: headless Chromium
// (browser.Browser) or Firefox (firefox.Browser).
type page interface {
	Eval(ctx context.Context, expr string, out any) error
	WaitJS(ctx context.Context, expr string, timeout time.Duration) error
	Click(ctx context.Context, sel string) error
	Fill(ctx context.Context, sel, text string) error
	Screenshot(path string) error
	ConsoleMessages() []string
	ConsoleErrors() []string
	NonLoopbackRequests() []string
}

// screenSizes are the two sizes the client is looked at in: a laptop's
// 1280 by 800 and a phone's 390 by 844.
var screenSizes = []struct {
	name string
	opts browser.Options
}{{"desktop", browser.Desktop}, {"phone", browser.Phone}}

// shot saves a screenshot of b as name.png in a temporary directory, and
// also in $HEARTH_SHOTS_DIR when that is set (for looking at the design).
func shot(t *testing.T, b page, name string) {
	t.Helper()
	dirs := []string{t.TempDir()}
	if d := os.Getenv("HEARTH_SHOTS_DIR"); d != "" {
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		if err := b.Screenshot(filepath.Join(d, name+".png")); err != nil {
			t.Errorf("screenshot %s: %v", name, err)
		}
	}
}

// checkClean fails the test on console errors and on requests that left the
// loopback interface.
func checkClean(t *testing.T, b page) {
	t.Helper()
	for _, e := range b.ConsoleErrors() {
		t.Errorf("console error: %s", e)
	}
	for _, r := range b.NonLoopbackRequests() {
		t.Errorf("request to a non-loopback host: %s", r)
	}
}

// serveClient serves the embedded client, plus /ws when ws is not nil, on
// 127.0.0.1.
func serveClient(t *testing.T, ws http.Handler) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/", web.Handler())
	if ws != nil {
		mux.Handle("/ws", ws)
	}
	srv := httptest.NewServer(mux) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	return srv
}

// wait is WaitJS that fails the test.
func wait(t *testing.T, b page, expr string) {
	t.Helper()
	if err := b.WaitJS(t.Context(), expr, budget.Step); err != nil {
		t.Fatalf("%v\nconsole: %q", err, b.ConsoleMessages())
	}
}

func eval[T any](t *testing.T, b page, expr string) T {
	t.Helper()
	var v T
	if err := b.Eval(t.Context(), expr, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func click(t *testing.T, b page, sel string) {
	t.Helper()
	if err := b.Click(t.Context(), sel); err != nil {
		t.Fatal(err)
	}
}

func fill(t *testing.T, b page, sel, text string) {
	t.Helper()
	if err := b.Fill(t.Context(), sel, text); err != nil {
		t.Fatal(err)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// ------------------------------------------------------------ fake server

// fakeSignaling is a websocket endpoint that the test drives by hand: it
// hands each new connection to the test, which reads the client's messages
// and sends whatever the scenario needs. It makes no media.
type fakeSignaling struct {
	t     *testing.T
	conns chan *fakeConn
	wg    sync.WaitGroup

	mu  sync.Mutex
	all []*fakeConn
}

type fakeConn struct {
	ws      *websocket.Conn
	in      chan map[string]any
	writeMu sync.Mutex
}

func newFakeSignaling(t *testing.T) *fakeSignaling {
	f := &fakeSignaling{t: t, conns: make(chan *fakeConn, 16)}
	t.Cleanup(func() {
		f.mu.Lock()
		for _, c := range f.all {
			c.ws.Close()
		}
		f.mu.Unlock()
		f.wg.Wait()
	})
	return f
}

func (f *fakeSignaling) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.wg.Add(1)
	defer f.wg.Done()
	up := websocket.Upgrader{}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &fakeConn{ws: ws, in: make(chan map[string]any, 256)}
	f.mu.Lock()
	f.all = append(f.all, c)
	f.mu.Unlock()
	f.conns <- c
	defer close(c.in)
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		var m map[string]any
		if json.Unmarshal(data, &m) != nil {
			f.t.Errorf("client sent a frame that is not JSON: %q", data)
			continue
		}
		c.in <- m
	}
}

// accept waits for the next connection and its join message.
func (f *fakeSignaling) accept(t *testing.T) (*fakeConn, map[string]any) {
	t.Helper()
	select {
	case c := <-f.conns:
		return c, c.expect(t, "join")
	case <-time.After(budget.Timeout(t, budget.Step)):
		t.Fatal("no websocket connection from the client")
		return nil, nil
	}
}

// expect returns the next message of one of the given types, skipping others
// (pings and candidates, usually).
func (c *fakeConn) expect(t *testing.T, types ...string) map[string]any {
	t.Helper()
	deadline := time.After(budget.Timeout(t, budget.Step))
	for {
		select {
		case m, ok := <-c.in:
			if !ok {
				t.Fatalf("socket closed while waiting for %v", types)
			}
			if typ, _ := m["type"].(string); slices.Contains(types, typ) {
				return m
			}
		case <-deadline:
			t.Fatalf("no %v message from the client", types)
			return nil
		}
	}
}

// none fails if a message of one of the types arrives within d.
func (c *fakeConn) none(t *testing.T, d time.Duration, types ...string) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case m, ok := <-c.in:
			if !ok {
				return
			}
			if typ, _ := m["type"].(string); slices.Contains(types, typ) {
				t.Fatalf("unexpected message from the client: %v", m)
			}
		case <-deadline:
			return
		}
	}
}

func (c *fakeConn) send(t *testing.T, msg string) {
	t.Helper()
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if !json.Valid([]byte(msg)) {
		t.Fatalf("test bug: invalid JSON %s", msg)
	}
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		t.Fatalf("send %s: %v", msg, err)
	}
}

// drop closes the socket without a close frame, as a network failure would.
func (c *fakeConn) drop() { c.ws.NetConn().Close() }

// ------------------------------------------------------------ page checks

// pageChecks is JavaScript that defines window.__checks with helpers to
// inspect the page: accessible names, colour contrast and focus styles.
const pageChecks = `
window.__checks = (() => {
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
  };
  const parse = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const lum = ({ r, g, b }) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  // The first background behind el that is mostly opaque.
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a >= 0.5) return c;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  const contrast = (a, b) => {
    const x = lum(a), y = lum(b);
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  };
  const describe = (el) => el.id ? '#' + el.id : el.tagName.toLowerCase() + '.' + [...el.classList].join('.') + ' "' + el.textContent.trim().slice(0, 30) + '"';
  const name = (el) => {
    if (el.getAttribute('aria-label')) return el.getAttribute('aria-label');
    const lb = el.getAttribute('aria-labelledby');
    if (lb) return lb.split(/\s+/).map((id) => (document.getElementById(id) || {}).textContent || '').join(' ').trim();
    if (el.labels && el.labels.length) return [...el.labels].map((l) => l.textContent).join(' ').trim();
    if (el.tagName === 'BUTTON') return el.textContent.trim();
    return '';
  };
  return {
    // Form controls and buttons on screen without an accessible name.
    unnamed() {
      return [...document.querySelectorAll('input, select, textarea, button')]
        .filter(visible).filter((el) => !name(el)).map(describe);
    },
    // Text on screen whose contrast is under min (4.5 for body text, WCAG AA).
    lowContrast(min) {
      const out = [];
      for (const el of document.querySelectorAll('body *')) {
        const hasText = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
        if (!hasText || !visible(el) || el.closest('.visually-hidden')) continue;
        const s = getComputedStyle(el);
        const fg = parse(s.color);
        let limit = min;
        const size = parseFloat(s.fontSize), bold = parseInt(s.fontWeight, 10) >= 700;
        if (size >= 24 || (bold && size >= 18.66)) limit = 3;
        const opacity = parseFloat(s.opacity);
        if (el.closest('button:disabled')) continue; // disabled controls are exempt
        const ratio = contrast(fg, background(el));
        if (ratio < limit || opacity < 1) out.push(describe(el) + ' ' + ratio.toFixed(2));
      }
      return out;
    },
    // The focused element and whether its focus indicator is visible.
    focus() {
      const el = document.activeElement;
      if (!el || el === document.body) return { el: 'body', visible: false };
      const s = getComputedStyle(el);
      const width = parseFloat(s.outlineWidth) || 0;
      const color = parse(s.outlineColor);
      const ratio = color ? contrast(color, background(el.parentElement || el)) : 0;
      return { el: describe(el), visible: s.outlineStyle !== 'none' && width >= 2 && ratio >= 3, width, ratio };
    },
    // Interactive elements on screen smaller than size x size CSS pixels.
    smallTargets(size) {
      return [...document.querySelectorAll('button, input, a[href], label.check')]
        .filter(visible).filter((el) => el.type !== 'checkbox')
        .map((el) => ({ el, r: el.getBoundingClientRect() }))
        .filter(({ r }) => r.height < size || r.width < size)
        .map(({ el, r }) => describe(el) + ' ' + Math.round(r.width) + 'x' + Math.round(r.height));
    },
  };
})();
true`

func installChecks(t *testing.T, b *browser.Browser) {
	t.Helper()
	if err := b.Eval(t.Context(), pageChecks, nil); err != nil {
		t.Fatal(err)
	}
}

// tabUntil presses Tab until sel has focus, checking that every stop has a
// visible focus indicator, and fails after max presses.
func tabUntil(t *testing.T, b *browser.Browser, sel string, max int) {
	t.Helper()
	for range max {
		if err := b.Press(t.Context(), "\t"); err != nil {
			t.Fatal(err)
		}
		var f struct {
			El      string
			Visible bool
			Width   float64
			Ratio   float64
		}
		if err := b.Eval(t.Context(), `__checks.focus()`, &f); err != nil {
			t.Fatal(err)
		}
		if !f.Visible {
			t.Errorf("focus on %s is not visible (outline %.1fpx, contrast %.2f)", f.El, f.Width, f.Ratio)
		}
		if eval[bool](t, b, `document.activeElement === document.querySelector(`+jsString(sel)+`)`) {
			return
		}
	}
	t.Fatalf("%s not reached after %d tabs", sel, max)
}

func noneOf(t *testing.T, what string, items []string) {
	t.Helper()
	if len(items) > 0 {
		t.Errorf("%s:\n  %s", what, strings.Join(items, "\n  "))
	}
}

// connectMedia connects the browser's peer connection to a pion peer of
// the test's, as a real server's first offer would: sections for the
// browser's microphone and camera, receiving only. The page then shows a
// call that is connected, as people see it; nothing is forwarded. It
// returns the test's peer, for offers after the first (offerMedia).
func (c *fakeConn) connectMedia(t *testing.T, b page) *webrtc.PeerConnection {
	t.Helper()
	api, err := client.NewAPI()
	if err != nil {
		t.Fatal(err)
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	c.offerMedia(t, pc)
	wait(t, b, `hearth.state === "connected"`)
	return pc
}

// offerMedia sends the browser an offer of pc's and returns the browser's
// answer, set on pc.
func (c *fakeConn) offerMedia(t *testing.T, pc *webrtc.PeerConnection) string {
	t.Helper()
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	sdp, _ := json.Marshal(map[string]string{"type": "offer", "sdp": pc.LocalDescription().SDP})
	c.send(t, string(sdp))
	answer, _ := c.expect(t, "answer")["sdp"].(string)
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatal(err)
	}
	return answer
}
