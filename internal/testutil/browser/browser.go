// Package browser drives a headless Debian Chromium from Go tests, with
// chromedp.
//
// A test makes a browser with New, which registers its own cleanup: the
// browser is closed, its process waited for, and every goroutine of the
// helper stopped before the test ends, so tests can check for leaks with
// goleak.
//
//	b := browser.New(t, browser.Desktop)
//	if err := b.Navigate(ctx, srv.URL); err != nil { ... }
//	if err := b.WaitJS(ctx, `document.querySelector("#join-button") !== null`, budget.Step); err != nil { ... }
//
// When Chromium is not installed the test is skipped, except under CI=true,
// where a missing browser fails the test.
package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
)

// Flags are the Chromium command line flags that every browser of this
// package gets, besides --user-data-dir and --window-size. chromedp adds
// --remote-debugging-pipe to talk to the browser, and the Debian launcher
// script adds the defaults of /etc/chromium.d.
var Flags = []string{
	"--headless",
	"--no-sandbox",
	"--disable-gpu",
	"--disable-quic",
	"--no-first-run",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
	"--use-fake-ui-for-media-stream",
	"--use-fake-device-for-media-stream",
	"--allow-loopback-in-peer-connection",
	"--disable-features=WebRtcHideLocalIpsWithMdns",
}

// Options choose the window and the device that a browser emulates.
type Options struct {
	// Width and Height are the size of the viewport in CSS pixels. Zero
	// values mean 1280x800, or 390x844 when Mobile is set.
	Width, Height int

	// Mobile emulates a phone: a mobile viewport with touch events.
	Mobile bool

	// Scale is the device pixel ratio. Zero means 1, or 2 when Mobile is
	// set.
	Scale float64

	// ExecPath is the browser binary. Empty means /usr/bin/chromium, or
	// chromium from PATH.
	ExecPath string
}

// Desktop and Phone are the two window sizes the tests use.
var (
	Desktop = Options{Width: 1280, Height: 800}
	Phone   = Options{Width: 390, Height: 844, Mobile: true, Scale: 2}
)

// Browser is one headless Chromium process with one tab.
type Browser struct {
	t       testing.TB
	opts    Options
	dataDir string

	ctx         context.Context // the tab; its cancel closes the browser
	cancel      context.CancelFunc
	allocCancel context.CancelFunc
	listeners   sync.WaitGroup
	closeOnce   sync.Once

	mu       sync.Mutex
	console  []chromedp.ConsoleMessage
	requests []string
}

// FindChromium returns the path of the Chromium binary: path itself when it
// is not empty, else /usr/bin/chromium, else chromium from PATH.
func FindChromium(path string) (string, error) {
	candidates := []string{"/usr/bin/chromium", "chromium", "chromium-browser"}
	if path != "" {
		candidates = []string{path}
	}
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no Chromium binary found (looked for %s)", strings.Join(candidates, ", "))
}

