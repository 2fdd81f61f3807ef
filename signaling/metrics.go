package signaling

import (
	"errors"
	"time"

	"github.com/hearth-rtc/hearth/protocol"
)

// Metrics hears about signaling events, for monitoring. Implementations must
// be safe for concurrent use and must not block; internal/metrics provides
// the Prometheus one.
type Metrics interface {
	// MessageReceived counts a client message by type. Types the server does
	// not handle are reported as "unknown", so clients cannot grow the label
	// set.
	MessageReceived(typ string)
	// ErrorSent counts an error message sent to a client, by protocol code.
	ErrorSent(code string)
	// Join records how long a join took to answer (joined, waiting or a
	// refusal), store round trips and peer connection setup included.
	Join(outcome string, d time.Duration)
}

// Join outcomes.
const (
	JoinJoined  = "joined"
	JoinWaiting = "waiting"
	JoinRefused = "refused"
	// JoinAgreement: answered with the room's agreement to accept first;
	// the accept_agreement that follows is a join of its own.
	JoinAgreement = "agreement"
)

type nopMetrics struct{}

func (nopMetrics) MessageReceived(string)     {}
func (nopMetrics) ErrorSent(string)           {}
func (nopMetrics) Join(string, time.Duration) {}

func (s *Server) metrics() Metrics {
	if s.cfg.Metrics == nil {
		return nopMetrics{}
	}
	return s.cfg.Metrics
}

// countMessage reports a dispatched message; err is the handler's result.
func (c *conn) countMessage(typ string, err error) {
	var pe *protoError
	if errors.As(err, &pe) && (pe.code == protocol.CodeUnknownType || pe.code == protocol.CodeBadJSON) {
		typ = "unknown"
	}
	c.srv.metrics().MessageReceived(typ)
}

// observeJoin reports a join's outcome and latency.
func (c *conn) observeJoin(start time.Time, err error) {
	outcome := JoinRefused
	if err == nil {
		c.mu.Lock()
		if c.joinedAs != "" {
			outcome = c.joinedAs
		} else if c.join.asked != nil {
			outcome = JoinAgreement
		}
		c.mu.Unlock()
	}
	c.srv.metrics().Join(outcome, time.Since(start))
}

// ParticipantKey groups connections for Stats.
type ParticipantKey struct {
	// Role is the participant's role, or "none" before it has joined.
	Role string
	// State is "connecting" (socket open, no join yet), "waiting" or
	// "active".
	State string
}

// Stats is a snapshot of this node's signaling state.
type Stats struct {
	// Rooms counts the rooms with a live session on this node.
	Rooms        int
	Participants map[ParticipantKey]int
}

// Stats takes a snapshot: the sockets that have not joined from here, the
// rooms and their people from the live rooms. It takes the server's, each
// connection's and each room's lock briefly, so it suits a metrics
// scrape, not a hot path.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	st := Stats{Participants: map[ParticipantKey]int{}}
	for _, c := range conns {
		c.mu.Lock()
		connecting := c.room == nil
		c.mu.Unlock()
		if connecting {
			st.Participants[ParticipantKey{Role: "none", State: "connecting"}]++
		}
	}
	if s.cfg.Rooms != nil {
		ls := s.cfg.Rooms.Stats()
		st.Rooms = ls.Rooms
		for k, n := range ls.People {
			st.Participants[ParticipantKey{Role: string(k.Role), State: string(k.State)}] += n
		}
	}
	return st
}
