package room

import "time"

// Outcome is the kind of an admission decision.
type Outcome string

const (
	OutcomeAdmit  Outcome = "admit"
	OutcomeWait   Outcome = "wait"
	OutcomeRefuse Outcome = "refuse"
)

// Arrival is someone asking to enter a room.
type Arrival struct {
	// Identity is the token's subject; "" for an anonymous arrival.
	Identity string
	// Name is the display name (the token's name when there is a token).
	Name string
	// Role is the token's role; ignored without a token.
	Role     Role
	HasToken bool
	Passcode string
	// Passcodes, when set, remembers passcodes that matched, so that a
	// group arriving together pays for one full check (nil: every
	// passcode is checked in full).
	Passcodes *PasscodeMemo
	// At is when the arrival comes; a closed cohort's door (rule 5) is
	// checked against it, so a zero At finds it shut.
	At time.Time
}

// Decision is the result of Decide.
type Decision struct {
	Outcome Outcome
	// Role and Name are set for admit and wait: the role the participant
	// gets and the display name to use.
	Role Role
	Name string
	// Reason is set for wait.
	Reason WaitReason
	// Code and Message are set for refuse.
	Code    Code
	Message string
}

// Err returns the refusal as a *RefusedError, or nil for admit and wait.
func (d Decision) Err() error {
	if d.Outcome != OutcomeRefuse {
		return nil
	}
	return Refuse(d.Code, d.Message, nil)
}

// Decide applies the admission rules to one arrival, given the room's
// configuration and live session. It is pure: the capacity it checks is
// re-checked atomically by the store when the seat is taken.
//
// Rules, in order:
//  1. a blocked identity is refused (blocked);
//  2. closed rooms need a token whose identity is on the roster
//     (not_on_roster); the role is the token's, capped at the roster's;
//     open rooms take the token's role, or member without a token; a
//     member whose turn it is on the schedule's rota facilitates the
//     session (its window, from FacilitatorLead before the start);
//  3. a display name is required (bad_request);
//  4. everyone but facilitators must give the passcode, if set
//     (bad_passcode);
//  5. a closed cohort (a closed room with a schedule) refuses arrivals
//     outside its sessions (outside_session, saying when the next one is):
//     its door opens MemberLead before a session's start, FacilitatorLead
//     before for facilitators and co-facilitators, and shuts at its end;
//  6. facilitators and co-facilitators are admitted, whatever the lock,
//     knock or capacity;
//  7. a locked room refuses (room_locked) or sends to the waiting room
//     (locked), per LockBehavior;
//  8. a closed room without a facilitator present sends to the waiting room
//     (waiting_for_facilitator);
//  9. knock admission sends to the waiting room (knock);
//  10. a room whose seats are all taken refuses (room_full);
//  11. otherwise, admit.
func Decide(cfg RoomConfig, sess Session, a Arrival) Decision {
	if sess.IsBlocked(a.Identity) {
		return Decision{Outcome: OutcomeRefuse, Code: CodeBlocked, Message: "You were removed from this session."}
	}
	name := a.Name
	var role Role
	switch {
	case cfg.Kind == KindClosed:
		if !a.HasToken || a.Identity == "" {
			return Decision{Outcome: OutcomeRefuse, Code: CodeNotOnRoster, Message: "This room is by personal invitation only."}
		}
		entry, ok := cfg.RosterEntry(a.Identity)
		if !ok {
			return Decision{Outcome: OutcomeRefuse, Code: CodeNotOnRoster, Message: "You are not on this room's list of members."}
		}
		role = a.Role.AtMost(entry.Role)
		if !role.Valid() {
			role = entry.Role
		}
		if name == "" {
			name = entry.Name
		}
	case a.HasToken && a.Role.Valid():
		role = a.Role
	default:
		role = RoleMember
	}
	role = cfg.rotaRole(a, role)
	clean, err := CleanName(name)
	if err != nil {
		return Decision{Outcome: OutcomeRefuse, Code: CodeBadRequest, Message: "A display name of 1 to 64 characters is needed."}
	}
	d := Decision{Role: role, Name: clean}

	if !role.IsFacilitator() && !a.Passcodes.Check(cfg, a.Passcode) {
		return Decision{Outcome: OutcomeRefuse, Code: CodeBadPasscode, Message: "The passcode is wrong or missing."}
	}
	if refusal, open := cfg.door(role, a.At); !open {
		return refusal
	}
	if role.IsFacilitator() {
		d.Outcome = OutcomeAdmit
		return d
	}
	if sess.Locked {
		if cfg.LockBehavior == LockRefuse {
			return Decision{Outcome: OutcomeRefuse, Code: CodeRoomLocked, Message: "The room is locked."}
		}
		d.Outcome, d.Reason = OutcomeWait, WaitLocked
		return d
	}
	if cfg.Kind == KindClosed && !sess.FacilitatorPresent() {
		d.Outcome, d.Reason = OutcomeWait, WaitForFacilitator
		return d
	}
	if cfg.Knock {
		d.Outcome, d.Reason = OutcomeWait, WaitKnock
		return d
	}
	if len(sess.Seated()) >= cfg.Seats() {
		return Decision{Outcome: OutcomeRefuse, Code: CodeRoomFull, Message: "The room is full."}
	}
	d.Outcome = OutcomeAdmit
	return d
}

// Seats is how many participants the room seats: Capacity, or
// DefaultCapacity when unset.
func (c RoomConfig) Seats() int {
	if c.Capacity <= 0 {
		return DefaultCapacity
	}
	return c.Capacity
}
