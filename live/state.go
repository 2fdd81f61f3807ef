package live

import (
	"time"

	"github.com/hearth-rtc/hearth/room"
)

// RoomState is the whole controls state at one version, as every client sees
// it (the protocol's room_state).
type RoomState struct {
	Version      uint64             `json:"version"`
	Ended        bool               `json:"ended"`
	Policy       Policy             `json:"policy"`
	Participants []ParticipantState `json:"participants"` // join order
	Hands        []Hand             `json:"hands"`        // queue order
	Floor        FloorState         `json:"floor"`
	Round        *RoundState        `json:"round"` // nil: no round
	Aside        *AsideState        `json:"aside"` // nil: no aside
	// Change is what caused this version; nil for the first.
	Change *Change `json:"change,omitempty"`
}

// ParticipantState is one seated participant's controls state.
type ParticipantState struct {
	ID       string    `json:"id"`
	Identity string    `json:"identity"`
	Name     string    `json:"name"`
	Role     room.Role `json:"role"`
	// SelfMuted is the participant's own mute; Muted a facilitator's.
	SelfMuted       Media `json:"selfMuted"`
	Muted           Media `json:"muted"`
	UnmuteRequested Media `json:"unmuteRequested"`
	// Audible says whether the group hears this participant's audio now
	// (everyone outside an aside; for the two in an aside it is false).
	Audible bool `json:"audible"`
}

// FloorState is the floor mode, holder and timed share.
type FloorState struct {
	Mode   FloorMode `json:"mode"`
	Holder string    `json:"holder,omitempty"`
	Timer  *Timer    `json:"timer,omitempty"`
}

// Timer is a timed share: Seconds long, ending at EndsAt. RemainingMs is
// computed when the state is taken, for clients whose clocks differ.
type Timer struct {
	Seconds     int       `json:"seconds"`
	EndsAt      time.Time `json:"endsAt"`
	RemainingMs int64     `json:"remainingMs"`
}

// RoundState is a go-around round: the turns in order, whose turn it is
// and who is next.
type RoundState struct {
	Order   RoundOrder `json:"order"`
	Seconds int        `json:"seconds"`
	Current string     `json:"current"`
	Next    string     `json:"next,omitempty"`
	Turns   []Turn     `json:"turns"`
}

// AsideState names the two people in a private aside.
type AsideState struct {
	Host   string `json:"host"`
	Member string `json:"member"`
}

// Snapshot returns a snapshot of the current state; it shares nothing with c.
func (c *Controls) Snapshot() RoomState {
	now := c.now()
	st := RoomState{
		Version: c.version, Ended: c.ended, Policy: c.policy,
		Participants: []ParticipantState{}, Hands: append([]Hand{}, c.hands...),
		Floor: FloorState{Mode: c.floor.mode, Holder: c.floor.holder},
	}
	if c.change != nil {
		ch := *c.change
		st.Change = &ch
	}
	for _, s := range c.participants() {
		st.Participants = append(st.Participants, ParticipantState{
			ID: s.p.ID, Identity: s.p.Identity, Name: s.p.Name, Role: s.p.Role,
			SelfMuted: s.self, Muted: s.enforced, UnmuteRequested: s.requested,
			Audible: s.p.Role.Can(room.PermPublishAudio) && !c.aside.has(s.p.ID) && c.audibleToGroup(s),
		})
	}
	if !c.floor.deadline.IsZero() {
		st.Floor.Timer = &Timer{Seconds: c.floor.seconds, EndsAt: c.floor.deadline.UTC(),
			RemainingMs: max(0, c.floor.deadline.Sub(now).Milliseconds())}
	}
	if r := c.round; r != nil {
		rs := &RoundState{Order: r.order, Seconds: r.seconds, Turns: append([]Turn{}, r.turns...),
			Current: r.turns[r.current].Participant}
		if n := r.nextPending(r.current); n >= 0 {
			rs.Next = r.turns[n].Participant
		}
		st.Round = rs
	}
	if c.aside != nil {
		st.Aside = &AsideState{Host: c.aside.host, Member: c.aside.member}
	}
	return st
}

// audibleToGroup applies the mute and floor rules to s's audio, leaving the
// aside aside.
func (c *Controls) audibleToGroup(s *seat) bool {
	holder := c.floor.holder == s.p.ID
	switch {
	case s.self.Audio:
		return false
	case s.enforced.Audio && !holder:
		return false
	case c.moderated() && !holder && !s.p.Role.IsFacilitator():
		return false
	}
	return true
}
