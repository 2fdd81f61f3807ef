package turnserver

import (
	"log/slog"
	"net"
	"sync"
	"time"
)

// streams bounds TURN's TCP and TLS connections. Each is there to carry one
// allocation, which the participant's quota bounds; a connection that
// holds none (not yet, or no longer) is closed after a timeout, and at
// most a fixed number of them are open at once, so connections that never
// authenticate cost a bounded amount whatever a client sends. Close closes
// them all (pion's server closes only its listeners).
//
// Lifecycle: newStreams → listener(…) for each listener → close.
type streams struct {
	log        *slog.Logger
	timeout    time.Duration
	maxPending int

	mu      sync.Mutex
	conns   map[string]*stream // by streamKey
	pending int                // conns without an allocation
	closed  bool
	// refused counts refusals since lastLog, which logs at most one a
	// minute.
	refused int
	lastLog time.Time
}

func newStreams(log *slog.Logger, timeout time.Duration, maxPending int) *streams {
	return &streams{log: log, timeout: timeout, maxPending: maxPending, conns: map[string]*stream{}}
}

// streamKey identifies a connection as pion's allocation events do: the
// client's address, then the server's.
func streamKey(client, server net.Addr) string {
	if client == nil || server == nil {
		return ""
	}
	return client.String() + ">" + server.String()
}

// listener tracks the connections ln accepts.
func (s *streams) listener(ln net.Listener) net.Listener { return streamListener{ln, s} }

type streamListener struct {
	net.Listener
	s *streams
}

// Accept returns the next connection it may take; it refuses (closes) the
// others itself, since pion's server stops serving a listener whose Accept
// fails.
func (l streamListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if st := l.s.add(c); st != nil {
			return st, nil
		}
		c.Close()
	}
}

// add registers c as pending, or returns nil when too many are pending or
// the server is closed.
func (s *streams) add(c net.Conn) *stream {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	if s.pending >= s.maxPending {
		if s.refused++; time.Since(s.lastLog) >= time.Minute {
			s.log.Info("TURN connections refused: too many without an allocation",
				"refused", s.refused, "limit", s.maxPending, "last_src", c.RemoteAddr().String())
			s.refused, s.lastLog = 0, time.Now()
		}
		return nil
	}
	st := &stream{Conn: c, s: s, key: streamKey(c.RemoteAddr(), c.LocalAddr())}
	s.conns[st.key] = st
	s.pending++
	st.timer = time.AfterFunc(s.timeout, st.expire)
	return st
}

// allocated and deallocated follow pion's allocation events; those of UDP
// clients match no connection.
func (s *streams) allocated(client, server net.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.conns[streamKey(client, server)]
	if st == nil {
		return
	}
	if st.allocs++; st.allocs == 1 {
		st.timer.Stop()
		s.pending--
	}
}

func (s *streams) deallocated(client, server net.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.conns[streamKey(client, server)]
	if st == nil || st.allocs == 0 {
		return
	}
	if st.allocs--; st.allocs == 0 {
		s.pending++
		st.timer.Reset(s.timeout)
	}
}

// remove forgets st once it is closed (once).
func (s *streams) remove(st *stream) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st.timer.Stop()
	if st.allocs == 0 {
		s.pending--
	}
	if s.conns[st.key] == st {
		delete(s.conns, st.key)
	}
}

// close closes every connection and refuses new ones.
func (s *streams) close() {
	s.mu.Lock()
	s.closed = true
	all := make([]*stream, 0, len(s.conns))
	for _, st := range s.conns {
		all = append(all, st)
	}
	s.mu.Unlock()
	for _, st := range all {
		st.Close()
	}
}

// stream is a tracked TCP connection (under TLS, for the TLS listener).
type stream struct {
	net.Conn
	s     *streams
	key   string
	timer *time.Timer
	// allocs is guarded by s.mu.
	allocs int

	closeOnce sync.Once
}

// expire closes st if it still holds no allocation.
func (st *stream) expire() {
	st.s.mu.Lock()
	allocated := st.allocs > 0
	st.s.mu.Unlock()
	if allocated {
		return
	}
	st.s.log.Debug("TURN connection closed: no allocation", "src", st.RemoteAddr().String())
	st.Close()
}

func (st *stream) Close() error {
	err := st.Conn.Close()
	st.closeOnce.Do(func() { st.s.remove(st) })
	return err
}
