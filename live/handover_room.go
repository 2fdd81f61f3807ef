package live

import (
	"context"

	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// Room's part of a hand-over of the facilitator role (peerled_commands.go):
// the people whose role changed follow the controls, and everyone is told.

// handOver applies hand_facilitation or take_back_facilitation. Each
// person whose role changed gets it (it decides who is sent the waiting
// list and talk time), the others are told (participant_updated), then
// everyone gets the new room_state; a new facilitator is sent who is
// waiting.
func (r *Room) handOver(ctx context.Context, from Conn, cmd Command) error {
	r.mu.Lock()
	if _, err := r.senderLocked(cmd.By, from); err != nil {
		r.mu.Unlock()
		return err
	}
	if r.ctl == nil {
		r.mu.Unlock()
		return ErrNotSeated
	}
	before := r.ctl.Version()
	if _, err := r.ctl.Apply(cmd); err != nil {
		r.mu.Unlock()
		return err
	}
	admitters := r.syncRolesLocked()
	r.changedLocked(before)
	r.mu.Unlock()
	r.log.Info("facilitator role", "change", string(cmd.Kind), "participant", cmd.Participant, "by", cmd.By)
	for _, x := range admitters {
		r.sendWaitingListTo(ctx, x)
		r.sendRollTo(ctx, x)
	}
	return nil
}

// syncRolesLocked gives each seated person the role the controls hold for
// them, tells the others of each change (participant_updated) and sends a
// new facilitator who is speaking and the talk time; it returns those who
// may now admit. Under mu.
func (r *Room) syncRolesLocked() []*person {
	var admitters []*person
	tracks := r.router.Tracks()
	for id, x := range r.people {
		role, ok := r.ctl.Role(id)
		if !ok || role == x.p.Role || !x.seated() {
			continue
		}
		gained := role.Can(room.PermAdmit) && !x.p.Role.Can(room.PermAdmit)
		x.p.Role = role
		r.broadcastLocked(protocol.ParticipantEvent{Type: "participant_updated", Participant: x.info(r.selfMutedLocked(id), tracks)}, id)
		if gained {
			r.sendSpeakersLocked(x)
			admitters = append(admitters, x)
		}
	}
	return admitters
}
