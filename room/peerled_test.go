package room_test

import (
	"errors"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/room"
)

// TestRotaAtTheDoor: the member whose turn it is on the rota facilitates
// that session, from FacilitatorLead before its start to its end; nobody
// else's role changes, and outside a session's window nobody's does.
func TestRotaAtTheDoor(t *testing.T) {
	first := time.Date(2026, 12, 3, 19, 0, 0, 0, time.UTC)
	cohort := room.RoomConfig{Name: "peers", Kind: room.KindClosed, Capacity: 8, LockBehavior: room.LockWaiting,
		Roster: []room.RosterEntry{
			{Identity: "dr-lee", Role: room.RoleFacilitator},
			{Identity: "rae", Role: room.RoleMember},
			{Identity: "kim", Role: room.RoleMember},
			{Identity: "obs", Role: room.RoleObserver},
		},
		Schedule: &room.Schedule{FirstDate: "2026-12-03", StartTime: "19:00", Minutes: 90, Repeat: room.RepeatWeekly,
			Sessions: 5, TimeZone: "UTC", Rota: []string{"rae", "kim", ""}}}
	cohort.Normalize()
	if err := cohort.Validate(); err != nil {
		t.Fatal(err)
	}
	open := cohort
	open.Kind = room.KindOpen
	week := 7 * 24 * time.Hour
	facilitating := room.Session{Participants: []room.Participant{{ID: "p_1", Role: room.RoleFacilitator, State: room.StateActive}}}
	for _, tc := range []struct {
		name     string
		cfg      room.RoomConfig
		identity string
		role     room.Role
		token    bool
		at       time.Time
		want     room.Role
	}{
		{"rae's session", cohort, "rae", room.RoleMember, true, first, room.RoleFacilitator},
		{"rae sets up early", cohort, "rae", room.RoleMember, true, first.Add(-room.FacilitatorLead), room.RoleFacilitator},
		{"kim in rae's session", cohort, "kim", room.RoleMember, true, first, room.RoleMember},
		{"kim's session", cohort, "kim", room.RoleMember, true, first.Add(week + time.Hour), room.RoleFacilitator},
		{"rae in kim's session", cohort, "rae", room.RoleMember, true, first.Add(week), room.RoleMember},
		{"nobody's turn", cohort, "rae", room.RoleMember, true, first.Add(2 * week), room.RoleMember},
		{"the rota again", cohort, "rae", room.RoleMember, true, first.Add(3 * week), room.RoleFacilitator},
		{"the facilitator stays", cohort, "dr-lee", room.RoleFacilitator, true, first, room.RoleFacilitator},
		// Open room: the rota holds in the session's window only.
		{"open, in the window", open, "rae", room.RoleMember, true, first.Add(30 * time.Minute), room.RoleFacilitator},
		{"open, too early", open, "rae", room.RoleMember, true, first.Add(-room.FacilitatorLead - time.Minute), room.RoleMember},
		{"open, after the end", open, "rae", room.RoleMember, true, first.Add(90 * time.Minute), room.RoleMember},
		// An observer is not made a facilitator, nor is anyone without a
		// token claiming the identity.
		{"open, an observer's token", open, "rae", room.RoleObserver, true, first, room.RoleObserver},
		{"open, no token", open, "rae", room.RoleMember, false, first, room.RoleMember},
	} {
		d := room.Decide(tc.cfg, facilitating, room.Arrival{Identity: tc.identity, Name: "N", Role: tc.role, HasToken: tc.token, At: tc.at})
		if d.Outcome != room.OutcomeAdmit || d.Role != tc.want {
			t.Errorf("%s: %+v, want admitted as %s", tc.name, d, tc.want)
		}
	}
	// The rota's facilitator opens a closed room nobody else has opened.
	if d := room.Decide(cohort, room.Session{}, room.Arrival{Identity: "rae", Name: "Rae", Role: room.RoleMember, HasToken: true, At: first}); d.Outcome != room.OutcomeAdmit {
		t.Errorf("rae on her turn, alone: %+v", d)
	}
}

func TestRotaAndPeerLedValidation(t *testing.T) {
	base := func() room.RoomConfig {
		c := room.RoomConfig{Name: "peers", Kind: room.KindOpen,
			Schedule: &room.Schedule{FirstDate: "2026-12-03", StartTime: "19:00", Minutes: 60, Repeat: room.RepeatWeekly, Sessions: 3, TimeZone: "UTC"}}
		c.Normalize()
		return c
	}
	for _, tc := range []struct {
		name string
		edit func(*room.RoomConfig)
		ok   bool
	}{
		{"no rota", func(*room.RoomConfig) {}, true},
		{"a rota", func(c *room.RoomConfig) { c.Schedule.Rota = []string{"rae", "", "kim", "rae"} }, true},
		{"a bad identity", func(c *room.RoomConfig) { c.Schedule.Rota = []string{"rae smith"} }, false},
		{"too long", func(c *room.RoomConfig) { c.Schedule.Rota = make([]string, room.MaxSessions+1) }, false},
		{"peer-led by members", func(c *room.RoomConfig) { c.PeerLed = room.PeerLedMembers }, true},
		{"peer-led by nobody", func(c *room.RoomConfig) { c.PeerLed = room.PeerLedNobody }, true},
		{"peer-led by anyone", func(c *room.RoomConfig) { c.PeerLed = "anyone" }, false},
	} {
		c := base()
		tc.edit(&c)
		err := c.Validate()
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, room.ErrInvalid)) {
			t.Errorf("%s: %v, want ok %v", tc.name, err, tc.ok)
		}
	}
	// A clone does not share the rota.
	c := base()
	c.Schedule.Rota = []string{"rae"}
	d := c.Clone()
	d.Schedule.Rota[0] = "kim"
	if c.Schedule.Rota[0] != "rae" {
		t.Fatal("Clone shares the rota")
	}
	if (room.Schedule{Rota: []string{"a", "b"}}).RotaFor(5) != "a" || (room.Schedule{}).RotaFor(1) != "" {
		t.Fatal("RotaFor")
	}
}
