package signaling

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/hearth-rtc/hearth/protocol"
)

// Limits that keep one client from hurting the others. Each has a default
// in New; tests lower them.
const (
	defaultMessageRate  = 40  // messages per second, sustained
	defaultMessageBurst = 100 // a join brings an answer and a burst of candidates
	defaultMaxConnsIP   = 20
	defaultJoinTimeout  = 10 * time.Second
	// defaultAgreementTimeout: time to read the group agreement, and think.
	defaultAgreementTimeout = 10 * time.Minute
	defaultMaxUnjoined      = 1000
	// maxViolations is how many over-limit messages within
	// violationWindow a client may send before it is disconnected.
	maxViolations   = 100
	violationWindow = 10 * time.Second
)

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

// admitConn counts a new connection against key (clientaddr.Key of the client
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

// Sockets that have not joined.
//
// A socket is unjoined from its upgrade until a join seats the client or
// puts it in the waiting room. Each costs the server a goroutine and
// buffers while it does nothing a participant needs, so they are bounded
// twice: each has JoinTimeout to join before it is closed with
// join_timeout, and at most MaxUnjoined are open at once. Over that bound
// new upgrades are refused (HTTP 503) rather than the oldest closed:
// closing the oldest would let a flood of idle sockets push out people
// whose join is still on its way over a slow link, while a refusal leaves
// everyone already connected alone, and the flood's own sockets reach
// their deadline within JoinTimeout. The per-address limit comes first,
// so one address holds at most MaxConnsPerIP of them.

// unjoinedLogEvery spaces the log lines about refused upgrades, so a flood
// of them does not become a flood of lines.
const unjoinedLogEvery = 10 * time.Second

// joinWatch is a connection's way to its join; under conn.mu.
type joinWatch struct {
	addr     string      // the client address, for the log
	timer    *time.Timer // the join deadline
	counted  bool        // in Server.unjoined
	handling bool        // a join message is being handled
	late     bool        // the deadline passed while one was
	expired  bool        // the deadline closed the socket
	// asked is a join waiting for the answer to the room's agreement
	// (agreement.go): one at most.
	asked *askedJoin
}

// logThrottle lets a repeated event be logged once per interval, saying
// how many times it happened since the last line.
type logThrottle struct {
	last time.Time
	n    int
}

// allow counts one event and reports whether to log it now, with the count
// since the last line.
func (t *logThrottle) allow(now time.Time, every time.Duration) (int, bool) {
	t.n++
	if !t.last.IsZero() && now.Sub(t.last) < every {
		return 0, false
	}
	n := t.n
	t.last, t.n = now, 0
	return n, true
}

// admitUnjoined counts a new socket as unjoined, refusing it over
// MaxUnjoined.
func (s *Server) admitUnjoined() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.MaxUnjoined >= 0 && s.unjoined >= s.cfg.MaxUnjoined {
		if n, log := s.busyLog.allow(time.Now(), unjoinedLogEvery); log {
			s.log.Warn("websocket upgrades refused: too many connections have not joined",
				"refused", n, "limit", s.cfg.MaxUnjoined)
		}
		return false
	}
	s.unjoined++
	return true
}

func (s *Server) releaseUnjoined() {
	s.mu.Lock()
	s.unjoined--
	s.mu.Unlock()
}

// refuseBusy answers an upgrade over MaxUnjoined. Unjoined sockets are gone
// within JoinTimeout, so that is when to try again.
func (s *Server) refuseBusy(w http.ResponseWriter) {
	if d := s.cfg.JoinTimeout; d > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((d+time.Second-1)/time.Second)))
	}
	http.Error(w, string(protocol.CodeServerBusy)+": the server is busy; try again shortly", http.StatusServiceUnavailable)
}

// watchJoin starts c's join deadline; admitUnjoined has counted c.
func (c *conn) watchJoin(addr string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.join.addr, c.join.counted = addr, true
	if d := c.srv.cfg.JoinTimeout; d > 0 {
		c.join.timer = time.AfterFunc(d, c.joinDeadline)
	}
}

// joinDeadline closes c if it has not joined. A join being handled is let
// finish; handleJoinInTime closes the socket after it if it did not get
// the client in.
func (c *conn) joinDeadline() {
	c.mu.Lock()
	if c.room != nil || c.relay.up != nil || !c.join.counted || c.outClosed {
		c.mu.Unlock()
		return
	}
	if c.join.handling {
		c.join.late = true
		c.mu.Unlock()
		return
	}
	c.join.expired = true
	addr, asked := c.join.addr, c.join.asked != nil
	c.mu.Unlock()
	c.log.Debug("no join in time; closing the connection", "ip", addr, "agreement", asked)
	if asked {
		c.sendError(errAgreementTimeout(), "")
		return
	}
	c.sendError(errJoinTimeout(), "")
}

func errJoinTimeout() *protoError {
	return &protoError{code: protocol.CodeJoinTimeout, close: true,
		message: "No join message arrived in time; reconnect to try again."}
}

// handleJoinInTime handles a join under the join deadline, and stops
// counting c as unjoined once the join has got it in.
func (c *conn) handleJoinInTime(ctx context.Context, data []byte) error {
	return c.inTime(func() error { return c.handleJoin(ctx, data) })
}

// inTime runs handle, a join or an answer to the agreement, under the join
// deadline, and stops counting c as unjoined once it has got it in.
func (c *conn) inTime(handle func() error) error {
	c.mu.Lock()
	if c.join.expired {
		// Closing with join_timeout already; the join comes too late.
		c.mu.Unlock()
		return nil
	}
	c.join.handling = true
	c.mu.Unlock()

	err := handle()

	c.mu.Lock()
	c.join.handling = false
	joined := c.room != nil || c.relay.up != nil
	settle := joined && c.join.counted
	late := c.join.late && !joined
	if settle {
		c.join.counted = false
		if c.join.timer != nil {
			c.join.timer.Stop()
		}
	}
	c.mu.Unlock()
	if settle {
		c.srv.releaseUnjoined()
	}
	if !late {
		return err
	}
	// The deadline passed while this join was handled and it did not get
	// the client in: its answer is the last on this socket.
	if err == nil {
		return errJoinTimeout()
	}
	pe := *toProto(err, "join")
	pe.close = true
	return &pe
}

// endJoinWatch stops the deadline and the count once c has ended.
func (c *conn) endJoinWatch() {
	c.mu.Lock()
	counted := c.join.counted
	c.join.counted = false
	if c.join.timer != nil {
		c.join.timer.Stop()
	}
	c.mu.Unlock()
	if counted {
		c.srv.releaseUnjoined()
	}
}
