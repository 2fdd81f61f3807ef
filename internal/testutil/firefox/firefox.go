// Package firefox drives a headless Debian Firefox ESR from Go tests, over
// WebDriver BiDi.
//
// The BiDi client is puppeteer-core from npm, pinned in testdata/bidi and
// installed there by scripts/test (npm ci). A small Node.js script of that
// folder (driver.mjs) launches Firefox and takes commands from the Go side
// as JSON lines. The browser gets fake camera and microphone devices, no
// permission prompts, ICE host candidates with real addresses (no mDNS
// names), loopback candidates accepted, and no default STUN server.
//
//	ff := firefox.New(t, firefox.Desktop)
//	if err := ff.Navigate(ctx, srv.URL); err != nil { ... }
//	if err := ff.WaitJS(ctx, `document.querySelector("#join-button") !== null`, budget.Step); err != nil { ... }
//
// New registers its own cleanup: the browser and the driver end, and every
// goroutine of the helper stops, before the test ends, so tests can check
// for leaks with goleak. When Firefox, Node.js or the driver's packages are
// missing the test is skipped, except under CI=true, where it fails.
package firefox

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/testutil/browser"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
)

// Prefs returns the Firefox preferences every browser of this package gets,
// besides those puppeteer-core sets for automation (no updates, no
// telemetry uploads, no safe-browsing lookups).
func Prefs() map[string]any {
	return map[string]any{
		// Fake camera and microphone, allowed without a prompt, and
		// counted as capturing: only a page that captures (or holds a
		// camera or microphone permission) gathers candidates on every
		// interface, loopback included; others get the default route's
		// address alone.
		"media.navigator.streams.fake":        true,
		"media.navigator.permission.disabled": true,
		"media.navigator.permission.fake":     true,
		// ICE on this machine: accept the server's 127.0.0.1 candidates,
		// show real host addresses rather than mDNS names, UDP only, and
		// no STUN server unless the page names one.
		"media.peerconnection.ice.loopback":                 true,
		"media.peerconnection.ice.obfuscate_host_addresses": false,
		"media.peerconnection.ice.tcp":                      false,
		"media.peerconnection.default_iceservers":           "[]",
		// Nothing else leaves the machine: no captive-portal or
		// connectivity probes, no push service, no DNS over HTTPS, no
		// OpenH264 download, no region lookup, no prefetching.
		"network.captive-portal-service.enabled": false,
		"network.connectivity-service.enabled":   false,
		"dom.push.connection.enabled":            false,
		"network.trr.mode":                       5,
		"media.gmp-gmpopenh264.enabled":          false,
		"media.gmp-manager.url":                  "",
		"browser.region.update.enabled":          false,
		"browser.region.network.url":             "",
		"network.predictor.enabled":              false,
		"network.prefetch-next":                  false,
		"network.dns.disablePrefetch":            true,
		"toolkit.telemetry.server":               "",
		"extensions.systemAddon.update.enabled":  false,
	}
}

// Options choose the window of a browser.
type Options struct {
	// Width and Height are the size of the viewport in CSS pixels; zero
	// values mean 1280x800.
	Width, Height int

	// ExecPath is the browser binary. Empty means /usr/bin/firefox-esr, or
	// firefox-esr or firefox from PATH.
	ExecPath string
}

// Desktop is the window size of a laptop.
var Desktop = Options{Width: 1280, Height: 800}

// Browser is one headless Firefox with one tab, and the Node.js driver that
// speaks BiDi to it.
//
// Lifecycle: New starts both; Close (also a cleanup of the test) ends them;
// a closed Browser answers every command with an error.
type Browser struct {
	t          testing.TB
	opts       Options
	version    string
	profileDir string

	cmd      *exec.Cmd
	stdin    io.WriteCloser
	stderr   *tail
	writeMu  sync.Mutex
	exited   chan struct{} // closed when the driver has exited
	readDone chan struct{} // closed when its output has been read to the end
	closeOne sync.Once

	mu       sync.Mutex
	nextID   int64
	pending  map[int64]chan message
	console  []string
	errors   []string
	requests []string
}

