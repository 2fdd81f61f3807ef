package room

import "fmt"

// Peer-led groups: who may run turn-taking while no facilitator is
// present (PeerLed), and a series' rota, which makes one member the
// facilitator of each session.

// PeerLed says who may start rounds and pass the floor while no
// facilitator or co-facilitator is present.
type PeerLed string

const (
	// PeerLedNobody: only facilitators run turn-taking (the default).
	PeerLedNobody PeerLed = "nobody"
	// PeerLedMembers: while no facilitator is present, any member may
	// start, move on and end rounds, give and take the floor, set its mode
	// and time a share. Nothing else (mutes, removal, admission) passes to
	// members.
	PeerLedMembers PeerLed = "members"
)

// Valid reports whether p is a known setting; empty means nobody.
func (p PeerLed) Valid() bool { return p == "" || p == PeerLedNobody || p == PeerLedMembers }

// Members reports whether members may run turn-taking without a
// facilitator present.
func (p PeerLed) Members() bool { return p == PeerLedMembers }

// validateRota checks a rota: one identity (or "" for nobody) per session,
// at most MaxSessions of them.
func validateRota(rota []string) error {
	if len(rota) > MaxSessions {
		return errf("schedule: rota has more than %d entries", MaxSessions)
	}
	for i, id := range rota {
		if id == "" {
			continue
		}
		if err := ValidIdentity(id); err != nil {
			return fmt.Errorf("schedule: rota[%d]: %w", i, err)
		}
	}
	return nil
}

// RotaFor returns the identity whose turn it is to facilitate session n
// (from 1): the rota's entries in turn, starting again from the first
// when the series has more sessions than the rota has entries. "" means
// nobody's turn.
func (s Schedule) RotaFor(n int) string {
	if len(s.Rota) == 0 || n < 1 {
		return ""
	}
	return s.Rota[(n-1)%len(s.Rota)]
}

// rotaRole returns the role of an arrival given role so far: a member
// whose turn it is on the rota, arriving with a token within the session's
// window (from FacilitatorLead before its start to its end), facilitates
// that session. Any other arrival keeps role.
func (c RoomConfig) rotaRole(a Arrival, role Role) Role {
	if role != RoleMember || !a.HasToken || a.Identity == "" || c.Schedule == nil || len(c.Schedule.Rota) == 0 {
		return role
	}
	x, err := c.Schedule.Series()
	if err != nil {
		return role
	}
	s, ok := x.At(a.At, FacilitatorLead)
	if !ok || c.Schedule.RotaFor(s.Number) != a.Identity {
		return role
	}
	return RoleFacilitator
}
