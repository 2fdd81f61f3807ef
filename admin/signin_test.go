package admin_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/admin"
	"github.com/hearth-rtc/hearth/membership"
)

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestSignInFailuresRefused: an address that keeps guessing the API's
// credentials is refused for a minute, even with the right ones, while
// others behind the same reverse proxy carry on; a success clears the
// count.
func TestSignInFailuresRefused(t *testing.T) {
	store := membership.NewMemStore(membership.MemStoreOptions{})
	t.Cleanup(func() { _ = store.Close() })
	clock := &fakeClock{now: time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)}
	h := admin.NewHandler(admin.Config{Store: store, APIKey: apiKey, APISecret: apiSecret,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: clock.Now,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	// Requests arrive through a proxy on this machine, for the client it names.
	get := func(client, user, pass string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/admin/rooms", nil)
		req.RemoteAddr = "127.0.0.1:40000"
		req.Header.Set("X-Forwarded-For", client)
		req.SetBasicAuth(user, pass)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	const guesser, operator = "198.51.100.7", "203.0.113.9"

	// A success clears the count: nine failures, a success, nine more.
	for range 2 {
		for i := range 9 {
			if rec := get(guesser, apiKey, "guess"+strconv.Itoa(i)); rec.Code != http.StatusUnauthorized {
				t.Fatalf("wrong secret: %d %s", rec.Code, rec.Body)
			}
		}
		if rec := get(guesser, apiKey, apiSecret); rec.Code != http.StatusOK {
			t.Fatalf("right secret after 9 failures: %d %s", rec.Code, rec.Body)
		}
	}

	for i := range 10 {
		if rec := get(guesser, apiKey, "guess"+strconv.Itoa(i)); rec.Code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	rec := get(guesser, apiKey, apiSecret)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("right secret after 10 failures: %d %s (Retry-After %q), want 429", rec.Code, rec.Body, rec.Header().Get("Retry-After"))
	}
	if !strings.Contains(rec.Body.String(), `"too_many_failures"`) {
		t.Fatalf("refusal body %s, want code too_many_failures", rec.Body)
	}
	if rec := get(operator, apiKey, apiSecret); rec.Code != http.StatusOK {
		t.Fatalf("another client through the same proxy: %d %s", rec.Code, rec.Body)
	}

	clock.Add(61 * time.Second)
	if rec := get(guesser, apiKey, apiSecret); rec.Code != http.StatusOK {
		t.Fatalf("a minute later: %d %s", rec.Code, rec.Body)
	}
}

// TestSignInFailuresBounded: however many addresses guess, the count of
// them kept stays bounded.
func TestSignInFailuresBounded(t *testing.T) {
	var s admin.SignInsForTest
	now := time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)
	for i := range admin.MaxSignInTrackedForTest + 500 {
		s.Failed("198.51."+strconv.Itoa(i/256)+"."+strconv.Itoa(i%256), now)
		now = now.Add(time.Millisecond)
	}
	if n := s.Len(); n > admin.MaxSignInTrackedForTest {
		t.Fatalf("%d addresses kept, want at most %d", n, admin.MaxSignInTrackedForTest)
	}
}
