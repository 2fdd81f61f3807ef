package live

import (
	"context"

	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
	"github.com/hearth-rtc/hearth/span"
)

// Room's departures: a person leaves (their connection ended), is kicked
// (gone from membership), or everyone is released at once (end of the
// session, shutdown). A release takes the person out under the lock, so
// their media stops at once; what is slow (the peer connection, the store)
// follows outside it.

// released is what remains of a release once the lock is let go.
type released struct {
	p       room.Participant
	seated  bool
	peer    peerConn
	remote  *span.Remote
	waiting bool
}

// releaseLocked takes x out of the room and the controls (its media stops
// at once). It does not touch x's connection. Under mu.
func (r *Room) releaseLocked(x *person) released {
	delete(r.people, x.p.ID)
	if x.grace != nil {
		x.grace.Stop()
		x.grace = nil
	}
	rel := released{p: x.p, seated: x.seated(), peer: x.peer, remote: x.remote(), waiting: x.state == room.StateWaiting}
	if rel.seated && r.ctl != nil && !r.ctl.Ended() {
		before := r.ctl.Version()
		r.ctl.Leave(x.p.ID)
		r.changedLocked(before)
	}
	x.peer = nil
	x.state = ""
	r.tellWaitingLocked()
	return rel
}

// finish does what releases leave for outside the lock: the peer
// connections close, membership is told, the others learn who left and
// why (participant_left), and the room closes once nobody is left. It
// reports whether anyone released was waiting, whose admitters then need
// the waiting list.
func (r *Room) finish(rels []released, reason string) (waiting bool) {
	ctx, cancel := context.WithTimeout(context.Background(), doorTimeout)
	defer cancel()
	for _, rel := range rels {
		if rel.peer != nil {
			rel.peer.Close()
		}
		if rel.remote != nil {
			r.releaseRemote(rel.remote)
		}
		waiting = waiting || rel.waiting
		// Leaving is recorded even if the sender's context is gone; while
		// the room is handed over, or given up to the node that holds it
		// (yield_room.go), the presence stays for that node.
		if r.keep.Load() {
			continue
		}
		if r.yielded.Load() {
			r.door.LetGo(r.name, rel.p.ID)
			continue
		}
		if err := r.door.Leave(ctx, r.name, rel.p.ID); err != nil {
			r.log.Warn("leave", "participant", rel.p.ID, "err", err)
		}
	}
	r.mu.Lock()
	for _, rel := range rels {
		if rel.seated {
			r.broadcastLocked(protocol.ParticipantLeft{Type: "participant_left", Participant: rel.p.ID, Reason: reason}, "")
		}
	}
	r.mu.Unlock()
	r.sendRoll(ctx)
	r.closeIfEmpty()
	return waiting
}

// Leave takes out the person whose connection from ended, on purpose or
// not to be held; reason is what the others are told (participant_left).
// A connection that holds no place here (any more) changes nothing.
func (r *Room) Leave(id string, from Conn, reason string) {
	r.mu.Lock()
	x := r.people[id]
	if x == nil || !x.speaksThrough(from) {
		r.mu.Unlock()
		return
	}
	rel := r.releaseLocked(x)
	r.mu.Unlock()
	r.finishOne(rel, reason)
}

// finishOne finishes one release, and updates the waiting list if the
// person was waiting.
func (r *Room) finishOne(rel released, reason string) {
	if r.finish([]released{rel}, reason) {
		ctx, cancel := context.WithTimeout(context.Background(), doorTimeout)
		defer cancel()
		r.sendWaitingList(ctx)
	}
}

// kick releases a person membership reports gone (expired, removed or
// denied from another node), telling their client why with bye reason.
func (r *Room) kick(id, reason string) {
	r.mu.Lock()
	x := r.people[id]
	if x == nil {
		r.mu.Unlock()
		return
	}
	x.conn.Close(protocol.Bye{Type: "bye", Reason: reason})
	rel := r.releaseLocked(x)
	r.mu.Unlock()
	r.log.Info("released: gone from membership", "participant", id, "reason", reason)
	r.finishOne(rel, reason)
}

// releaseAllLocked closes everyone's connection with bye and releases
// them. Under mu. All are closed first, so that nobody is told anything
// (what the waiting room says) on the way out.
func (r *Room) releaseAllLocked(bye protocol.Bye) []released {
	rels := make([]released, 0, len(r.people))
	for _, x := range r.people {
		x.conn.Close(bye)
	}
	for _, x := range r.people {
		rels = append(rels, r.releaseLocked(x))
	}
	return rels
}

// close releases everyone (their connections get bye server_shutdown),
// then ends the ticker and the router. Rooms has already let the room go.
func (r *Room) close() {
	r.mu.Lock()
	r.closed = true
	rels := r.releaseAllLocked(protocol.Bye{Type: "bye", Reason: "server_shutdown"})
	r.mu.Unlock()
	r.finish(rels, "server_shutdown")
	r.shutdown()
}