// message is one line of the driver: a reply or an event.
type message struct {
	ID    int64           `json:"id"`
	Value json.RawMessage `json:"value"`
	Error *string         `json:"error"`
	Event string          `json:"event"`
	Type  string          `json:"type"`
	Text  string          `json:"text"`
	URL   string          `json:"url"`
	Line  int             `json:"line"`
}

// command is one line to the driver.
type command struct {
	ID       int64  `json:"id"`
	Op       string `json:"op"`
	URL      string `json:"url,omitempty"`
	Expr     string `json:"expr,omitempty"`
	Selector string `json:"selector,omitempty"`
	Text     string `json:"text,omitempty"`
	Path     string `json:"path,omitempty"`
	Timeout  int64  `json:"timeout,omitempty"` // milliseconds
}

// FindFirefox returns the path of the Firefox binary: path itself when it is
// not empty, else /usr/bin/firefox-esr, else firefox-esr or firefox from
// PATH.
func FindFirefox(path string) (string, error) {
	candidates := []string{"/usr/bin/firefox-esr", "firefox-esr", "firefox"}
	if path != "" {
		candidates = []string{path}
	}
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no Firefox binary found (looked for %s)", strings.Join(candidates, ", "))
}

// DriverDir is the folder of the driver script and its npm packages.
func DriverDir() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot tell where the firefox package's source is")
	}
	return filepath.Join(filepath.Dir(file), "testdata", "bidi"), nil
}

// missing skips the test, or fails it under CI=true.
func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("firefox: %s. CI must have it: ./scripts/test installs it", msg)
	}
	t.Skipf("firefox: %s; ./scripts/test installs it", msg)
}

// New starts a headless Firefox with a fresh profile and one blank tab. It
// skips the test when Firefox, Node.js or puppeteer-core is missing, or
// fails it when the environment has CI=true. The browser is closed when the
// test ends.
func New(t testing.TB, opts Options) *Browser {
	t.Helper()
	exe, err := FindFirefox(opts.ExecPath)
	if err != nil {
		missing(t, "%v (apt-get install firefox-esr)", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing(t, "no Node.js for the WebDriver BiDi client (apt-get install nodejs npm)")
	}
	dir, err := DriverDir()
	if err != nil {
		t.Fatalf("firefox: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "puppeteer-core", "package.json")); err != nil {
		missing(t, "puppeteer-core is not installed in %s (npm ci there)", dir)
	}
	if opts.Width == 0 || opts.Height == 0 {
		opts.Width, opts.Height = Desktop.Width, Desktop.Height
	}

	profileDir := t.TempDir()
	config, err := json.Marshal(map[string]any{
		"executablePath": exe,
		"profileDir":     profileDir,
		"width":          opts.Width,
		"height":         opts.Height,
		"prefs":          Prefs(),
	})
	if err != nil {
		t.Fatalf("firefox: config: %v", err)
	}
	b := &Browser{t: t, opts: opts, profileDir: profileDir, stderr: &tail{}, exited: make(chan struct{}), readDone: make(chan struct{}),
		pending: map[int64]chan message{}}
	b.cmd = exec.Command(node, filepath.Join(dir, "driver.mjs"), string(config))
	b.cmd.Dir = dir
	b.cmd.Stderr = b.stderr
	// Firefox's processes may outlive the driver for a moment while holding
	// its stderr; Wait does not wait for them longer than this.
	b.cmd.WaitDelay = 5 * time.Second
	ownGroup(b.cmd)
	stdin, err := b.cmd.StdinPipe()
	if err != nil {
		t.Fatalf("firefox: %v", err)
	}
	stdout, err := b.cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("firefox: %v", err)
	}
	b.stdin = stdin
	start := time.Now()
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("firefox: start the driver: %v", err)
	}
	ready := make(chan string, 1)
	go b.read(stdout, ready)
	go func() {
		_ = b.cmd.Wait()
		close(b.exited)
	}()
	t.Cleanup(b.Close)

	// A start is the heaviest step of a browser test (several processes load
	// a large binary): a few seconds on an idle machine, many where other
	// test runs start browsers too, so it gets a budget of its own.
	wait := budget.Timeout(t, budget.Test)
	watchdog := time.NewTimer(wait)
	defer watchdog.Stop()
	select {
	case b.version = <-ready:
	case <-b.readDone:
		t.Fatalf("firefox: the driver ended before the browser was ready; its output:\n%s", b.stderr)
	case <-watchdog.C:
		b.Close()
		t.Fatalf("firefox: not started within %v; its output:\n%s", wait.Round(time.Second), b.stderr)
	}
	if d := time.Since(start); d > budget.Step/4 {
		t.Logf("firefox: started in %v (a busy machine)", d.Round(time.Second))
	}
	return b
}

