package room

import "time"

// The facilitator's roll: during a session, who is expected (the roster),
// who is here or waiting, and who has accepted the group agreement. It
// names roster members who are not present, so it is for facilitators and
// co-facilitators only.

// RollState is where a person on the roll is now.
type RollState string

const (
	RollPresent RollState = "present" // holding a seat (a held one too)
	RollWaiting RollState = "waiting" // in the waiting room
	RollMissing RollState = "missing" // on the roster and not here
)

// RollEntry is one person on the roll.
type RollEntry struct {
	Identity string
	Name     string
	Role     Role
	State    RollState
	// Participant is the seat's or waiting place's id while here.
	Participant string
	// AcceptedAt is when the person accepted the agreement, if that
	// acceptance lets them in now; zero otherwise.
	AcceptedAt time.Time
}

// Roll is the roll of a room now.
type Roll struct {
	// Agreement says the room has a group agreement to accept, and how
	// often (AcceptOncePerSeries or AcceptEverySession); empty if none.
	Agreement AcceptEvery
	// Entries: the roster in its order, then whoever is here without
	// being on it, in arrival order.
	Entries []RollEntry
}

// BuildRoll makes the roll from the room's configuration, its session
// (everyone present) and the acceptances that let people in now, by
// identity (RoomConfig.AcceptanceCovers).
func BuildRoll(cfg RoomConfig, sess Session, accepted map[string]Acceptance) Roll {
	var roll Roll
	if cfg.Agreement != nil {
		roll.Agreement = cfg.Agreement.Every
		if roll.Agreement == "" {
			roll.Agreement = AcceptOncePerSeries
		}
	}
	entry := func(e RollEntry) RollEntry {
		if acc, ok := accepted[e.Identity]; ok && cfg.Agreement != nil {
			e.AcceptedAt = acc.At
		}
		return e
	}
	onRoster := make(map[string]bool, len(cfg.Roster))
	for _, r := range cfg.Roster {
		onRoster[r.Identity] = true
		e := RollEntry{Identity: r.Identity, Name: r.Name, Role: r.Role, State: RollMissing}
		if e.Name == "" {
			e.Name = r.Identity
		}
		if p, ok := sess.FindIdentity(r.Identity); ok {
			e = here(e, p)
		}
		roll.Entries = append(roll.Entries, entry(e))
	}
	for _, p := range sess.Participants {
		if !onRoster[p.Identity] {
			roll.Entries = append(roll.Entries, entry(here(RollEntry{Identity: p.Identity}, p)))
		}
	}
	return roll
}

// here fills in a roll entry from the presence p.
func here(e RollEntry, p Participant) RollEntry {
	e.Name, e.Role, e.Participant, e.State = p.Name, p.Role, p.ID, RollPresent
	if p.State == StateWaiting {
		e.State = RollWaiting
	}
	return e
}

// Missing returns the entries of people on the roster who are not here.
func (r Roll) Missing() []RollEntry {
	var out []RollEntry
	for _, e := range r.Entries {
		if e.State == RollMissing {
			out = append(out, e)
		}
	}
	return out
}
