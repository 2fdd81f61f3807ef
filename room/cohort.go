package room

import (
	"errors"
	"fmt"
	"time"
)

// A closed cohort is a closed room with a schedule: its door is open only
// around its sessions, and its roster closes once the first session has
// ended, after which adding someone needs an override that is recorded.

// ErrRosterClosed: the roster of a closed cohort is closed and the change
// adds someone without an override.
var ErrRosterClosed = errors.New("room: roster closed")

// RosterOverride records that someone was added to a closed cohort's
// roster after it closed: who was added, who decided, and when.
type RosterOverride struct {
	Identity string    `json:"identity"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
}

// Cohort reports whether the room is a closed cohort (closed, with a
// schedule).
func (c RoomConfig) Cohort() bool { return c.Kind == KindClosed && c.Schedule != nil }

// RosterClosed reports whether a closed cohort's roster is closed at now:
// from the end of its first session on.
func (c RoomConfig) RosterClosed(now time.Time) bool {
	if !c.Cohort() {
		return false
	}
	x, err := c.Schedule.Series()
	if err != nil {
		return false
	}
	first, ok := x.Session(1)
	return ok && !now.Before(first.End)
}

// GuardRoster checks a change of roster from old (the stored
// configuration) to c at now. While old's roster is closed, adding anyone
// needs overrideBy, the name of whoever decides: each addition is then
// recorded in c.RosterOverrides. Without it the change fails with
// ErrRosterClosed. Removals and role changes need nothing.
func (c *RoomConfig) GuardRoster(old RoomConfig, now time.Time, overrideBy string) error {
	if !old.RosterClosed(now) {
		return nil
	}
	var added []string
	for _, e := range c.Roster {
		if _, ok := old.RosterEntry(e.Identity); !ok {
			added = append(added, e.Identity)
		}
	}
	if len(added) == 0 {
		return nil
	}
	if overrideBy == "" {
		return fmt.Errorf("%w: the roster closed when the first session ended; adding %q needs an override naming who decides", ErrRosterClosed, added[0])
	}
	by, err := CleanName(overrideBy)
	if err != nil {
		return fmt.Errorf("override: %w", err)
	}
	for _, id := range added {
		c.RosterOverrides = append(c.RosterOverrides, RosterOverride{Identity: id, By: by, At: now.UTC()})
	}
	return nil
}

// validateOverrides checks recorded overrides; errors wrap ErrInvalid.
func validateOverrides(os []RosterOverride) error {
	if len(os) > MaxRosterSize {
		return errf("more than %d roster overrides", MaxRosterSize)
	}
	for i, o := range os {
		if err := ValidIdentity(o.Identity); err != nil {
			return fmt.Errorf("rosterOverrides[%d]: %w", i, err)
		}
		if _, err := CleanName(o.By); err != nil {
			return fmt.Errorf("rosterOverrides[%d]: by: %w", i, err)
		}
		if o.At.IsZero() {
			return errf("rosterOverrides[%d]: time is required", i)
		}
	}
	return nil
}

// door applies a closed cohort's window to an arrival of role at t (rule 5
// of Decide): refused with outside_session and the next session's date
// unless t is within Lead(role) before a session's start and its end.
func (c RoomConfig) door(role Role, t time.Time) (Decision, bool) {
	if !c.Cohort() {
		return Decision{}, true
	}
	x, err := c.Schedule.Series()
	if err != nil {
		// A schedule this server cannot read (no time zone data) keeps the
		// door shut rather than open.
		return Decision{Outcome: OutcomeRefuse, Code: CodeInternal, Message: "The group's schedule could not be read."}, false
	}
	if x.Open(t, role) {
		return Decision{}, true
	}
	return Decision{Outcome: OutcomeRefuse, Code: CodeOutsideSession, Message: x.NextSentence(t)}, false
}
