package live

import (
	"context"
	"errors"

	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// Room's commands: every facilitator control, turn-taking command, admit,
// deny, lock, remove and end_session is authorized here, against the
// sender's seat and role on this node, and applied here; membership (the
// door) only writes what was decided.

// Apply authorizes and applies a command sent by the person seated as id
// through from. Refusals are room.RefusedError (bad_request, forbidden);
// ErrWaiting and ErrNotSeated say the sender holds no seat; the door's
// errors (unavailable, room_full) pass through.
func (r *Room) Apply(ctx context.Context, id string, from Conn, cmd Command) error {
	cmd.By = id
	if err := r.authorize(from, cmd); err != nil {
		return err
	}
	switch cmd.Kind {
	case protocol.CmdAdmit:
		return r.admit(ctx, cmd.Participant)
	case protocol.CmdDeny:
		return r.deny(ctx, cmd.Participant)
	case protocol.CmdLock:
		return r.lock(ctx, cmd.Locked)
	case protocol.CmdRemove:
		return r.remove(ctx, from, cmd)
	case protocol.CmdEndSession:
		return r.endSession(from, cmd)
	case protocol.CmdHandFacilitation, protocol.CmdTakeBackFacilitation:
		return r.handOver(ctx, from, cmd)
	case protocol.CmdStartRound:
		if cmd.Order == protocol.OrderRoster {
			roster, err := r.roster(ctx)
			if err != nil {
				return err
			}
			cmd.Roster = roster
		}
	}
	return r.applyControls(from, cmd)
}

// authorize checks, changing nothing, that the sender is seated here and
// its role allows cmd (Controls.Authorize).
func (r *Room) authorize(from Conn, cmd Command) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := r.senderLocked(cmd.By, from); err != nil {
		return err
	}
	if r.ctl == nil {
		return ErrNotSeated
	}
	return r.ctl.Authorize(cmd)
}

// applyControls applies a command of the controls; on a change the gate
// and every client follow.
func (r *Room) applyControls(from Conn, cmd Command) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := r.senderLocked(cmd.By, from); err != nil {
		return err
	}
	if r.ctl == nil {
		return ErrNotSeated
	}
	before := r.ctl.Version()
	if _, err := r.ctl.Apply(cmd); err != nil {
		return err
	}
	r.changedLocked(before)
	return nil
}

// roster lists the room's roster identities in order (none for a drop-in
// room).
func (r *Room) roster(ctx context.Context) ([]string, error) {
	cfg, err := r.door.Room(ctx, r.name)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(cfg.Roster))
	for _, e := range cfg.Roster {
		ids = append(ids, e.Identity)
	}
	return ids, nil
}

// admit seats one person waiting, or everyone ("*"); those waiting here
// are seated at once. The admitters see the waiting list change.
func (r *Room) admit(ctx context.Context, target string) error {
	admitted, err := r.door.Admit(ctx, r.name, target)
	var info room.Info
	if len(admitted) > 0 {
		info = r.door.RoomInfo(ctx, r.name)
	}
	for _, p := range admitted {
		r.mu.Lock()
		x := r.people[p.ID]
		if x != nil && x.state == room.StateWaiting {
			x.p = p
		}
		r.mu.Unlock()
		if x == nil {
			continue // waiting on another node, which seats them
		}
		if serr := r.seat(ctx, x, info); serr != nil {
			r.log.Error("seat an admitted participant", "participant", p.ID, "err", serr)
			r.mu.Lock()
			if r.people[p.ID] == x {
				x.conn.Send(protocol.Error{Type: "error", Code: protocol.CodeInternal, Message: "Something went wrong on the server."})
			}
			r.mu.Unlock()
		}
	}
	r.sendWaitingList(ctx)
	return err
}

// deny turns away one person waiting, or everyone ("*"); those waiting
// here get error denied and are disconnected.
func (r *Room) deny(ctx context.Context, target string) error {
	denied, err := r.door.Deny(ctx, r.name, target)
	var rels []released
	r.mu.Lock()
	for _, p := range denied {
		if x := r.people[p.ID]; x != nil && x.state == room.StateWaiting {
			x.conn.Close(protocol.Error{Type: "error", Code: protocol.CodeDenied,
				Message: "The facilitator did not admit you to this session."})
			rels = append(rels, r.releaseLocked(x))
		}
	}
	r.mu.Unlock()
	r.finish(rels, "denied")
	r.sendWaitingList(ctx)
	return err
}

// lock locks or unlocks the room, at once even while the store cannot be
// reached, and tells everyone here.
func (r *Room) lock(ctx context.Context, locked bool) error {
	if err := r.door.Lock(ctx, r.name, locked); err != nil {
		return err
	}
	info := r.door.RoomInfo(ctx, r.name)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.info = info
	r.broadcastLocked(protocol.RoomUpdated{Type: "room_updated", Room: info}, "")
	return nil
}

// remove takes a seated participant out of the session (with cmd.Block,
// its identity for the rest of the session), at once even while the store
// cannot be reached: its media stops, then its connection gets bye
// removed and closes.
func (r *Room) remove(ctx context.Context, from Conn, cmd Command) error {
	if _, err := r.door.Remove(ctx, r.name, cmd.Participant, cmd.Block); err != nil {
		return err
	}
	r.mu.Lock()
	if _, err := r.senderLocked(cmd.By, from); err == nil && r.ctl != nil {
		before := r.ctl.Version()
		if _, err := r.ctl.Apply(cmd); err != nil && !errors.Is(err, room.ErrInvalid) {
			r.mu.Unlock()
			return err // ErrInvalid: it left meanwhile
		}
		r.changedLocked(before)
	}
	x := r.people[cmd.Participant]
	if x == nil {
		r.mu.Unlock()
		return nil
	}
	x.conn.Close(protocol.Bye{Type: "bye", Reason: "removed"})
	rel := r.releaseLocked(x)
	r.mu.Unlock()
	r.log.Info("removed", "participant", cmd.Participant, "by", cmd.By, "blocked", cmd.Block)
	r.finishOne(rel, "removed")
	return nil
}

// endSession ends the session for everyone here, seated or waiting: the
// last room_state says ended, then each gets bye ended.
func (r *Room) endSession(from Conn, cmd Command) error {
	r.mu.Lock()
	if _, err := r.senderLocked(cmd.By, from); err != nil {
		r.mu.Unlock()
		return err
	}
	before := r.ctl.Version()
	if _, err := r.ctl.Apply(cmd); err != nil {
		r.mu.Unlock()
		return err
	}
	r.changedLocked(before)
	rels := r.releaseAllLocked(protocol.Bye{Type: "bye", Reason: "ended"})
	r.mu.Unlock()
	r.log.Info("session ended", "by", cmd.By)
	r.finish(rels, "ended")
	return nil
}

// endByOperator ends the session as end_session does, on the word of the
// operator (the admin API) rather than of someone seated. It reports
// false if nobody was seated yet (no session to end).
func (r *Room) endByOperator() bool {
	r.mu.Lock()
	if r.ctl == nil {
		r.mu.Unlock()
		return false
	}
	before := r.ctl.Version()
	if !r.ctl.EndByOperator() {
		r.mu.Unlock()
		return false
	}
	r.changedLocked(before)
	rels := r.releaseAllLocked(protocol.Bye{Type: "bye", Reason: "ended"})
	r.mu.Unlock()
	r.log.Info("session ended by the operator")
	r.finish(rels, "ended")
	return true
}
