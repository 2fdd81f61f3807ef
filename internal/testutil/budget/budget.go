// Package budget bounds how long tests wait.
//
// A test waits for a condition (a message, a packet count reaching a value,
// an element on a page), never for a fixed time or a ratio sampled at one
// moment. The bound only turns a condition that never comes into a failure,
// so it is generous: far beyond what an idle machine needs, enough for two
// cores shared with other test runs under the race detector.
package budget

import (
	"context"
	"testing"
	"time"
)

const (
	// Step bounds one wait for one thing: a message, media starting or
	// advancing, a page element. On an idle machine each takes
	// milliseconds to a few seconds.
	Step = time.Minute

	// Test bounds a sequence of waits that share one context, and the
	// start of a browser.
	Test = 3 * time.Minute

	// margin is kept before the test binary's -timeout, so that a wait that
	// never ends fails its test with a message, rather than the binary
	// panicking with every goroutine's stack.
	margin = 30 * time.Second
)

// Context returns a context for waits of at most d (Step or Test). It ends
// after d, or margin before the test binary's -timeout, whichever comes
// first.
func Context(t testing.TB, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithDeadline(context.Background(), Deadline(t, d))
}

// Deadline is the deadline Context uses: d from now, or earlier when the
// test binary's -timeout is closer.
func Deadline(t testing.TB, d time.Duration) time.Time {
	dl := time.Now().Add(d)
	if end, ok := deadline(t); ok && end.Add(-margin).Before(dl) {
		dl = end.Add(-margin)
	}
	return dl
}

// Timeout is Deadline as a duration from now, for APIs that take one.
func Timeout(t testing.TB, d time.Duration) time.Duration {
	return time.Until(Deadline(t, d))
}

// deadline is t.Deadline where t has one (a *testing.T does; a benchmark
// does not).
func deadline(t testing.TB) (time.Time, bool) {
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		return d.Deadline()
	}
	return time.Time{}, false
}
