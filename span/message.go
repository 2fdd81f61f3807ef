// Package span serves one room's media from more than one node: the
// room's owner keeps its controls and places some participants' media on
// another node (the one they came in through), whose router is linked to
// the owner's (sfu links, sfu/link.go). The owner drives that router over
// one websocket per node (Owner, on the owner; Host, on the other): the
// participants' negotiation, the gate, their layer choices and
// importance, the links' own negotiation, and, back, what the router
// tells (offers, candidates, sections, layers wanted, videos held back).
package span

import (
	"github.com/hearth-rtc/hearth/sfu"
	"github.com/pion/webrtc/v4"
)

// Path is where a node serves Host.
const Path = "/cluster/media"

// msg is one message either way. Room names the room; ID the participant,
// for the ops about one.
type msg struct {
	Op        string                   `json:"op"`
	Room      string                   `json:"room"`
	ID        string                   `json:"id,omitempty"`
	SDP       string                   `json:"sdp,omitempty"`
	Candidate *webrtc.ICECandidateInit `json:"candidate,omitempty"`
	// Audio and Video: what the participant may publish (add_peer).
	Audio bool `json:"audio,omitempty"`
	Video bool `json:"video,omitempty"`
	// Gate is the room's gate as data (gate); Open says it is nil.
	Gate map[string]sfu.Forward `json:"gate,omitempty"`
	Open bool                   `json:"open,omitempty"`
	// Pub and Layer: a layer preference; Pubs: an importance.
	Pub   string   `json:"pub,omitempty"`
	Layer int      `json:"layer,omitempty"`
	Pubs  []string `json:"pubs,omitempty"`
	// Back from the host.
	Sections []sfu.Section    `json:"sections,omitempty"`
	Layers   *sfu.TrackLayers `json:"layers,omitempty"`
	Held     *sfu.VideoHeld   `json:"held,omitempty"`
	State    string           `json:"state,omitempty"`
	Kind     sfu.Kind         `json:"kind,omitempty"`
	TooMany  bool             `json:"too_many,omitempty"`
	Track    string           `json:"track,omitempty"`
	Wanted   []bool           `json:"wanted,omitempty"`
	Err      string           `json:"err,omitempty"`
	Of       string           `json:"of,omitempty"` // the op an error refuses
	// Poor and Lost: a publisher's sending quality (sending).
	Poor bool    `json:"poor,omitempty"`
	Lost float64 `json:"lost,omitempty"`
}

// Ops. Owner to host: add_peer, answer, offer, candidate, resync,
// close_peer, gate, layer, importance, close_room. Host to owner:
// peer_offer, peer_answer, peer_candidate, sections, refused, state,
// layers, held, sending, error. Either way, for the links (the sender's link out
// to the receiver's link in, or back): link_offer, link_answer,
// link_candidate_out (from a link out), link_candidate_in (from a link
// in), link_wanted (from a link in, to the link out).
const (
	opAddPeer     = "add_peer"
	opAnswer      = "answer"
	opOffer       = "offer"
	opCandidate   = "candidate"
	opResync      = "resync"
	opClosePeer   = "close_peer"
	opGate        = "gate"
	opLayer       = "layer"
	opImportance  = "importance"
	opCloseRoom   = "close_room"
	opPeerOffer   = "peer_offer"
	opPeerAnswer  = "peer_answer"
	opPeerCand    = "peer_candidate"
	opSections    = "sections"
	opRefused     = "refused"
	opState       = "state"
	opLayers      = "layers"
	opHeld        = "held"
	opSending     = "sending"
	opError       = "error"
	opLinkOffer   = "link_offer"
	opLinkAnswer  = "link_answer"
	opLinkCandOut = "link_candidate_out"
	opLinkCandIn  = "link_candidate_in"
	opLinkWanted  = "link_wanted"
)

// links are one room's two links with one far node, as either end sees
// them, and the link messages they take.
type links struct {
	out, in *sfu.Peer
}

// handle applies a link message from the far end; it reports whether m
// was one.
func (l links) handle(m msg) (bool, error) {
	switch m.Op {
	case opLinkOffer:
		_, err := l.in.HandleOffer(m.SDP)
		return true, err
	case opLinkAnswer:
		return true, l.out.HandleAnswer(m.SDP)
	case opLinkCandOut:
		if m.Candidate != nil {
			return true, l.in.AddICECandidate(*m.Candidate)
		}
		return true, nil
	case opLinkCandIn:
		if m.Candidate != nil {
			return true, l.out.AddICECandidate(*m.Candidate)
		}
		return true, nil
	case opLinkWanted:
		l.out.HandleWanted(m.Track, m.Wanted)
		return true, nil
	}
	return false, nil
}

// linkSignaler carries one link end's negotiation to the far node.
type linkSignaler struct {
	send func(msg)
	room string
	out  bool // a link out's; else a link in's
}

func (s linkSignaler) SendOffer(sdp string)  { s.send(msg{Op: opLinkOffer, Room: s.room, SDP: sdp}) }
func (s linkSignaler) SendAnswer(sdp string) { s.send(msg{Op: opLinkAnswer, Room: s.room, SDP: sdp}) }
func (s linkSignaler) SendCandidate(c webrtc.ICECandidateInit) {
	op := opLinkCandIn
	if s.out {
		op = opLinkCandOut
	}
	s.send(msg{Op: op, Room: s.room, Candidate: &c})
}
func (s linkSignaler) SendSections([]sfu.Section) {}

// wanted is a link in's OnWanted: to the far link out.
func (s linkSignaler) wanted(tl sfu.TrackLayers) {
	s.send(msg{Op: opLinkWanted, Room: s.room, Track: tl.Track.ID, Wanted: tl.Wanted})
}

// addLinks links router, on this node, with node far, both ways.
func addLinks(r *sfu.Router, far, room string, send func(msg)) (links, error) {
	out, err := r.AddLinkOut(sfu.LinkParams{Node: far, Signaler: linkSignaler{send: send, room: room, out: true}})
	if err != nil {
		return links{}, err
	}
	in := linkSignaler{send: send, room: room}
	inPeer, err := r.AddLinkIn(sfu.LinkParams{Node: far, Signaler: in, OnWanted: in.wanted})
	if err != nil {
		out.Close()
		return links{}, err
	}
	return links{out: out, in: inPeer}, nil
}
