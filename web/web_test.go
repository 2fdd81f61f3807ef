package web_test

import (
	"context"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"go.uber.org/goleak"

	"github.com/hearth-rtc/hearth/internal/testutil/browser"
	"github.com/hearth-rtc/hearth/web"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func get(t *testing.T, h http.Handler, method, path string, header http.Header) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func TestHandlerRoutes(t *testing.T) {
	h := web.Handler()
	index, err := os.ReadFile("static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path, contentType string
		status            int
		body              []byte // checked when not nil
	}{
		{"/", "text/html; charset=utf-8", 200, index},
		{"/index.html", "text/html; charset=utf-8", 200, index},
		{"/r/tuesday-grief", "text/html; charset=utf-8", 200, index},
		{"/r/Group_2.b", "text/html; charset=utf-8", 200, index},
		{"/assets/app.js", "text/javascript; charset=utf-8", 200, nil},
		{"/assets/signaling.js", "text/javascript; charset=utf-8", 200, nil},
		{"/assets/base.css", "text/css; charset=utf-8", 200, nil},
		{"/assets/favicon.svg", "image/svg+xml", 200, nil},
		{"/favicon.ico", "image/svg+xml", 200, nil},
		{"/r/", "", 404, nil},
		{"/r/a/b", "", 404, nil},
		{"/r/bad%20room", "", 404, nil},
		{"/r/" + strings.Repeat("x", 65), "", 404, nil},
		{"/assets/", "", 404, nil},
		{"/assets/nope.js", "", 404, nil},
		{"/assets/../embed.go", "", 404, nil},
		{"/static/app.js", "", 404, nil},
		{"/app.js", "", 404, nil},
		{"/ws", "", 404, nil},
	} {
		res := get(t, h, "GET", tc.path, nil)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != tc.status {
			t.Errorf("GET %s: status %d, want %d", tc.path, res.StatusCode, tc.status)
			continue
		}
		if tc.status != 200 {
			continue
		}
		if got := res.Header.Get("Content-Type"); got != tc.contentType {
			t.Errorf("GET %s: Content-Type %q, want %q", tc.path, got, tc.contentType)
		}
		if got := res.Header.Get("Cache-Control"); got != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q, want no-cache", tc.path, got)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no X-Content-Type-Options: nosniff", tc.path)
		}
		isHTML := strings.HasPrefix(tc.contentType, "text/html")
		if csp := res.Header.Get("Content-Security-Policy"); isHTML && csp != web.ContentSecurityPolicy {
			t.Errorf("GET %s: CSP %q", tc.path, csp)
		}
		if tc.body != nil && string(body) != string(tc.body) {
			t.Errorf("GET %s: body is not index.html", tc.path)
		}
	}
}

func TestHandlerMethodsAndCaching(t *testing.T) {
	h := web.Handler()
	res := get(t, h, "POST", "/", nil)
	if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /: %d, Allow %q", res.StatusCode, res.Header.Get("Allow"))
	}
	res = get(t, h, "HEAD", "/assets/app.js", nil)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Errorf("HEAD app.js: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	etag := get(t, h, "GET", "/assets/app.js", nil).Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	res = get(t, h, "GET", "/assets/app.js", http.Header{"If-None-Match": {etag}})
	if res.StatusCode != http.StatusNotModified {
		t.Errorf("GET with If-None-Match: %d, want 304", res.StatusCode)
	}
	if other := get(t, h, "GET", "/assets/base.css", nil).Header.Get("ETag"); other == etag {
		t.Error("two files have the same ETag")
	}
}