// read hands the driver's replies to their callers and keeps its events,
// until its output ends.
func (b *Browser) read(stdout io.Reader, ready chan<- string) {
	defer close(b.readDone)
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		var m message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			b.stderr.Write([]byte("driver output that is not JSON: " + browser.Short(sc.Text()) + "\n"))
			continue
		}
		b.mu.Lock()
		switch m.Event {
		case "":
			if ch, ok := b.pending[m.ID]; ok {
				delete(b.pending, m.ID)
				ch <- m
			}
		case "ready":
			ready <- m.Text
		case "console":
			s := m.Type + ": " + m.Text
			if m.URL != "" {
				s += fmt.Sprintf(" (%s:%d)", m.URL, m.Line+1)
			}
			b.console = append(b.console, s)
			if m.Type == "error" || m.Type == "assert" {
				b.errors = append(b.errors, s)
			}
		case "pageerror":
			s := "exception: " + m.Text
			b.console = append(b.console, s)
			b.errors = append(b.errors, s)
		case "request":
			b.requests = append(b.requests, m.URL)
		}
		b.mu.Unlock()
	}
	// A browser that is gone answers nothing more.
	b.mu.Lock()
	for id, ch := range b.pending {
		delete(b.pending, id)
		gone := "the browser has closed"
		ch <- message{ID: id, Error: &gone}
	}
	b.mu.Unlock()
}

// call sends c and waits for its reply, until ctx ends.
func (b *Browser) call(ctx context.Context, c command) (json.RawMessage, error) {
	ch := make(chan message, 1)
	b.mu.Lock()
	select {
	case <-b.readDone:
		b.mu.Unlock()
		return nil, errors.New("the browser has closed")
	default:
	}
	b.nextID++
	c.ID = b.nextID
	b.pending[c.ID] = ch
	b.mu.Unlock()
	if dl, ok := ctx.Deadline(); ok && c.Timeout == 0 {
		c.Timeout = max(time.Until(dl).Milliseconds(), 1)
	}
	line, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	b.writeMu.Lock()
	_, err = b.stdin.Write(append(line, '\n'))
	b.writeMu.Unlock()
	if err != nil {
		b.forget(c.ID)
		return nil, fmt.Errorf("the browser has closed: %w", err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return nil, errors.New(*m.Error)
		}
		return m.Value, nil
	case <-ctx.Done():
		b.forget(c.ID)
		return nil, ctx.Err()
	}
}

func (b *Browser) forget(id int64) {
	b.mu.Lock()
	delete(b.pending, id)
	b.mu.Unlock()
}

// Close closes the browser and its driver and waits for them, ending any
// process of theirs that is left. New registers it as a cleanup, and a test
// may call it earlier; later calls do nothing.
func (b *Browser) Close() {
	b.closeOne.Do(func() {
		// A graceful close lets Firefox stop its child processes itself.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, _ = b.call(ctx, command{Op: "close"})
		cancel()
		b.stdin.Close()
		select {
		case <-b.exited:
		case <-time.After(10 * time.Second):
			b.t.Logf("firefox: the driver did not exit; ending it")
		}
		if n := endLeftovers(b.cmd, b.profileDir); n > 0 {
			b.t.Logf("firefox: ended %d leftover processes", n)
		}
		<-b.exited
		<-b.readDone
	})
}