// New starts a headless Chromium with a fresh profile and opens one blank
// tab. It skips the test when Chromium is missing, or fails it when the
// environment has CI=true. The browser is closed when the test ends.
// extraFlags are added to Flags, in the same form.
func New(t testing.TB, opts Options, extraFlags ...string) *Browser {
	t.Helper()
	exe, err := FindChromium(opts.ExecPath)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("browser: %v. CI must have Chromium installed: apt-get install chromium", err)
		}
		t.Skipf("browser: %v; install it with `apt-get install chromium` to run the browser tests", err)
	}
	if opts.Width == 0 || opts.Height == 0 {
		if opts.Mobile {
			opts.Width, opts.Height = Phone.Width, Phone.Height
		} else {
			opts.Width, opts.Height = Desktop.Width, Desktop.Height
		}
	}
	if opts.Scale == 0 {
		opts.Scale = 1
		if opts.Mobile {
			opts.Scale = 2
		}
	}

	b := &Browser{t: t, opts: opts, dataDir: t.TempDir()}
	output := &startOutput{}
	allocOpts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(b.dataDir),
		chromedp.WindowSize(opts.Width, opts.Height),
		chromedp.CombinedOutput(output),
	}
	for _, f := range append(slices.Clone(Flags), extraFlags...) {
		name, value, hasValue := strings.Cut(strings.TrimPrefix(f, "--"), "=")
		if hasValue {
			allocOpts = append(allocOpts, chromedp.Flag(name, value))
		} else {
			allocOpts = append(allocOpts, chromedp.Flag(name, true))
		}
	}
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), allocOpts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	b.ctx, b.cancel, b.allocCancel = ctx, cancel, allocCancel
	t.Cleanup(b.Close)

	// The first action starts the browser and binds its life to ctx, which
	// has no deadline; a watchdog of its own bounds the start instead. A
	// start is the heaviest step of a browser test (half a dozen processes
	// load a large binary): a second on an idle machine, but many where
	// other test runs start browsers too, so it gets a budget of its own.
	start := time.Now()
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	wait := budget.Timeout(t, budget.Test)
	watchdog := time.NewTimer(wait)
	defer watchdog.Stop()
	select {
	case err = <-started:
	case <-watchdog.C:
		cancel()
		<-started
		err = fmt.Errorf("not started within %v; its output:\n%s", wait.Round(time.Second), output)
	}
	if err != nil {
		t.Fatalf("browser: start %s: %v", exe, err)
	}
	if d := time.Since(start); d > budget.Step/4 {
		t.Logf("browser: started in %v (a busy machine)", d.Round(time.Second))
	}

	b.listen()

	// The window size includes the frame of the window, so the viewport is
	// set exactly with device emulation.
	emu := []chromedp.EmulateViewportOption{chromedp.EmulateScale(opts.Scale)}
	if opts.Mobile {
		emu = append(emu, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
	}
	if err := b.run(context.Background(), budget.Timeout(t, budget.Step),
		chromedp.EmulateViewport(int64(opts.Width), int64(opts.Height), emu...)); err != nil {
		t.Fatalf("browser: emulate %dx%d: %v", opts.Width, opts.Height, err)
	}
	return b
}

// startOutput keeps the first output of a browser, for the message of a
// start that hangs (chromedp reports that of one that exits).
type startOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// errOutputFull stops chromedp copying output to a startOutput.
var errOutputFull = errors.New("browser: enough output kept")

func (o *startOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.buf.Len() >= 16<<10 {
		return 0, errOutputFull
	}
	return o.buf.Write(p)
}

func (o *startOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// listen collects the console messages and the requests of the tab until the
// browser closes.
func (b *Browser) listen() {
	console := chromedp.Console(b.ctx)
	requests := chromedp.Events(b.ctx, network.RequestWillBeSent)
	sockets := chromedp.Events(b.ctx, network.WebSocketCreated)
	b.listeners.Go(func() {
		for m, err := range console {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
		}
	})
	b.listeners.Go(func() {
		for ev, err := range requests {
			if err != nil {
				return
			}
			b.addRequest(ev.Request.URL)
		}
	})
	b.listeners.Go(func() {
		for ev, err := range sockets {
			if err != nil {
				return
			}
			b.addRequest(ev.URL)
		}
	})
}

func (b *Browser) addRequest(u string) {
	b.mu.Lock()
	b.requests = append(b.requests, u)
	b.mu.Unlock()
}

// Close closes the browser, waits for its process and its goroutines, and
// ends any child process that is left. New registers it as a cleanup, and a
// test may call it earlier; later calls do nothing.
func (b *Browser) Close() {
	b.closeOnce.Do(func() {
		// A graceful close lets Chromium stop its child processes itself.
		ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		err := chromedp.Cancel(ctx)
		cancel()
		b.cancel()
		b.allocCancel() // also waits for the process
		b.listeners.Wait()
		if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			b.t.Logf("browser: close: %v", err)
		}
		if n := reapLeftovers(b.dataDir, 5*time.Second); n > 0 {
			b.t.Logf("browser: ended %d leftover Chromium processes", n)
		}
	})
}

