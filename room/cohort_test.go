package room_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/room"
)

// cohort is a closed room meeting on Thursdays at 19:00 London time for 90
// minutes, 3 December 2026 to 4 February 2027 (10 sessions).
func cohort() room.RoomConfig {
	return room.RoomConfig{Name: "thursday-cohort", Kind: room.KindClosed, Capacity: 8, LockBehavior: room.LockWaiting,
		Roster: []room.RosterEntry{
			{Identity: "dr-lee", Name: "Dr Lee", Role: room.RoleFacilitator},
			{Identity: "co", Name: "Co", Role: room.RoleCoFacilitator},
			{Identity: "rae", Name: "Rae", Role: room.RoleMember},
			{Identity: "obs", Name: "Obs", Role: room.RoleObserver},
		},
		Schedule: &room.Schedule{FirstDate: "2026-12-03", StartTime: "19:00", Minutes: 90, Repeat: room.RepeatWeekly,
			Sessions: 10, TimeZone: "Europe/London"}}
}

// TestDecideCohortDoor: a closed cohort admits members from 15 minutes
// before each session to its end and facilitators from 30 minutes before;
// otherwise it refuses with outside_session and says when the next session
// is. The roster, block and passcode rules still come first; open rooms
// and closed rooms without a schedule have no door.
func TestDecideCohortDoor(t *testing.T) {
	london := zone(t, "Europe/London")
	at := func(y int, mo time.Month, d, hh, mm int) time.Time { return time.Date(y, mo, d, hh, mm, 0, 0, london) }
	withFac := room.Session{Participants: []room.Participant{{ID: "p_f", Identity: "dr-lee", Role: room.RoleFacilitator, State: room.StateActive}}}
	token := func(id string, role room.Role, t time.Time) room.Arrival {
		return room.Arrival{Identity: id, Role: role, HasToken: true, At: t}
	}
	c := cohort()
	next10Dec := "The next session is on Thursday 10 December at 19:00 (Europe/London)."
	cases := []struct {
		name string
		cfg  room.RoomConfig
		sess room.Session
		a    room.Arrival
		want room.Outcome
		code room.Code
		msg  string
	}{
		{"member early", c, withFac, token("rae", room.RoleMember, at(2026, 12, 3, 18, 44)), room.OutcomeRefuse, room.CodeOutsideSession,
			"The next session is on Thursday 3 December at 19:00 (Europe/London)."},
		{"member 15 min early", c, withFac, token("rae", room.RoleMember, at(2026, 12, 3, 18, 45)), room.OutcomeAdmit, "", ""},
		{"member before facilitator waits", c, room.Session{}, token("rae", room.RoleMember, at(2026, 12, 3, 18, 50)), room.OutcomeWait, "", ""},
		{"member last minute", c, withFac, token("rae", room.RoleMember, at(2026, 12, 3, 20, 29)), room.OutcomeAdmit, "", ""},
		{"member after the end", c, withFac, token("rae", room.RoleMember, at(2026, 12, 3, 20, 30)), room.OutcomeRefuse, room.CodeOutsideSession, next10Dec},
		{"member between sessions", c, room.Session{}, token("rae", room.RoleMember, at(2026, 12, 7, 12, 0)), room.OutcomeRefuse, room.CodeOutsideSession, next10Dec},
		{"observer early", c, withFac, token("obs", room.RoleObserver, at(2026, 12, 10, 18, 40)), room.OutcomeRefuse, room.CodeOutsideSession, next10Dec},
		{"facilitator 30 min early", c, room.Session{}, token("dr-lee", room.RoleFacilitator, at(2026, 12, 10, 18, 30)), room.OutcomeAdmit, "", ""},
		{"co-facilitator 30 min early", c, room.Session{}, token("co", room.RoleCoFacilitator, at(2026, 12, 10, 18, 30)), room.OutcomeAdmit, "", ""},
		{"facilitator too early", c, room.Session{}, token("dr-lee", room.RoleFacilitator, at(2026, 12, 10, 18, 29)), room.OutcomeRefuse, room.CodeOutsideSession, next10Dec},
		{"facilitator token lowered to member", c, room.Session{}, token("dr-lee", room.RoleMember, at(2026, 12, 10, 18, 30)), room.OutcomeRefuse, room.CodeOutsideSession, next10Dec},
		{"over the new year", c, room.Session{}, token("rae", room.RoleMember, at(2026, 12, 31, 21, 0)), room.OutcomeRefuse, room.CodeOutsideSession,
			"The next session is on Thursday 7 January 2027 at 19:00 (Europe/London)."},
		{"series over", c, withFac, token("rae", room.RoleMember, at(2027, 2, 4, 20, 30)), room.OutcomeRefuse, room.CodeOutsideSession,
			"This group's sessions have ended."},
		{"no time given", c, withFac, room.Arrival{Identity: "rae", Role: room.RoleMember, HasToken: true}, room.OutcomeRefuse, room.CodeOutsideSession, ""},
		// The person's own refusals come first and say nothing of the schedule.
		{"not on roster", c, withFac, token("stranger", room.RoleMember, at(2026, 12, 3, 12, 0)), room.OutcomeRefuse, room.CodeNotOnRoster, ""},
		{"no token", c, withFac, room.Arrival{Name: "X", At: at(2026, 12, 3, 12, 0)}, room.OutcomeRefuse, room.CodeNotOnRoster, ""},
		{"blocked", c, room.Session{Blocked: []string{"rae"}}, token("rae", room.RoleMember, at(2026, 12, 3, 12, 0)), room.OutcomeRefuse, room.CodeBlocked, ""},
		// No door without a schedule, or in an open room.
		{"closed without schedule", func() room.RoomConfig { x := cohort(); x.Schedule = nil; return x }(), withFac,
			token("rae", room.RoleMember, at(2026, 12, 7, 12, 0)), room.OutcomeAdmit, "", ""},
		{"open with schedule", func() room.RoomConfig { x := cohort(); x.Kind = room.KindOpen; return x }(), withFac,
			room.Arrival{Name: "Drop-in", At: at(2026, 12, 7, 12, 0)}, room.OutcomeAdmit, "", ""},
	}
	for _, tc := range cases {
		d := room.Decide(tc.cfg, tc.sess, tc.a)
		if d.Outcome != tc.want || d.Code != tc.code {
			t.Errorf("%s: %s %s (%q), want %s %s", tc.name, d.Outcome, d.Code, d.Message, tc.want, tc.code)
			continue
		}
		if tc.msg != "" && d.Message != tc.msg {
			t.Errorf("%s: message %q, want %q", tc.name, d.Message, tc.msg)
		}
		if d.Outcome == room.OutcomeRefuse && room.ErrorCode(d.Err()) != tc.code {
			t.Errorf("%s: ErrorCode = %q", tc.name, room.ErrorCode(d.Err()))
		}
	}
}

