package live

import (
	"context"
	"errors"
	"time"

	"github.com/hearth-rtc/hearth/room"
)

// Room's restore: a room that another node ran (it died, or handed its
// rooms over as it stopped) carries on here from the controls it
// mirrored (mirror_room.go). The seats it held are held here for what is
// left of their reconnect grace, counted from that node's last sign of
// life (its last refresh of their presences).

// restore carries on the session the room's previous node mirrored, if
// any: the controls as they were, and a seat held (as for a dropped
// connection, for the reconnect grace) for each person still present,
// whose presence this node adopts. Their clients take the seats back by
// joining again (one seat per person: membership hands the presence over)
// or by a resume with the secret the previous node gave them, whose hash
// it mirrored (resumeRestored). It runs once, before anyone arrives in the room here.
//
// The room takes its mirror's term first: whatever the node that ran the
// room before writes from then on changes nothing (mirror_room.go), and
// what it wrote before is read here.
func (r *Room) restore(ctx context.Context) {
	r.takeTerm(ctx)
	version, data, ok, err := r.door.Mirrored(ctx, r.name)
	if err != nil {
		r.log.Warn("read the mirrored controls; starting afresh", "err", err)
		return
	}
	if !ok {
		return
	}
	r.mu.Lock()
	r.version = version // so that the versions go on, restored or not
	r.mu.Unlock()
	ids, keys, err := mirrorSeats(data)
	if err != nil {
		r.log.Warn("mirrored controls not restored", "err", err)
		return
	}
	seated := make(map[string]room.Participant, len(ids))
	var seen time.Time // the previous node's last sign of life
	for _, id := range ids {
		p, at, err := r.door.Adopt(ctx, r.name, id)
		if err != nil {
			if !errors.Is(err, room.ErrNotFound) {
				r.log.Warn("adopt a seat", "participant", id, "err", err)
			}
			continue
		}
		seated[id] = p
		if at.After(seen) {
			seen = at
		}
	}
	ctl, err := RestoreControls(data, ControlsConfig{}, seated)
	if err != nil {
		r.log.Warn("mirrored controls not restored", "err", err)
		return
	}
	grace := r.cfg.ReconnectGrace
	if grace <= 0 {
		grace = DefaultReconnectGrace
	}
	grace = restoredGrace(grace, seen, time.Now())
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return // the node is stopping
	}
	r.ctl = ctl
	for id, p := range seated {
		p.Role, _ = ctl.Role(id)
		x := &person{p: p, state: room.StateReconnecting, conn: absent{}, relay: newRelay(absent{}), key: keys[id]}
		x.grace = time.AfterFunc(grace, func() { r.expire(x) })
		r.people[id] = x
	}
	r.startTickerLocked()
	r.publishLocked()
	r.log.Info("controls restored from the room's previous node", "version", version, "seats", len(seated),
		"gone", len(ids)-len(seated), "grace", grace.String())
}

// minRestoredGrace is the least a seat restored here is held: time for a
// client that tries again every 5 s to come back and join.
const minRestoredGrace = 6 * time.Second

// restoredGrace is what is left, at now, of the reconnect grace of seats
// whose node was last seen alive at seen (they dropped then, at the
// latest), but never less than minRestoredGrace (nor more than grace).
func restoredGrace(grace time.Duration, seen, now time.Time) time.Duration {
	if seen.IsZero() {
		return grace
	}
	left := grace - now.Sub(seen)
	return min(grace, max(left, min(grace, minRestoredGrace)))
}