// Context returns the context of the tab, for running chromedp actions
// directly. It is canceled when the browser closes.
func (b *Browser) Context() context.Context { return b.ctx }

// Options returns the options the browser was made with, with defaults
// filled in.
func (b *Browser) Options() Options { return b.opts }

// Run runs chromedp actions on the tab, bounded by ctx.
func (b *Browser) Run(ctx context.Context, actions ...chromedp.Action[chromedp.Void]) error {
	return b.run(ctx, 0, actions...)
}

// run runs actions with a context that ends with ctx, with the browser, or
// after timeout when it is not zero.
func (b *Browser) run(ctx context.Context, timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) error {
	tctx, cancel := b.tabContext(ctx, timeout)
	defer cancel()
	return chromedp.Do(tctx, actions...)
}

// tabContext derives a context from the tab that also ends when ctx ends.
func (b *Browser) tabContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	var tctx context.Context
	var cancel context.CancelFunc
	if timeout > 0 {
		tctx, cancel = context.WithTimeout(b.ctx, timeout)
	} else {
		tctx, cancel = context.WithCancel(b.ctx)
	}
	stop := context.AfterFunc(ctx, cancel)
	return tctx, func() { stop(); cancel() }
}

// Navigate loads url in the tab and waits for the load event, for at most
// budget.Step.
//
// A load the browser broke off because the machine's network interfaces
// changed (net::ERR_NETWORK_CHANGED: a test elsewhere on the machine made
// a network namespace) is made again, at most twice, and its errors are
// not kept: nothing of the page under test was at fault.
func (b *Browser) Navigate(ctx context.Context, url string) error {
	for attempt := 0; ; attempt++ {
		b.mu.Lock()
		mark := len(b.console)
		b.mu.Unlock()
		if err := b.run(ctx, budget.Timeout(b.t, budget.Step), chromedp.Navigate(url)); err != nil {
			return fmt.Errorf("navigate to %s: %w", url, err)
		}
		// A round trip, so that what the load logged has been read.
		if err := b.Eval(ctx, "true", nil); err != nil {
			return fmt.Errorf("navigate to %s: %w", url, err)
		}
		if attempt == 2 || !b.dropNetworkChanged(mark) {
			return nil
		}
		b.t.Logf("browser: the network changed while %s loaded; loading it again", url)
	}
}

// dropNetworkChanged removes the console entries from mark on that report
// a load broken off by a network change, and reports whether there were
// any.
func (b *Browser) dropNetworkChanged(mark int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	kept := b.console[:mark]
	for _, m := range b.console[mark:] {
		if !strings.Contains(format(m), "ERR_NETWORK_CHANGED") {
			kept = append(kept, m)
		}
	}
	dropped := len(kept) < len(b.console)
	b.console = kept
	return dropped
}

// Eval evaluates a JavaScript expression in the page, waits for it when it
// is a promise, and decodes its JSON value into out. out may be nil.
func (b *Browser) Eval(ctx context.Context, expr string, out any) error {
	tctx, cancel := b.tabContext(ctx, 0)
	defer cancel()
	raw, err := chromedp.Run(tctx, chromedp.Evaluate[[]byte](expr, awaitPromise))
	if err != nil {
		return fmt.Errorf("eval %s: %w", Short(expr), err)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("eval %s: decode %s: %w", Short(expr), Short(string(raw)), err)
	}
	return nil
}

func awaitPromise(p *runtime.EvaluateParams) {
	t := true
	p.AwaitPromise = &t
}

// WaitJS evaluates the JavaScript expression expr again and again until it
// is true, and fails when it is not true within timeout or when ctx ends.
// An expression may return a promise. An expression that throws counts as
// false, so it may name things the page has not made yet.
func (b *Browser) WaitJS(ctx context.Context, expr string, timeout time.Duration) error {
	tctx, cancel := b.tabContext(ctx, timeout)
	defer cancel()
	return PollJS(tctx, timeout, expr, b.Eval)
}

