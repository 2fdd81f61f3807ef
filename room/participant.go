package room

import (
	"slices"
	"time"
)

// State is where a present participant stands.
type State string

const (
	// StateActive: in the session, sending and receiving per role.
	StateActive State = "active"
	// StateWaiting: in the waiting room; sees and sends nothing.
	StateWaiting State = "waiting"
	// StateReconnecting: the connection dropped and may come back; the seat
	// is kept.
	StateReconnecting State = "reconnecting"
)

// Valid reports whether s is a known state.
func (s State) Valid() bool {
	return s == StateActive || s == StateWaiting || s == StateReconnecting
}

// Seated reports whether the state occupies a seat (counts toward capacity).
func (s State) Seated() bool { return s == StateActive || s == StateReconnecting }

// WaitReason says why an arrival is in the waiting room. The values are the
// protocol's reasons.
type WaitReason string

const (
	WaitForFacilitator WaitReason = "waiting_for_facilitator"
	WaitKnock          WaitReason = "knock"
	WaitLocked         WaitReason = "locked"
)

// Message is a sentence for the waiting person; facilitatorHere says
// whether a facilitator is in the session now.
func (r WaitReason) Message(facilitatorHere bool) string {
	switch {
	case r == WaitForFacilitator && facilitatorHere:
		return "The facilitator is here and will let you in shortly."
	case r == WaitForFacilitator:
		return "The session starts when the facilitator arrives."
	case r == WaitKnock && facilitatorHere:
		return "A facilitator will let you in shortly."
	case r == WaitKnock:
		return "A facilitator will let you in once they arrive."
	case r == WaitLocked && facilitatorHere:
		return "The room is locked; a facilitator may let you in."
	case r == WaitLocked:
		return "The room is locked; a facilitator may let you in once they are back."
	}
	return "Please wait."
}

// Participant is one presence in a room: one connection of one identity.
type Participant struct {
	ID       string `json:"id"` // "p_" + 8 hex digits
	Room     string `json:"room"`
	Identity string `json:"identity"`
	Name     string `json:"name"`
	Role     Role   `json:"role"`
	Node     string `json:"node"` // the server process hosting the connection
	State    State  `json:"state"`
	// Reason is set while State is StateWaiting.
	Reason WaitReason `json:"reason,omitempty"`
	// JoinedAt is the arrival time (for someone waiting: waiting since).
	JoinedAt time.Time `json:"joinedAt"`
}

// Session is the live state of a room: who is present (sorted by arrival),
// the lock and the blocked identities. A room with nobody present has an
// empty Session.
type Session struct {
	Room         string        `json:"room"`
	Locked       bool          `json:"locked"`
	Blocked      []string      `json:"blocked"` // sorted
	Participants []Participant `json:"participants"`
}

// Find returns the participant with id.
func (s Session) Find(id string) (Participant, bool) {
	for _, p := range s.Participants {
		if p.ID == id {
			return p, true
		}
	}
	return Participant{}, false
}

// Seated returns the participants holding a seat (active or reconnecting).
// FindIdentity returns the presence of identity, if any: a session has at
// most one per identity.
func (s Session) FindIdentity(identity string) (Participant, bool) {
	for _, p := range s.Participants {
		if p.Identity == identity {
			return p, true
		}
	}
	return Participant{}, false
}

func (s Session) Seated() []Participant {
	return s.filter(func(p Participant) bool { return p.State.Seated() })
}

// Waiting returns the waiting room, oldest first.
func (s Session) Waiting() []Participant {
	return s.filter(func(p Participant) bool { return p.State == StateWaiting })
}

// FacilitatorPresent reports whether a facilitator or co-facilitator holds a
// seat; a reconnecting one still counts, so a network blip does not send new
// arrivals to the waiting room.
func (s Session) FacilitatorPresent() bool {
	for _, p := range s.Participants {
		if p.State.Seated() && p.Role.IsFacilitator() {
			return true
		}
	}
	return false
}

// IsBlocked reports whether identity is blocked in this session.
func (s Session) IsBlocked(identity string) bool {
	return identity != "" && slices.Contains(s.Blocked, identity)
}

func (s Session) filter(keep func(Participant) bool) []Participant {
	out := []Participant{}
	for _, p := range s.Participants {
		if keep(p) {
			out = append(out, p)
		}
	}
	return out
}

// SortParticipants orders by arrival, then id, the order every Session uses.
func SortParticipants(ps []Participant) {
	slices.SortFunc(ps, func(a, b Participant) int {
		if c := a.JoinedAt.Compare(b.JoinedAt); c != 0 {
			return c
		}
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
}
