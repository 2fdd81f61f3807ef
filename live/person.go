package live

import (
	"sync/atomic"
	"time"

	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
	"github.com/hearth-rtc/hearth/sfu"
	"github.com/hearth-rtc/hearth/span"
	"github.com/pion/webrtc/v4"
)

// person is one participant of a room on this node, under Room.mu: who
// they are (their presence in membership, with their role), where they
// stand, their media connection and the connection they speak through.
// The controls hold their seat's state (mutes, hand, floor) by the same id.
type person struct {
	p     room.Participant
	state room.State // waiting, active, or reconnecting (the seat held)
	// conn is the connection the person speaks through; while the seat is
	// held, the one that dropped.
	conn  Conn
	relay *relay   // the peer's signaler: follows the person from conn to conn
	peer  peerConn // nil while waiting, and until the first offer
	grace *time.Timer
	// key is the hash of the resume secret last given to their client
	// (resumekey.go); empty while waiting.
	key  string
	chat chatBucket // how many chat messages they may send now (chat.go)
	// layout is the tiles their client shows (layout_room.go).
	layout layout
	// sendPoor says much of the sound they send is lost on its way in,
	// as their peer connection last reported (tellSending). hearPoor is
	// their client's word that much of what they receive is (SetHearing).
	// A new peer connection starts without either.
	sendPoor, hearPoor bool
}

// weak says their connection loses much of their sound or of others'.
func (x *person) weak() bool { return x.sendPoor || x.hearPoor }

// seated reports whether the person holds a seat (active or held).
func (x *person) seated() bool { return x.state.Seated() }

// speaksThrough reports whether c is the connection x speaks through,
// itself or held.
func (x *person) speaksThrough(c Conn) bool {
	if h, ok := x.conn.(*heldConn); ok {
		return h == c || h.to == c
	}
	return x.conn == c
}

// info describes the person to the others: selfMuted is their own mute,
// and their tracks are picked from tracks.
func (x *person) info(selfMuted protocol.Media, tracks []sfu.TrackInfo) protocol.Participant {
	pi := protocol.Participant{ID: x.p.ID, Identity: x.p.Identity, Name: x.p.Name, Role: x.p.Role,
		Muted: selfMuted, State: string(room.StateActive), Tracks: []protocol.Track{}}
	if x.state == room.StateReconnecting {
		pi.State = string(room.StateReconnecting)
	}
	pi.WeakConnection = x.weak()
	for _, t := range tracks {
		if t.Publisher == x.p.ID {
			pi.Tracks = append(pi.Tracks, trackOf(t))
		}
	}
	return pi
}

func trackOf(t sfu.TrackInfo) protocol.Track {
	return protocol.Track{ID: t.ID, Kind: string(t.Kind), StreamID: t.StreamID, Screen: t.Screen}
}

// relay is a peer connection's sfu.Signaler: it sends to whichever
// connection the person speaks through now, so the SFU never holds a
// dead one. It takes no lock (the SFU calls it under its own).
type relay struct{ cur atomic.Pointer[connRef] }

// connRef boxes a Conn for the atomic pointer.
type connRef struct{ c Conn }

func newRelay(c Conn) *relay {
	r := &relay{}
	r.to(c)
	return r
}

func (r *relay) to(c Conn)             { r.cur.Store(&connRef{c}) }
func (r *relay) send(msg any)          { r.cur.Load().c.Send(msg) }
func (r *relay) SendOffer(sdp string)  { r.send(protocol.SDP{Type: "offer", SDP: sdp}) }
func (r *relay) SendAnswer(sdp string) { r.send(protocol.SDP{Type: "answer", SDP: sdp}) }
func (r *relay) SendCandidate(ci webrtc.ICECandidateInit) {
	r.send(protocol.Candidate{Type: "candidate", Candidate: &ci})
}

func (r *relay) SendSections(ss []sfu.Section) {
	out := make([]protocol.Section, len(ss))
	for i, s := range ss {
		out[i] = protocol.Section{Mid: s.Mid, Kind: string(s.Kind), Screen: s.Screen}
		if s.Publisher != "" {
			p := s.Publisher
			out[i].Participant = &p
		}
	}
	r.send(protocol.Sections{Type: "sections", Sections: out})
}

// peerConn is a participant's media connection, on this node (*sfu.Peer)
// or on another (*span.RemotePeer).
type peerConn interface {
	HandleAnswer(sdp string) error
	HandleOffer(sdp string) (ignored bool, err error)
	AddICECandidate(webrtc.ICECandidateInit) error
	Resync()
	Close()
}

// viaConn is a Conn that knows the node of the cluster it came in
// through.
type viaConn interface {
	Via() string
}

// remote is the room's media on the node x's media is on, nil for this
// one (spread.go).
func (x *person) remote() *span.Remote {
	if p, ok := x.peer.(*span.RemotePeer); ok {
		return p.Remote()
	}
	return nil
}