// PollJS evaluates expr with eval every 50 ms until it is true or ctx
// ends (timeout is for the message): WaitJS's loop, for any browser. An
// expression may return a promise; one that throws counts as false.
func PollJS(ctx context.Context, timeout time.Duration, expr string, eval func(context.Context, string, any) error) error {
	const interval = 50 * time.Millisecond
	var last string
	for {
		var ok bool
		err := eval(ctx, "(async () => Boolean(await ("+expr+")))()", &ok)
		switch {
		case err == nil && ok:
			return nil
		case err == nil:
			last = "false"
		default:
			last = err.Error()
		}
		timer := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("waited %v for %s: last result: %s", timeout, Short(expr), last)
		case <-timer.C:
		}
	}
}

// Click clicks the first element that matches the CSS selector sel, with real
// mouse events, after waiting up to budget.Step for it to be visible.
func (b *Browser) Click(ctx context.Context, sel string) error {
	if err := b.run(ctx, budget.Timeout(b.t, budget.Step), chromedp.Click(chromedp.CSS(sel))); err != nil {
		return fmt.Errorf("click %s: %w", sel, err)
	}
	return nil
}

// Fill replaces the value of the input that matches sel with text, typed
// with key events, after waiting up to budget.Step for it to be visible.
func (b *Browser) Fill(ctx context.Context, sel, text string) error {
	q, _ := json.Marshal(sel)
	err := b.run(ctx, budget.Timeout(b.t, budget.Step),
		chromedp.WaitVisible(chromedp.CSS(sel)),
		chromedp.Evaluate[chromedp.Void](`document.querySelector(`+string(q)+`).value = ""`),
		chromedp.SendKeys(chromedp.CSS(sel), text),
	)
	if err != nil {
		return fmt.Errorf("fill %s: %w", sel, err)
	}
	return nil
}

// Press sends key presses (as in chromedp.KeyEvent, e.g. "\t") to the
// focused element.
func (b *Browser) Press(ctx context.Context, keys string) error {
	return b.run(ctx, budget.Timeout(b.t, budget.Step), chromedp.KeyEvent(keys))
}

// Screenshot writes a PNG of the viewport to path, making its directory.
func (b *Browser) Screenshot(path string) error {
	tctx, cancel := b.tabContext(context.Background(), budget.Timeout(b.t, budget.Step))
	defer cancel()
	buf, err := chromedp.Run(tctx, chromedp.CaptureScreenshot())
	if err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, buf, 0o644)
}

// ConsoleMessages returns every console message, uncaught exception and
// browser log entry of the tab so far, as "type: text".
func (b *Browser) ConsoleMessages() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]string, 0, len(b.console))
	for _, m := range b.console {
		out = append(out, format(m))
	}
	return out
}

// ConsoleErrors returns the console errors, uncaught exceptions, unhandled
// rejections and error entries of the browser log (such as failed loads and
// Content-Security-Policy violations) so far.
func (b *Browser) ConsoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, m := range b.console {
		if m.Type == chromedp.ConsoleError || m.IsException() {
			out = append(out, format(m))
		}
	}
	return out
}

func format(m chromedp.ConsoleMessage) string {
	s := m.String()
	if m.Source != "" {
		s = m.Source + " " + s
	}
	if m.URL != "" {
		s += fmt.Sprintf(" (%s:%d)", m.URL, m.Line+1)
	}
	return s
}

// Requests returns the URLs of every request and websocket the tab has
// opened so far, in order.
func (b *Browser) Requests() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.requests...)
}

// NonLoopbackRequests returns the requests of the tab whose host is not a
// loopback address. data: and blob: URLs are local and never listed.
func (b *Browser) NonLoopbackRequests() []string {
	var out []string
	for _, r := range b.Requests() {
		if !IsLocalURL(r) {
			out = append(out, r)
		}
	}
	return out
}

// IsLocalURL reports whether u stays on this machine: a loopback host
// (127.0.0.0/8, ::1, localhost), or a data:, blob: or about: URL.
func IsLocalURL(u string) bool {
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	switch p.Scheme {
	case "data", "blob", "about":
		return true
	}
	h := p.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// Short is s on one line, cut at 200 bytes, for error messages.
func Short(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
