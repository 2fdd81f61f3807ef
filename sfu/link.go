package sfu

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/webrtc/v4"
)

// A link carries a room's media between its routers on two nodes, so that
// one room is not capped by one machine. Each direction is a peer
// connection of its own, between two peers of a special kind: a link out
// subscribes to every track of its router, every simulcast layer of a
// video as a section of its own, and offers them; the link in on the far
// router answers, and publishes what arrives as the tracks they are,
// under their publishers' names and track ids. Each end applies its own
// gate: the far router forwards to its subscribers what the room's gate
// allows them, and the link out sends nothing that its gate sends nobody
// (a mute). A link out never carries back what came in from its far
// node, so that rooms linked as a star (through one node) loop nothing.
//
// Links are not participants: they take no bandwidth estimate of their
// own, choose no layers, and reuse no sections (each track's sections are
// new, and end with it, so that the far end sees each track begin and
// end).

// linkRole says whether a peer is a participant or one end of a link.
type linkRole uint8

const (
	linkNone linkRole = iota
	linkOut           // sends this router's tracks to a far router
	linkIn            // receives a far router's tracks
)

// linkMaxTracks bounds the tracks a link in may publish: a room's worth,
// each simulcast layer a section.
const linkMaxTracks = 1024

// LinkParams describes one direction of a link between this router and
// the same room's router on another node.
type LinkParams struct {
	// Node names the far node. A link out to it never carries what came in
	// from it; there is one link of each direction per far node.
	Node string
	// Signaler carries the link's offers, answers and candidates to the
	// other end (its sections messages mean nothing there).
	Signaler Signaler
	// OnConnectionState, if set, is told of the link's connection state.
	OnConnectionState func(webrtc.PeerConnectionState)
	// OnWanted, for a link in, is told which layers of a video that came in
	// on it this router's subscribers want (as OnLayers would be of a
	// participant's video), whenever that changes: carried to the far link
	// out's HandleWanted, so that a layer nobody here wants stops crossing,
	// and the publisher's node knows what every node wants. It is called
	// from the SFU's goroutines and must not block.
	OnWanted func(TrackLayers)
}

// LinkOutID and LinkInID are the peer ids of the links with node. A
// participant's id must not begin with "link:".
func LinkOutID(node string) string { return "link:out:" + node }

// LinkInID: see LinkOutID.
func LinkInID(node string) string { return "link:in:" + node }

// AddLinkOut starts a link carrying this router's tracks to the router of
// node: its peer offers, through p.Signaler, once there is a track to
// send, and takes the far end's answers and candidates (HandleAnswer,
// AddICECandidate).
func (r *Router) AddLinkOut(p LinkParams) (*Peer, error) {
	return r.addPeer(PeerParams{ID: LinkOutID(p.Node), Signaler: p.Signaler, OnConnectionState: p.OnConnectionState}, linkOut, p.Node)
}

// AddLinkIn makes this router the far end of a link from node: its peer
// answers the offers of node's link out (HandleOffer) and publishes what
// arrives as the tracks of their publishers.
func (r *Router) AddLinkIn(p LinkParams) (*Peer, error) {
	peer, err := r.addPeer(PeerParams{ID: LinkInID(p.Node), Signaler: p.Signaler, OnConnectionState: p.OnConnectionState,
		MaxTracks: linkMaxTracks}, linkIn, p.Node)
	if err == nil {
		r.mu.Lock()
		peer.onWanted = p.OnWanted
		r.mu.Unlock()
	}
	return peer, err
}

// HandleWanted, on a link out, takes what the far node wants of track:
// for each of its layers, whether any subscriber there wants it (the
// far link in's OnWanted). A layer not wanted stops crossing (at the end
// of a frame), and no longer counts as wanted here; a layer wanted again
// starts on a keyframe, asked for. Until told, every layer crosses. It
// reports false if the peer is not a link out or does not carry track.
func (p *Peer) HandleWanted(track string, wanted []bool) bool {
	r := p.router
	r.mu.Lock()
	if p.link != linkOut || r.peers[p.id] != p {
		r.mu.Unlock()
		return false
	}
	var downs []*downTrack
	for _, d := range p.downs {
		if d.pub.info.ID == track && d.pub.info.Kind == KindVideo {
			downs = append(downs, d)
		}
	}
	r.mu.Unlock()
	for _, d := range downs {
		w := int8(layerNone)
		if l := d.linkLayer; int(l) < len(wanted) && wanted[l] {
			w = l
		}
		d.pref.Store(int32(w))
		d.setWant(w)
	}
	return len(downs) > 0
}