// TestStaticRules checks the client against the Content-Security-Policy it
// will be served with, and that it loads nothing from elsewhere.
func TestStaticRules(t *testing.T) {
	var (
		inlineScript = regexp.MustCompile(`(?i)<script\b[^>]*>\s*[^<\s]`)
		scriptTag    = regexp.MustCompile(`(?i)<script\b[^>]*>`)
		styleAttr    = regexp.MustCompile(`(?i)\sstyle\s*=`)
		styleBlock   = regexp.MustCompile(`(?i)<style\b`)
		handlerAttr  = regexp.MustCompile(`(?i)\son[a-z]+\s*=\s*["']`)
		jsURL        = regexp.MustCompile(`(?i)javascript:`)
		evalLike     = regexp.MustCompile(`\beval\s*\(|new\s+Function\s*\(|set(?:Timeout|Interval)\s*\(\s*['"\x60]|\.innerHTML\s*=|setAttribute\(\s*['"]style['"]`)
		remoteURL    = regexp.MustCompile(`(?i)(?:https?:|wss?:)?//[a-z0-9.-]+\.[a-z]{2,}[/"')\s]`)
		cssImport    = regexp.MustCompile(`(?i)@import|@font-face|url\(\s*['"]?(?:https?:)?//`)
	)
	err := fs.WalkDir(os.DirFS("static"), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(filepath.Join("static", p))
		if err != nil {
			return err
		}
		src := string(b)
		// XML namespaces name things; they are never fetched.
		src = strings.ReplaceAll(src, `xmlns="http://www.w3.org/2000/svg"`, "")
		check := func(re *regexp.Regexp, what string) {
			if loc := re.FindStringIndex(src); loc != nil {
				line := strings.Count(src[:loc[0]], "\n") + 1
				t.Errorf("%s:%d: %s: %q", p, line, what, src[loc[0]:min(loc[1]+20, len(src))])
			}
		}
		switch filepath.Ext(p) {
		case ".html":
			check(inlineScript, "inline script")
			for _, tag := range scriptTag.FindAllString(src, -1) {
				if !strings.Contains(tag, "src=") {
					t.Errorf("%s: script without src: %s", p, tag)
				}
			}
			check(styleAttr, "inline style attribute")
			check(styleBlock, "style block")
			check(handlerAttr, "inline event handler")
			check(jsURL, "javascript: URL")
			check(remoteURL, "URL of another host")
			if !strings.Contains(src, `<meta name="viewport" content="width=device-width`) {
				t.Errorf("%s: no viewport meta", p)
			}
		case ".js":
			check(evalLike, "eval, string timers, innerHTML or style attributes")
			check(remoteURL, "URL of another host")
		case ".css":
			check(cssImport, "imports, web fonts or remote URLs")
			check(remoteURL, "URL of another host")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestJoinScreen loads the client in Chromium at desktop and phone sizes and
// checks the join screen: the room comes from the link, every control has a
// name, text has enough contrast, focus is visible, targets are large, and
// nothing fails or leaves the machine.
func TestJoinScreen(t *testing.T) {
	for _, tc := range screenSizes {
		t.Run(tc.name, func(t *testing.T) {
			srv := serveClient(t, nil)
			b := browser.New(t, tc.opts)
			if err := b.Navigate(t.Context(), srv.URL+"/r/tuesday-grief"); err != nil {
				t.Fatal(err)
			}
			wait(t, b, `document.body.dataset.ready === "true"`)
			installChecks(t, b)

			if got := eval[string](t, b, `document.getElementById("room").value`); got != "tuesday-grief" {
				t.Errorf("room field = %q, want tuesday-grief from the link", got)
			}
			if got := eval[string](t, b, `document.body.dataset.screen`); got != "join" {
				t.Errorf("screen = %q, want join", got)
			}
			if !eval[bool](t, b, `!document.getElementById("join-screen").hidden && document.getElementById("call-screen").hidden`) {
				t.Error("join screen not the only screen shown")
			}
			noneOf(t, "controls without an accessible name", eval[[]string](t, b, `__checks.unnamed()`))
			noneOf(t, "text under WCAG AA contrast", eval[[]string](t, b, `__checks.lowContrast(4.5)`))
			noneOf(t, "targets smaller than 44px", eval[[]string](t, b, `__checks.smallTargets(44)`))
			if eval[bool](t, b, `document.documentElement.scrollWidth > innerWidth`) {
				t.Error("the page scrolls sideways")
			}
			if got := eval[string](t, b, `document.activeElement.id || document.activeElement.tagName`); got != "BODY" {
				t.Logf("focus on load: %s", got)
			}
			tabUntil(t, b, "#join-button", 8)

			shot(t, b, "join-"+tc.name)
			checkClean(t, b)
		})
	}
}

// TestJoinValidation submits the form with problems and checks the messages
// and focus, with the room taken from ?room=.
func TestJoinValidation(t *testing.T) {
	srv := serveClient(t, nil)
	b := browser.New(t, browser.Desktop)
	if err := b.Navigate(t.Context(), srv.URL+"/?room=Thursday.circle"); err != nil {
		t.Fatal(err)
	}
	wait(t, b, `document.body.dataset.ready === "true"`)
	if got := eval[string](t, b, `document.getElementById("room").value`); got != "Thursday.circle" {
		t.Errorf("room field = %q, want Thursday.circle from ?room=", got)
	}
	click(t, b, "#join-button")
	wait(t, b, `!document.getElementById("name-error").hidden`)
	if !eval[bool](t, b, `document.activeElement.id === "name" && document.getElementById("name").getAttribute("aria-invalid") === "true"`) {
		t.Error("an empty name did not focus and mark the name field")
	}
	fill(t, b, "#room", "not a room!")
	fill(t, b, "#name", "Ann")
	click(t, b, "#join-button")
	wait(t, b, `!document.getElementById("room-error").hidden && document.activeElement.id === "room"`)
	if !eval[bool](t, b, `document.getElementById("name-error").hidden`) {
		t.Error("the name error stayed after the name was given")
	}
	if !eval[bool](t, b, `document.getElementById("room").getAttribute("aria-describedby").includes("room-error")`) {
		t.Error("the room error is not tied to its field")
	}
	if got := eval[string](t, b, `document.body.dataset.screen`); got != "join" {
		t.Errorf("screen = %q after invalid input, want join", got)
	}
	shot(t, b, "join-errors")
	checkClean(t, b)
}

// TestInviteToken checks that a token in the fragment makes the name
// optional, leaves the address bar, and goes in the join message only.
func TestInviteToken(t *testing.T) {
	fake := newFakeSignaling(t)
	srv := serveClient(t, fake)
	b := browser.New(t, browser.Desktop)
	if err := b.Navigate(t.Context(), srv.URL+"/r/closed-group#token=abc.def.ghi"); err != nil {
		t.Fatal(err)
	}
	wait(t, b, `document.body.dataset.ready === "true"`)
	if got := eval[string](t, b, `location.href`); strings.Contains(got, "abc.def") {
		t.Errorf("the token is still in the address: %s", got)
	}
	if !eval[bool](t, b, `!document.getElementById("name-optional").hidden && !document.getElementById("name").required`) {
		t.Error("the name is not optional with a token")
	}
	click(t, b, "#join-button")
	_, join := fake.accept(t)
	if join["token"] != "abc.def.ghi" || join["room"] != "closed-group" {
		t.Errorf("join = %v, want the token and the room", join)
	}
	if _, ok := join["name"]; ok {
		t.Errorf("join has a name although none was typed: %v", join)
	}
	for _, r := range b.Requests() {
		if strings.Contains(r, "abc.def") {
			t.Errorf("the token was sent in a request: %s", r)
		}
	}
	// A reload keeps the invitation for this tab.
	if err := b.Navigate(t.Context(), srv.URL+"/r/closed-group"); err != nil {
		t.Fatal(err)
	}
	wait(t, b, `document.body.dataset.ready === "true"`)
	if !eval[bool](t, b, `!document.getElementById("name-optional").hidden`) {
		t.Error("the invitation was forgotten on reload")
	}
	checkClean(t, b)
}

// TestReducedMotion checks that animations stop when the person asks for
// less motion.
func TestReducedMotion(t *testing.T) {
	srv := serveClient(t, nil)
	b := browser.New(t, browser.Desktop)
	animations := `["#waiting-screen .breath span", "#status .status-dot"].map(s => getComputedStyle(document.querySelector(s)).animationName)`
	if err := b.Navigate(t.Context(), srv.URL); err != nil {
		t.Fatal(err)
	}
	wait(t, b, `document.body.dataset.ready === "true"`)
	if got := eval[[]string](t, b, animations); got[0] != "breathe" || got[1] != "pulse" {
		t.Fatalf("animations = %q, want breathe and pulse", got)
	}
	err := b.Run(t.Context(), chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
		_, err := cdp.Call(ctx, tgt, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-reduced-motion", Value: "reduce"}},
		})
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got := eval[[]string](t, b, animations); got[0] != "none" || got[1] != "none" {
		t.Errorf("with reduced motion, animations = %q, want none", got)
	}
	checkClean(t, b)
}