// TestRosterClosesAfterFirstSession: adding someone to a closed cohort's
// roster after its first session ended needs an override, which is
// recorded with who decided and when; removals and role changes do not,
// nor does anything before the first session's end.
func TestRosterClosesAfterFirstSession(t *testing.T) {
	london := zone(t, "Europe/London")
	old := cohort()
	during := time.Date(2026, 12, 3, 20, 29, 0, 0, london)
	after := time.Date(2026, 12, 3, 20, 30, 0, 0, london)
	if old.RosterClosed(during) || !old.RosterClosed(after) {
		t.Fatalf("RosterClosed: during %v, after %v", old.RosterClosed(during), old.RosterClosed(after))
	}
	add := func(c room.RoomConfig) room.RoomConfig {
		c = c.Clone()
		c.Roster = append(c.Roster, room.RosterEntry{Identity: "kim", Name: "Kim", Role: room.RoleMember})
		return c
	}

	c := add(old)
	if err := c.GuardRoster(old, during, ""); err != nil || len(c.RosterOverrides) != 0 {
		t.Fatalf("adding during the first session: %v %+v", err, c.RosterOverrides)
	}
	c = add(old)
	err := c.GuardRoster(old, after, "")
	if !errors.Is(err, room.ErrRosterClosed) || !strings.Contains(err.Error(), "kim") {
		t.Fatalf("adding after the first session without override: %v", err)
	}
	c = add(old)
	if err := c.GuardRoster(old, after, "  Dr Lee "); err != nil {
		t.Fatal(err)
	}
	if len(c.RosterOverrides) != 1 || c.RosterOverrides[0] != (room.RosterOverride{Identity: "kim", By: "Dr Lee", At: after.UTC()}) {
		t.Fatalf("override recorded as %+v", c.RosterOverrides)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("config with an override: %v", err)
	}
	c = add(old)
	if err := c.GuardRoster(old, after, "bad\x00name"); !errors.Is(err, room.ErrInvalid) {
		t.Fatalf("override by a bad name: %v", err)
	}

	// Removing someone and changing a role need nothing.
	c = old.Clone()
	c.Roster = c.Roster[:2]
	c.Roster[1].Role = room.RoleMember
	if err := c.GuardRoster(old, after, ""); err != nil {
		t.Fatalf("removal and role change: %v", err)
	}
	// Open rooms and rooms without a schedule have no closing roster.
	for _, o := range []room.RoomConfig{func() room.RoomConfig { x := cohort(); x.Kind = room.KindOpen; return x }(),
		func() room.RoomConfig { x := cohort(); x.Schedule = nil; return x }()} {
		c := add(o)
		if err := c.GuardRoster(o, after, ""); err != nil {
			t.Fatalf("%s room: %v", o.Kind, err)
		}
	}
}

func TestConfigCarriesSeriesAndAgreement(t *testing.T) {
	c := cohort()
	c.Agreement = &room.Agreement{Text: "What is said here stays here.\nNo recording."}
	c.Normalize()
	if c.Agreement.Every != room.AcceptOncePerSeries {
		t.Fatalf("agreement default: %q", c.Agreement.Every)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	d := c.Clone()
	d.Schedule.Minutes, d.Agreement.Text = 60, "changed"
	d.RosterOverrides = append(d.RosterOverrides, room.RosterOverride{Identity: "x"})
	if c.Schedule.Minutes != 90 || c.Agreement.Text == "changed" || len(c.RosterOverrides) != 0 {
		t.Fatal("Clone shares the schedule, agreement or overrides")
	}
	bad := map[string]func(*room.RoomConfig){
		"schedule":              func(c *room.RoomConfig) { c.Schedule.TimeZone = "Nowhere/Town" },
		"agreement":             func(c *room.RoomConfig) { c.Agreement.Text = "" },
		"every session, no sch": func(c *room.RoomConfig) { c.Schedule, c.Agreement.Every = nil, room.AcceptEverySession },
		"override identity": func(c *room.RoomConfig) {
			c.RosterOverrides = []room.RosterOverride{{Identity: "a b", By: "X", At: time.Now()}}
		},
		"override by":   func(c *room.RoomConfig) { c.RosterOverrides = []room.RosterOverride{{Identity: "a", At: time.Now()}} },
		"override time": func(c *room.RoomConfig) { c.RosterOverrides = []room.RosterOverride{{Identity: "a", By: "X"}} },
	}
	for what, f := range bad {
		x := c.Clone()
		f(&x)
		if err := x.Validate(); !errors.Is(err, room.ErrInvalid) {
			t.Errorf("%s: Validate = %v, want ErrInvalid", what, err)
		}
	}
}
