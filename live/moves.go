package live

import (
	"context"
	"time"

	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// Room's seat moves: a seat is held while its connection is lost, taken
// back by a resume, or taken over by the same person from another window.
// The seat keeps its participant id, role, mutes, hand and place in every
// queue; the others see the participant updated, never a departure and an
// arrival.

// Drop holds the seat of a person whose connection from ended without a
// goodbye, for the reconnect grace period: the others see them
// reconnecting, and their peer connection is kept. It reports false when
// nothing is held (someone waiting, or no grace); that person has then
// left, as with Leave(id, from, "left"). A connection that holds no place
// here (any more) changes nothing and reports false.
func (r *Room) Drop(id string, from Conn) bool {
	grace := r.cfg.ReconnectGrace
	r.mu.Lock()
	x := r.people[id]
	if x == nil || !x.speaksThrough(from) {
		r.mu.Unlock()
		return false
	}
	if x.state != room.StateActive || grace < 0 {
		rel := r.releaseLocked(x)
		r.mu.Unlock()
		r.finishOne(rel, "left")
		return false
	}
	x.state = room.StateReconnecting
	x.grace = time.AfterFunc(grace, func() { r.expire(x) })
	r.broadcastLocked(protocol.ParticipantEvent{Type: "participant_updated",
		Participant: x.info(r.selfMutedLocked(id), r.router.Tracks())}, id)
	r.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), doorTimeout)
	defer cancel()
	if _, err := r.door.SetReconnecting(ctx, r.name, id, true); err != nil {
		r.log.Warn("mark reconnecting", "participant", id, "err", err)
	}
	r.log.Info("connection lost; holding the seat", "participant", id, "grace", grace.String())
	return true
}

// expire releases a held seat whose grace period ran out.
func (r *Room) expire(x *person) {
	r.mu.Lock()
	if r.people[x.p.ID] != x || x.state != room.StateReconnecting {
		r.mu.Unlock()
		return
	}
	x.conn.Close(nil)
	rel := r.releaseLocked(x)
	r.mu.Unlock()
	r.log.Info("grace period over; releasing the seat", "participant", rel.p.ID)
	r.finishOne(rel, "timeout")
}

// Resume moves the seat that connection from holds (held, or still
// looking alive: the transport may not have noticed a half-open
// connection yet) to to, the same client back on a new connection. With
// newPeer the client's peer connection is gone too, and a new one starts.
// ErrNotHeld if from holds no seat here. The transport closes from.
func (r *Room) Resume(ctx context.Context, id string, from, to Conn, newPeer bool) error {
	info := r.door.RoomInfo(ctx, r.name)
	r.mu.Lock()
	x := r.people[id]
	if x == nil || !x.speaksThrough(from) || !x.seated() {
		r.mu.Unlock()
		return ErrNotHeld
	}
	if rem := x.remote(); rem != nil && rem.Lost() {
		newPeer = true // the node that served their media is gone
	}
	r.moveLocked(x, to)
	h := r.announceLocked(x, info, resumed, newPeer)
	r.resyncLocked(x)
	r.mu.Unlock()
	r.releaseHeld(ctx, x, h)
	return r.afterMove(ctx, x, resumed, newPeer)
}

// resumeRestored moves a seat held for the room's previous node (restore)
// to to, if secret is the one that node last gave the seat's client (its
// key was mirrored): once, within the reconnect grace, as Resume. The
// seat's peer connection is always new (the old one ended with that
// node). It returns the participant id, or ErrNotHeld.
func (r *Room) resumeRestored(ctx context.Context, secret string, to Conn, newPeer bool) (string, error) {
	key := resumeKey(secret)
	r.mu.Lock()
	x := r.restoredSeatLocked(key)
	r.mu.Unlock()
	if x == nil {
		return "", ErrNotHeld // and the store is not asked
	}
	info := r.door.RoomInfo(ctx, r.name)
	r.mu.Lock()
	if r.restoredSeatLocked(key) != x {
		r.mu.Unlock()
		return "", ErrNotHeld // taken meanwhile
	}
	if x.peer == nil {
		newPeer = true
	}
	r.moveLocked(x, to)
	h := r.announceLocked(x, info, resumed, newPeer)
	r.resyncLocked(x)
	id := x.p.ID
	r.mu.Unlock()
	r.releaseHeld(ctx, x, h)
	r.log.Info("seat restored from the room's previous node taken back by a resume", "participant", id)
	return id, r.afterMove(ctx, x, resumed, newPeer)
}

