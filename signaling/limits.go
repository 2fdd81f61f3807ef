package signaling

import (
	"net"
	"net/http"
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

// clientIP is the address a connection is counted against. Behind a
// reverse proxy every client looks like the proxy: loopback addresses are
// not limited unless Config.LimitLoopback says so.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// admitConn counts a new connection from ip, refusing it over the limit.
func (s *Server) admitConn(ip string) bool {
	if s.cfg.MaxConnsPerIP < 0 {
		return true
	}
	if parsed := net.ParseIP(ip); parsed != nil && parsed.IsLoopback() && !s.cfg.LimitLoopback {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perIP[ip] >= s.cfg.MaxConnsPerIP {
		return false
	}
	s.perIP[ip]++
	return true
}

func (s *Server) releaseConn(ip string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.perIP[ip]; n > 1 {
		s.perIP[ip] = n - 1
	} else {
		delete(s.perIP, ip)
	}
}
