package signaling

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"

	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
	"github.com/hearth-rtc/hearth/sfu"
)

// session is one room's live session on this node: its media router and
// the connections of everyone here, seated or waiting.
//
// Lifecycle: created by the first arrival, closed when the last one leaves.
type session struct {
	srv    *Server
	name   string
	router *sfu.Router

	mu    sync.Mutex
	conns map[*conn]struct{}

	// ctl is the facilitator controls (controls_session.go).
	ctl controls
}

func newSession(s *Server, name string) *session {
	ss := &session{srv: s, name: name, conns: map[*conn]struct{}{}}
	ss.router = s.cfg.Engine.NewRouter(sfu.RouterParams{ID: name, Observer: ss, Logger: s.log.With("room", name)})
	return ss
}

func (ss *session) add(c *conn) {
	ss.mu.Lock()
	ss.conns[c] = struct{}{}
	ss.mu.Unlock()
}

func (ss *session) remove(c *conn) {
	ss.mu.Lock()
	delete(ss.conns, c)
	ss.mu.Unlock()
	ss.controlsLeave(c.participantID())
}

func (ss *session) empty() bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return len(ss.conns) == 0
}

func (ss *session) find(id string) *conn {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for c := range ss.conns {
		if c.participantID() == id {
			return c
		}
	}
	return nil
}

// broadcast sends msg to every seated participant but skip. It runs under
// the session lock, so a participant being seated sees each event either in
// its joined snapshot or after it, never before.
func (ss *session) broadcast(msg any, skip *conn) {
	b, err := json.Marshal(msg)
	if err != nil {
		ss.srv.log.Error("marshal broadcast", "err", err)
		return
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for c := range ss.conns {
		if c != skip && c.isActive() {
			c.sendRaw(b)
		}
	}
}

// seat makes c an active participant: it sends c the joined snapshot and
// tells the others, atomically with respect to other broadcasts.
func (ss *session) seat(c *conn, p room.Participant, info room.Info) {
	ss.announce(c, p, info, seatArrival)
	// Before the peer connection exists, so its first subscriptions already
	// obey the participant's mutes.
	ss.controlsSeat(c, p, info)
}

// announce sends c the session as it is now (joined, with a fresh resume
// secret) and tells the others: participant_joined for an arrival,
// participant_updated for a seat that moved to c. Holding the session lock
// makes each event reach c either in the snapshot or after it, never
// before.
func (ss *session) announce(c *conn, p room.Participant, info room.Info, how seatHandover) {
	resumed := how == seatResumed
	tracks := ss.router.Tracks()
	secret := ss.srv.newResumeSecret(c) // before ss.mu: lock order is Server.mu, then session.mu
	ss.mu.Lock()
	defer ss.mu.Unlock()
	others := make([]protocol.Participant, 0, len(ss.conns))
	for o := range ss.conns {
		if o != c && o.isSeated() {
			others = append(others, o.info(tracks))
		}
	}
	slices.SortFunc(others, func(a, b protocol.Participant) int { return strings.Compare(a.ID, b.ID) })
	c.setActive(p)
	c.send(protocol.Joined{
		Type: "joined", Version: protocol.Version, Room: info,
		Self:         protocol.Self{ID: p.ID, Identity: p.Identity, Name: p.Name, Role: p.Role},
		Participants: others,
		ICEServers:   ss.srv.iceServersFor(p.ID),
		Resume:       secret,
		Resumed:      resumed,
	})
	me := protocol.ParticipantEvent{Type: "participant_joined", Participant: c.info(nil)}
	if how != seatArrival {
		me = protocol.ParticipantEvent{Type: "participant_updated", Participant: c.info(tracks)}
	}
	b, _ := json.Marshal(me)
	for o := range ss.conns {
		if o != c && o.isActive() {
			o.sendRaw(b)
		}
	}
}

// sendToAdmins sends msg to the seated participants who may admit.
func (ss *session) sendToAdmins(msg any) {
	b, err := json.Marshal(msg)
	if err != nil {
		return
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for c := range ss.conns {
		if c.isActive() && c.role().Can(room.PermAdmit) {
			c.sendRaw(b)
		}
	}
}

// TrackPublished implements sfu.Observer.
func (ss *session) TrackPublished(t sfu.TrackInfo) {
	ss.broadcast(protocol.TrackPublished{Type: "track_published", Participant: t.Publisher, Track: toTrackInfo(t)}, nil)
}

// TrackUnpublished implements sfu.Observer.
func (ss *session) TrackUnpublished(t sfu.TrackInfo) {
	ss.broadcast(protocol.TrackUnpublished{Type: "track_unpublished", Participant: t.Publisher, Track: t.ID}, nil)
}

func toTrackInfo(t sfu.TrackInfo) protocol.Track {
	return protocol.Track{ID: t.ID, Kind: string(t.Kind), StreamID: t.StreamID}
}
