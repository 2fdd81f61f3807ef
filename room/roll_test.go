package room_test

import (
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/room"
)

// TestBuildRoll: the roster in its order, each marked present, waiting or
// missing, then those here without being on it; acceptances by identity,
// and none at all in a room without an agreement.
func TestBuildRoll(t *testing.T) {
	at := time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC)
	cfg := room.DefaultRoomConfig("circle")
	cfg.Kind = room.KindClosed
	cfg.Roster = []room.RosterEntry{
		{Identity: "fran", Name: "Fran", Role: room.RoleFacilitator},
		{Identity: "ann", Name: "Ann", Role: room.RoleMember},
		{Identity: "ben", Role: room.RoleMember},
		{Identity: "cat", Name: "Cat", Role: room.RoleMember},
	}
	cfg.Agreement = &room.Agreement{Text: "What is said here stays here."}
	sess := room.Session{Room: "circle", Participants: []room.Participant{
		{ID: "p_1", Identity: "fran", Name: "Fran", Role: room.RoleFacilitator, State: room.StateActive},
		{ID: "p_2", Identity: "cat", Name: "Cat", Role: room.RoleMember, State: room.StateWaiting},
		{ID: "p_3", Identity: "anon-1", Name: "Guest", Role: room.RoleMember, State: room.StateReconnecting},
		{ID: "p_4", Identity: "ann", Name: "Annie", Role: room.RoleMember, State: room.StateActive},
	}}
	accepted := map[string]room.Acceptance{
		"ann":    {Identity: "ann", Version: cfg.Agreement.Version(), At: at},
		"anon-1": {Identity: "anon-1", Version: cfg.Agreement.Version(), At: at.Add(time.Minute)},
	}
	roll := room.BuildRoll(cfg, sess, accepted)
	if roll.Agreement != room.AcceptOncePerSeries {
		t.Errorf("agreement = %q", roll.Agreement)
	}
	want := []room.RollEntry{
		{Identity: "fran", Name: "Fran", Role: room.RoleFacilitator, State: room.RollPresent, Participant: "p_1"},
		{Identity: "ann", Name: "Annie", Role: room.RoleMember, State: room.RollPresent, Participant: "p_4", AcceptedAt: at},
		{Identity: "ben", Name: "ben", Role: room.RoleMember, State: room.RollMissing},
		{Identity: "cat", Name: "Cat", Role: room.RoleMember, State: room.RollWaiting, Participant: "p_2"},
		{Identity: "anon-1", Name: "Guest", Role: room.RoleMember, State: room.RollPresent, Participant: "p_3", AcceptedAt: at.Add(time.Minute)},
	}
	if len(roll.Entries) != len(want) {
		t.Fatalf("roll = %+v", roll.Entries)
	}
	for i := range want {
		if roll.Entries[i] != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, roll.Entries[i], want[i])
		}
	}
	if m := roll.Missing(); len(m) != 1 || m[0].Identity != "ben" {
		t.Errorf("missing = %+v", m)
	}

	cfg.Agreement = nil
	roll = room.BuildRoll(cfg, sess, accepted)
	if roll.Agreement != "" || !roll.Entries[1].AcceptedAt.IsZero() {
		t.Errorf("without an agreement: %q, %+v", roll.Agreement, roll.Entries[1])
	}
}
