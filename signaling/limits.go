package signaling

import (
	"time"
)

// Limits that keep one client from hurting the others. Each has a default
// in New; tests lower them.
const (
	defaultMessageRate  = 40  // messages per second, sustained
	defaultMessageBurst = 100 // a join brings an answer and a burst of candidates
	defaultMaxConnsIP   = 20
	// maxViolations is how many over-limit messages within
	// violationWindow a client may send before it is disconnected.
	maxViolations   = 100
	violationWindow = 10 * time.Second
)

const codeTooManyConns = "too_many_connections"

// rateLimiter is a token bucket per connection, used by its read loop only.
type rateLimiter struct {
	rate, burst float64
	tokens      float64
	last        time.Time

	violations    int
	lastViolation time.Time
	lastWarned    time.Time
}

func newRateLimiter(rate, burst int) *rateLimiter {
	return &rateLimiter{rate: float64(rate), burst: float64(burst), tokens: float64(burst), last: time.Now()}
}

// allow takes a token. When there is none it reports whether the client
// should be warned now (at most once a second) and whether it has
// persisted long enough to be disconnected.
func (l *rateLimiter) allow(now time.Time) (ok, warn, disconnect bool) {
	l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	l.last = now
	if l.tokens >= 1 {
		l.tokens--
		return true, false, false
	}
	if now.Sub(l.lastViolation) > violationWindow {
		l.violations = 0
	}
	l.violations++
	l.lastViolation = now
	warn = now.Sub(l.lastWarned) >= time.Second
	if warn {
		l.lastWarned = now
	}
	return false, warn, l.violations > maxViolations
}

// admitConn counts a new connection against key (limitKey of the client
// address), refusing it over the limit. Loopback peers count like any
// other: a reverse proxy on this machine is named in TrustedProxies, and
// its clients are counted by the address it forwards for.
func (s *Server) admitConn(key string) bool {
	if s.cfg.MaxConnsPerIP < 0 {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perIP[key] >= s.cfg.MaxConnsPerIP {
		return false
	}
	s.perIP[key]++
	return true
}

func (s *Server) releaseConn(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.perIP[key]; n > 1 {
		s.perIP[key] = n - 1
	} else {
		delete(s.perIP, key)
	}
}
