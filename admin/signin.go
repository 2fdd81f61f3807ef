package admin

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hearth-rtc/hearth/internal/clientaddr"
)

// Failed sign-ins.
//
// The API key and secret are long random strings, but nothing else would
// stop a client from guessing them as fast as it can send. After
// maxSignInFailures failed sign-ins from one address (clientaddr.Key)
// within signInWindow, every request from it is refused with 429 until the
// window has passed, a right guess included, so a refusal tells a guesser
// nothing. A successful sign-in clears the address's count. At most
// maxSignInTracked addresses are remembered: expired ones go first, then
// the one whose window started earliest.
const (
	maxSignInFailures = 10
	signInWindow      = time.Minute
	maxSignInTracked  = 10_000
)

// signIns counts failed sign-ins per client address.
type signIns struct {
	mu     sync.Mutex
	byAddr map[string]signInFailures
}

type signInFailures struct {
	n     int
	since time.Time
}

// refused reports whether key may not sign in now, and for how long.
func (s *signIns) refused(key string, now time.Time) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.byAddr[key]
	if !ok || f.n < maxSignInFailures {
		return 0, false
	}
	left := f.since.Add(signInWindow).Sub(now)
	if left <= 0 {
		delete(s.byAddr, key)
		return 0, false
	}
	return left, true
}

// failed counts a failed sign-in from key and returns the count within the
// current window.
func (s *signIns) failed(key string, now time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byAddr == nil {
		s.byAddr = map[string]signInFailures{}
	}
	f, ok := s.byAddr[key]
	if !ok || now.Sub(f.since) >= signInWindow {
		if !ok && len(s.byAddr) >= maxSignInTracked {
			s.evict(now)
		}
		f = signInFailures{since: now}
	}
	f.n++
	s.byAddr[key] = f
	return f.n
}

// succeeded forgets key's failures.
func (s *signIns) succeeded(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byAddr, key)
}

// evict makes room for one more address.
func (s *signIns) evict(now time.Time) {
	var oldest string
	var oldestSince time.Time
	for k, f := range s.byAddr {
		if now.Sub(f.since) >= signInWindow {
			delete(s.byAddr, k)
			continue
		}
		if oldest == "" || f.since.Before(oldestSince) {
			oldest, oldestSince = k, f.since
		}
	}
	if len(s.byAddr) >= maxSignInTracked {
		delete(s.byAddr, oldest)
	}
}

// Gate returns next behind the API's sign-in: only requests with the API
// key and secret reach it, and none from an address refused for failed
// sign-ins. A cluster's forwarder goes between the gate and the handler,
// so that only signed-in requests are passed to another node.
func (h *Handler) Gate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.signIn(w, r) {
			next.ServeHTTP(w, r)
		}
	})
}

// signIn checks a request's credentials and answers it if they do not
// let it in.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) bool {
	w.Header().Set("Cache-Control", "no-store")
	if !h.enabled {
		writeError(w, errorf(http.StatusServiceUnavailable, "disabled", "the admin API is not configured"))
		return false
	}
	addr := h.proxies.Of(r)
	key := clientaddr.Key(addr)
	now := h.now()
	if left, refused := h.signIns.refused(key, now); refused {
		w.Header().Set("Retry-After", strconv.Itoa(int(left.Round(time.Second)/time.Second)+1))
		writeError(w, errorf(http.StatusTooManyRequests, "too_many_failures",
			"too many failed sign-ins from this address; try again in a minute"))
		return false
	}
	if !h.authorized(r) {
		// Logged at the first failure of a window and when the address is
		// refused, so a guesser cannot flood the log.
		if n := h.signIns.failed(key, now); n == 1 || n == maxSignInFailures {
			h.log.Warn("admin sign-in failed", "remote", addr, "failures", n, "refused", n == maxSignInFailures)
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="hearth-admin", charset="UTF-8"`)
		writeError(w, errorf(http.StatusUnauthorized, "unauthorized", "valid API key and secret required (HTTP Basic)"))
		return false
	}
	h.signIns.succeeded(key)
	return true
}
