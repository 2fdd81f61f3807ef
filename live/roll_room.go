package live

import (
	"context"
	"time"

	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// The facilitator's roll (protocol.Roll): who is expected, here, waiting
// or missing, and who has accepted the group agreement. The admitters
// here get it when they take a seat and whenever someone arrives or
// leaves. It names people who are not present, so nobody else gets it.

// sendRoll tells the room's admitters here the roll, if any is seated.
func (r *Room) sendRoll(ctx context.Context) {
	r.mu.Lock()
	anyone := false
	for _, x := range r.people {
		if x.state == room.StateActive && x.p.Role.Can(room.PermAdmit) {
			anyone = true
			break
		}
	}
	r.mu.Unlock()
	if !anyone {
		return
	}
	msg, ok := r.roll(ctx)
	if !ok {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sendToLocked(room.PermAdmit, msg)
}

// sendRollTo tells one admitter, newly seated or given the role, the roll.
func (r *Room) sendRollTo(ctx context.Context, x *person) {
	msg, ok := r.roll(ctx)
	if !ok {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.people[x.p.ID] == x && x.state == room.StateActive && x.p.Role.Can(room.PermAdmit) {
		x.conn.Send(msg)
	}
}

func (r *Room) roll(ctx context.Context) (protocol.Roll, bool) {
	roll, err := r.door.Roll(ctx, r.name)
	if err != nil {
		r.log.Warn("roll", "err", err)
		return protocol.Roll{}, false
	}
	if len(roll.Entries) == 0 && roll.Agreement == "" {
		return protocol.Roll{}, false // a drop-in room: nothing to tell
	}
	msg := protocol.Roll{Type: "roll", Agreement: roll.Agreement, People: make([]protocol.RollEntry, 0, len(roll.Entries))}
	for _, e := range roll.Entries {
		pe := protocol.RollEntry{Identity: e.Identity, Name: e.Name, Role: e.Role, State: string(e.State), Participant: e.Participant}
		if !e.AcceptedAt.IsZero() {
			pe.AcceptedAt = e.AcceptedAt.UTC().Format(time.RFC3339)
		}
		msg.People = append(msg.People, pe)
	}
	return msg, true
}