// Version is the browser's name and version, as "firefox/128.0".
func (b *Browser) Version() string { return b.version }

// Options returns the options the browser was made with, with defaults
// filled in.
func (b *Browser) Options() Options { return b.opts }

// Navigate loads url in the tab and waits for the load event, for at most
// budget.Step.
func (b *Browser) Navigate(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, budget.Timeout(b.t, budget.Step))
	defer cancel()
	if _, err := b.call(ctx, command{Op: "navigate", URL: url}); err != nil {
		return fmt.Errorf("navigate to %s: %w", url, err)
	}
	return nil
}

// Eval evaluates a JavaScript expression (or script, whose value is its
// last statement's) in the page, waits for it when it is a promise, and
// decodes its JSON value into out. out may be nil.
func (b *Browser) Eval(ctx context.Context, expr string, out any) error {
	raw, err := b.call(ctx, command{Op: "eval", Expr: expr})
	if err != nil {
		return fmt.Errorf("eval %s: %w", browser.Short(expr), err)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("eval %s: decode %s: %w", browser.Short(expr), browser.Short(string(raw)), err)
	}
	return nil
}

// WaitJS evaluates the JavaScript expression expr again and again until it
// is true, and fails when it is not true within timeout or when ctx ends.
// An expression may return a promise. An expression that throws counts as
// false, so it may name things the page has not made yet.
func (b *Browser) WaitJS(ctx context.Context, expr string, timeout time.Duration) error {
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return browser.PollJS(tctx, timeout, expr, b.Eval)
}

// Click clicks the first element that matches the CSS selector sel, with real
// pointer input, after waiting up to budget.Step for it to be visible.
func (b *Browser) Click(ctx context.Context, sel string) error {
	ctx, cancel := context.WithTimeout(ctx, budget.Timeout(b.t, budget.Step))
	defer cancel()
	if _, err := b.call(ctx, command{Op: "click", Selector: sel}); err != nil {
		return fmt.Errorf("click %s: %w", sel, err)
	}
	return nil
}

// Fill replaces the value of the input that matches sel with text, typed
// with key input, after waiting up to budget.Step for it to be visible.
func (b *Browser) Fill(ctx context.Context, sel, text string) error {
	ctx, cancel := context.WithTimeout(ctx, budget.Timeout(b.t, budget.Step))
	defer cancel()
	if _, err := b.call(ctx, command{Op: "fill", Selector: sel, Text: text}); err != nil {
		return fmt.Errorf("fill %s: %w", sel, err)
	}
	return nil
}

// Screenshot writes a PNG of the viewport to path, making its directory.
func (b *Browser) Screenshot(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), budget.Timeout(b.t, budget.Step))
	defer cancel()
	if _, err := b.call(ctx, command{Op: "screenshot", Path: abs}); err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	return nil
}

// ConsoleMessages returns every console message and uncaught exception of
// the tab so far, as "type: text".
func (b *Browser) ConsoleMessages() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.console...)
}

// ConsoleErrors returns the console errors and uncaught exceptions of the
// tab so far.
func (b *Browser) ConsoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

// Requests returns the URLs of every request the tab has made so far, in
// order.
func (b *Browser) Requests() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.requests...)
}

// NonLoopbackRequests returns the requests of the tab whose host is not a
// loopback address (see browser.IsLocalURL).
func (b *Browser) NonLoopbackRequests() []string {
	var out []string
	for _, r := range b.Requests() {
		if !browser.IsLocalURL(r) {
			out = append(out, r)
		}
	}
	return out
}

// ClearLogs forgets the console messages and requests so far, for a test
// that reuses the browser for another page.
func (b *Browser) ClearLogs() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.console, b.errors, b.requests = nil, nil, nil
}

// tail keeps the last 32 KiB written to it.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

const tailSize = 32 << 10

func (w *tail) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if len(w.buf) > tailSize {
		w.buf = append(w.buf[:0], w.buf[len(w.buf)-tailSize:]...)
	}
	return len(p), nil
}

func (w *tail) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}
