package live

import (
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// The state clients are sent.

// Snapshot returns a snapshot of the current state; it shares nothing with c.
func (c *Controls) Snapshot() protocol.RoomState {
	now := c.now()
	st := protocol.RoomState{
		Version: c.version, Ended: c.ended, Policy: c.policy,
		Participants: []protocol.ParticipantState{}, Hands: append([]protocol.Hand{}, c.hands...),
		Floor: protocol.FloorState{Mode: c.floor.mode, Holder: c.floor.holder},
	}
	if c.change != nil {
		ch := *c.change
		st.Change = &ch
	}
	for _, s := range c.participants() {
		st.Participants = append(st.Participants, protocol.ParticipantState{
			ID: s.p.ID, Identity: s.p.Identity, Name: s.p.Name, Role: s.p.Role,
			SelfMuted: s.self, Muted: s.enforced, UnmuteRequested: s.requested,
			Audible:        s.p.Role.Can(room.PermPublishAudio) && !c.aside.has(s.p.ID) && !c.side.has(s.p.ID) && c.audibleToGroup(s),
			CanShareScreen: c.screen.may(s.p),
		})
	}
	if !c.floor.deadline.IsZero() {
		st.Floor.Timer = &protocol.Timer{Seconds: c.floor.seconds, EndsAt: c.floor.deadline.UTC(),
			RemainingMs: max(0, c.floor.deadline.Sub(now).Milliseconds())}
	}
	if r := c.round; r != nil {
		rs := &protocol.RoundState{Order: r.order, Seconds: r.seconds, Turns: append([]protocol.Turn{}, r.turns...),
			Current: r.speaker()}
		if n := r.nextPending(r.current); n >= 0 {
			rs.Next = r.turns[n].Participant
		}
		st.Round = rs
	}
	if c.aside != nil {
		st.Aside = &protocol.AsideState{Host: c.aside.host, Member: c.aside.member}
	}
	if c.screen.sharer != "" {
		st.ScreenShare = &protocol.ScreenShareState{Participant: c.screen.sharer, Since: c.screen.since.UTC()}
	}
	if c.handed != nil {
		st.Facilitation = &protocol.FacilitationState{Participant: c.handed.to, By: c.handed.by}
	}
	if c.side != nil {
		st.SideRoom = &protocol.SideRoomState{Host: c.side.host, Participants: append([]string{}, c.side.members...)}
	}
	return st
}
