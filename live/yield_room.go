package live

import (
	"context"
	"errors"

	"github.com/hearth-rtc/hearth/room"
)

// Room's yield: another node holds the room's lease (two nodes ran the
// room at once, as after a Redis that restarted empty), and the room
// here gives its people up to that node. Their seats' resume keys go to
// the store first (Door.YieldSeats), so that the room's node seats each
// client that resumes with its secret as the same participant
// (resumeYielded), as after a failover: someone who came in without a
// token has no other way back to their seat.

// yield lets everyone here go as if their connection had dropped, with no
// goodbye, so that their clients come back (a resume, or a join) through
// the room's node; their presences stay in the store for that node to take
// over (membership adopts them), and nothing more is mirrored from here.
// Someone who arrives here meanwhile is let go at the next yield. It
// reports whether anyone was here.
func (r *Room) yield() bool {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return false
	}
	r.yielded.Store(true)
	keys := r.resumeKeysLocked()
	r.mu.Unlock()
	if len(keys) > 0 {
		seats := make(map[string]string, len(keys))
		for id, key := range keys {
			seats[key] = id
		}
		ctx, cancel := context.WithTimeout(context.Background(), doorTimeout)
		err := r.door.YieldSeats(ctx, r.name, seats)
		cancel()
		if err != nil {
			r.log.Warn("seats given up not kept for the room's node; their people come back as new", "err", err)
		}
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return false
	}
	rels := make([]released, 0, len(r.people))
	for _, x := range r.people {
		x.conn.Close(nil)
	}
	for _, x := range r.people {
		rels = append(rels, r.releaseLocked(x))
	}
	r.mu.Unlock()
	r.log.Info("room held by another node; its people are let go to join it there", "people", len(rels))
	r.finish(rels, "server_shutdown")
	return len(rels) > 0
}

// resumeYielded seats the client back with secret, whose seat another
// node gave up to this one (yield): the same participant, with the role
// the store holds, resumed on a new peer connection; the others see them
// arrive. It returns the participant id, or ErrNotHeld when no seat was
// given up with that secret (the store is asked once per secret: a seat
// is given back once).
func (r *Room) resumeYielded(ctx context.Context, secret string, to Conn) (string, error) {
	id, err := r.door.TakeYielded(ctx, r.name, resumeKey(secret))
	if errors.Is(err, room.ErrNotFound) {
		return "", ErrNotHeld
	}
	if err != nil {
		return "", err
	}
	p, _, err := r.door.Adopt(ctx, r.name, id)
	if err != nil {
		r.log.Info("a seat given up by another node is gone", "participant", id, "err", err)
		return "", ErrNotHeld
	}
	info := r.door.RoomInfo(ctx, r.name)
	r.mu.Lock()
	if r.closed || r.people[id] != nil {
		r.mu.Unlock()
		return "", ErrNotHeld
	}
	x := &person{p: p, state: room.StateWaiting, conn: to, relay: newRelay(to)}
	r.people[id] = x
	h := r.announceLocked(x, info, yieldedBack, true)
	r.seatControlsLocked(x, info)
	params := r.peerParams(x)
	r.mu.Unlock()
	r.releaseHeld(ctx, x, h)
	if _, err := r.door.SetReconnecting(ctx, r.name, id, false); err != nil {
		r.log.Warn("mark active", "participant", id, "err", err)
	}
	r.log.Info("seat given up by another node taken back by a resume", "participant", id, "identity", p.Identity)
	if err := r.connectPeer(x, params); err != nil {
		return id, err
	}
	if p.Role.Can(room.PermAdmit) {
		r.sendWaitingListTo(ctx, x)
	}
	r.sendRoll(ctx)
	return id, nil
}