// restoredSeatLocked returns the seat held for the room's previous node
// whose resume key is key, or nil. Every key is compared, in constant
// time, so the time taken says nothing of which matched. Under mu.
func (r *Room) restoredSeatLocked(key string) *person {
	var x *person
	for _, y := range r.people {
		if _, held := y.conn.(absent); held && y.state == room.StateReconnecting && keyMatches(y.key, key) {
			x = y
		}
	}
	return x
}

// takeOver moves p's place here, a seat or a place in the waiting room,
// from the older connection to to: one seat per person. The older
// connection gets bye joined_elsewhere. It reports false when nobody here
// holds that place (any more).
func (r *Room) takeOver(ctx context.Context, p room.Participant, info room.Info, to Conn) (bool, error) {
	r.mu.Lock()
	x := r.people[p.ID]
	if x == nil || x.speaksThrough(to) {
		r.mu.Unlock()
		return false, nil
	}
	x.conn.Close(protocol.Bye{Type: "bye", Reason: "joined_elsewhere"})
	if x.state == room.StateWaiting {
		x.conn = to
		r.info = info
		to.Send(r.waitingMsgLocked(x))
		r.mu.Unlock()
		r.log.Info("waiting place moved to a new connection", "participant", p.ID, "identity", p.Identity)
		return true, nil
	}
	if r.ctl != nil {
		// Self mutes belong to the device: the new window starts with its
		// own and says so (mute), as any arrival does.
		before := r.ctl.Version()
		r.ctl.SetSelfMute(p.ID, protocol.MediaAudio, false)
		r.ctl.SetSelfMute(p.ID, protocol.MediaVideo, false)
		r.changedLocked(before)
	}
	r.moveLocked(x, to)
	h := r.announceLocked(x, info, takenOver, true)
	r.resyncLocked(x)
	r.mu.Unlock()
	r.releaseHeld(ctx, x, h)
	return true, r.afterMove(ctx, x, takenOver, true)
}

// moveLocked points x's seat at connection to. Under mu.
func (r *Room) moveLocked(x *person, to Conn) {
	x.conn = to
	x.relay.to(to)
	if x.grace != nil {
		x.grace.Stop()
		x.grace = nil
	}
}

// afterMove finishes a move outside the lock: membership hears the seat is
// active, and the peer connection is resynced (an unanswered offer sent
// again) or, with newPeer, replaced: the old one's tracks end and the new
// one's are published.
func (r *Room) afterMove(ctx context.Context, x *person, how handover, newPeer bool) error {
	r.mu.Lock()
	p := x.p
	r.mu.Unlock()
	if _, err := r.door.SetReconnecting(ctx, r.name, p.ID, false); err != nil {
		r.log.Warn("mark active", "participant", p.ID, "err", err)
	}
	r.mu.Lock()
	old, oldRemote := x.peer, x.remote()
	if newPeer {
		x.peer = nil
	}
	params := r.peerParams(x)
	r.mu.Unlock()
	if !newPeer {
		if old != nil {
			old.Resync()
		}
	} else {
		if old != nil {
			old.Close()
		}
		err := r.connectPeer(x, params)
		if oldRemote != nil {
			r.releaseRemote(oldRemote)
		}
		if err != nil {
			return err
		}
	}
	r.log.Info("seat moved to a new connection", "participant", p.ID, "resumed", how == resumed, "new_peer", newPeer)
	if p.Role.Can(room.PermAdmit) {
		r.sendWaitingListTo(ctx, x)
		r.sendRollTo(ctx, x)
	}
	return nil
}