// linkTrackID names one layer of track t on a link: the layer, its rid,
// whether it is a screen, and the publisher, before the track's id, so that
// the far end can publish it as it is (parseLinkTrackID).
func linkTrackID(t TrackInfo, layer int8, rid string) string {
	screen := "c"
	if t.Screen {
		screen = "s"
	}
	return fmt.Sprintf("%d.%s.%s.%d.%s%s", layer, rid, screen, len(t.Publisher), t.Publisher, t.ID)
}

// parseLinkTrackID reads what linkTrackID wrote; stream is the track's
// stream id. Kind and codec are the far end's to fill in.
func parseLinkTrackID(stream, id string) (info TrackInfo, layer int8, rid string, ok bool) {
	l, rest, ok1 := strings.Cut(id, ".")
	rid, rest, ok2 := strings.Cut(rest, ".")
	screen, rest, ok3 := strings.Cut(rest, ".")
	n, rest, ok4 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || !ok3 || !ok4 || (screen != "c" && screen != "s") {
		return TrackInfo{}, 0, "", false
	}
	li, err1 := strconv.Atoi(l)
	size, err2 := strconv.Atoi(n)
	if err1 != nil || err2 != nil || li < 0 || li >= maxLayers || size <= 0 || size >= len(rest) {
		return TrackInfo{}, 0, "", false
	}
	info = TrackInfo{ID: rest[size:], Publisher: rest[:size], StreamID: stream, Screen: screen == "s"}
	return info, int8(li), rid, true
}

// loops reports whether sending t on link out p would send it back where
// it came from.
func (p *Peer) loops(t *publishedTrack) bool {
	return t.pub.link == linkIn && t.pub.far == p.far
}

// linkVerdict is the gate's verdict on track t for a link out: open unless
// it goes to nobody (its publisher is not in the gate, or muted); the far
// end's gate decides who of its subscribers gets it.
func (g *Gate) linkVerdict(t TrackInfo) gateVerdict {
	if g == nil {
		return gateOpen
	}
	f, ok := g.fwd[t.Publisher]
	switch {
	case !ok:
		return gateClosed
	case t.Screen && !f.Screen,
		t.Kind == KindVideo && !t.Screen && !f.Video,
		t.Kind != KindVideo && !f.Audio:
		return gateMuted
	}
	return gateOpen
}

// verdictFor is g's verdict on t for sub, a participant or a link out.
func (g *Gate) verdictFor(t TrackInfo, sub *Peer) gateVerdict {
	if sub.link != linkNone {
		return g.linkVerdict(t)
	}
	return g.trackVerdict(t, sub.id)
}

// publishLinked publishes, as the track it is, a layer arriving on link in
// p: a layer of a track published here already, or a new track.
func (r *Router) publishLinked(p *Peer, remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	info, index, rid, ok := parseLinkTrackID(remote.StreamID(), remote.ID())
	info.Kind, info.MimeType = kindOf(remote.Kind()), remote.Codec().MimeType
	if info.Kind == KindAudio && index != 0 {
		ok = false
	}
	r.mu.Lock()
	if r.closed || r.peers[p.id] != p {
		r.mu.Unlock()
		return
	}
	if !ok {
		r.discardLocked(p, remote)
		r.mu.Unlock()
		p.log.Warn("link: a track not named as links name them", "id", remote.ID())
		return
	}
	if t := p.published[info.ID]; t != nil {
		if t.info != info || t.layer(index) != nil || r.tracks[info.ID] != t {
			r.discardLocked(p, remote)
			r.mu.Unlock()
			return
		}
		p.sources[recv] = t
		r.startLayerLocked(t, t.newLayer(index, rid, remote, uint32(remote.SSRC()), p.pc))
		r.mu.Unlock()
		r.allocateTrack(t)
		r.linkLayer(t, index)
		return
	}
	if r.tracks[info.ID] != nil || r.peers[info.Publisher] != nil || len(p.published) >= p.maxTracks {
		// Someone here publishes it, or under that name: not two of one.
		r.discardLocked(p, remote)
		r.mu.Unlock()
		p.log.Warn("link: a track refused", "track", info.ID)
		return
	}
	r.startTrackLocked(p, info, index, rid, remote, recv)
}

// linkLayer sends layer index of t, which has just started, on every link
// out that carries t.
func (r *Router) linkLayer(t *publishedTrack, index int8) {
	l := t.layer(index)
	if l == nil {
		return
	}
	r.mu.Lock()
	var links []*Peer
	for _, s := range r.peers {
		if s.link == linkOut && !s.loops(t) {
			links = append(links, s)
		}
	}
	r.mu.Unlock()
	for _, s := range links {
		r.subscribeAs(s, t, index, l.rid, true)
	}
}

// publishesLocked reports whether id publishes a track here. Under r.mu.
func (r *Router) publishesLocked(id string) bool {
	for _, t := range r.tracks {
		if t.info.Publisher == id {
			return true
		}
	}
	return false
}
