package live

import (
	"context"
	"errors"
	"time"

	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/sfu"
	"github.com/hearth-rtc/hearth/span"
)

// A room's media across nodes (Config.Span): its controls stay here, and
// so does the media of its first SpanAfter participants; a participant
// beyond them who came in through another node has their media served
// there, by a router of the room linked to this one.

// addPeer makes x's peer connection: here, or on the node x came in
// through once the room's media here is full.
func (r *Room) addPeer(x *person, params sfu.PeerParams) (peerConn, error) {
	if node := r.spanNode(x); node != "" {
		// Twice: the room's media there may close as the last one there
		// leaves (releaseRemote), between remoteOn and AddPeer.
		var err error
		for range 2 {
			var rem *span.Remote
			if rem, err = r.remoteOn(node); err != nil {
				break
			}
			var p *span.RemotePeer
			if p, err = rem.AddPeer(params); err == nil {
				r.log.Info("media on another node", "participant", params.ID, "node", node)
				return p, nil
			}
		}
		r.log.Warn("media on another node: served here instead", "participant", params.ID, "node", node, "err", err)
	}
	p, err := r.router.AddPeer(params)
	if err != nil {
		return nil, err // not a nil *sfu.Peer in the interface
	}
	return p, nil
}

// spanNode is the node x's media goes to, "" for this one.
func (r *Room) spanNode(x *person) string {
	s := r.cfg.Span
	if s == nil || r.cfg.SpanAfter <= 0 {
		return ""
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := x.conn.(viaConn)
	if !ok || v.Via() == "" || v.Via() == s.Self() {
		return ""
	}
	// Everyone seated counts here unless placed elsewhere: one just
	// seated may not have their peer connection yet.
	here := 0
	for _, o := range r.people {
		if o != x && o.seated() && o.remote() == nil {
			here++
		}
	}
	if here < r.cfg.SpanAfter {
		return ""
	}
	return v.Via()
}

// remoteOn returns the room's media on node, linking it first if need be.
func (r *Room) remoteOn(node string) (*span.Remote, error) {
	r.linking.Lock()
	defer r.linking.Unlock()
	r.mu.Lock()
	if rem := r.media.remotes[node]; rem != nil && !rem.Lost() && !rem.Closed() {
		r.mu.Unlock()
		return rem, nil
	}
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rem, err := r.cfg.Span.Open(ctx, r.name, node, r.router, span.Callbacks{
		OnLayers:    r.tellLayers,
		OnVideoHeld: r.tellHeld,
		OnPeerError: r.tellRefused,
		OnSendingQuality: func(p *span.RemotePeer, poor bool, lost float64) {
			r.tellSendingOf(p.ID(), p, poor, lost)
		},
	})
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	// Only remoteOn adds to remotes, one call at a time (linking).
	if r.closed {
		rem.Close()
		return nil, errors.New("live: the room closed")
	}
	if r.media.remotes == nil {
		r.media.remotes = map[string]*span.Remote{}
	}
	r.media.remotes[node] = rem
	var g *sfu.Gate
	if r.ctl != nil {
		g = r.ctl.Gate()
	}
	rem.SetGate(g)
	return rem, nil
}

// tellRefused tells id that the node serving their media refused a
// negotiation message, as this node's router would have.
func (r *Room) tellRefused(id string, what span.Refused, err string) {
	r.log.Info("media on another node refused a message", "participant", id, "err", err)
	msg := protocol.Error{Type: "error", Code: protocol.CodeBadSDP, Message: "The session description could not be used, so nothing changed."}
	if what == span.RefusedCandidate {
		msg = protocol.Error{Type: "error", Code: protocol.CodeBadCandidate, Message: "The network candidate could not be used."}
	}
	r.tellActive(id, msg)
}

// releaseRemote closes the room's media on rem's node if nobody is placed
// there any more: it would go on carrying the room's sound there.
func (r *Room) releaseRemote(rem *span.Remote) {
	if !rem.CloseIfIdle() {
		return
	}
	r.mu.Lock()
	if r.media.remotes[rem.Node()] == rem {
		delete(r.media.remotes, rem.Node())
	}
	r.mu.Unlock()
	r.log.Info("media on another node no longer needed", "node", rem.Node())
}
