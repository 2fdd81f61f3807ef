package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the schedules' zones on machines without a zone database

	"github.com/hearth-rtc/hearth/room"
)

// The contract for room configurations: create, get, list, update (also
// concurrently) and what a store refuses as invalid.

func closedRoom(name string) room.RoomConfig {
	return room.RoomConfig{
		Name: name, Kind: room.KindClosed, Capacity: 8, LockBehavior: room.LockRefuse, MembersJoinMuted: true,
		Roster: []room.RosterEntry{
			{Identity: "therapist-1", Name: "Dr Lee", Role: room.RoleFacilitator},
			{Identity: "client-04", Name: "Rae", Role: room.RoleMember},
		},
	}
}

func testRoomCRUD(t *testing.T, newStore NewStore) {
	s, ctx := newStore(t, longTTL), ctxT(t)
	cfg := closedRoom("tuesday-grief")
	must(t, cfg.SetPasscode("1234"), "set passcode")

	_, err := s.GetRoom(ctx, cfg.Name)
	mustErr(t, err, room.ErrNotFound, "get before create")

	created, err := s.CreateRoom(ctx, cfg)
	must(t, err, "create")
	if created.CreatedAt.IsZero() || !created.UpdatedAt.Equal(created.CreatedAt) {
		t.Fatalf("create times: %v %v", created.CreatedAt, created.UpdatedAt)
	}
	sameConfig(t, created, cfg)

	got, err := s.GetRoom(ctx, cfg.Name)
	must(t, err, "get")
	sameConfig(t, got, cfg)
	if !got.CreatedAt.Equal(created.CreatedAt) {
		t.Fatalf("CreatedAt changed: %v vs %v", got.CreatedAt, created.CreatedAt)
	}
	if !got.CheckPasscode("1234") || got.CheckPasscode("4321") {
		t.Fatal("passcode hash did not survive the round trip")
	}

	_, err = s.CreateRoom(ctx, cfg)
	mustErr(t, err, room.ErrExists, "second create")

	// Defaults are filled in.
	d, err := s.CreateRoom(ctx, room.RoomConfig{Name: "drop.in_2", Kind: room.KindOpen})
	must(t, err, "create with defaults")
	if d.Capacity != room.DefaultCapacity || d.LockBehavior != room.LockWaiting || d.Roster == nil {
		t.Fatalf("defaults not applied: %+v", d)
	}

	must(t, s.DeleteRoom(ctx, cfg.Name), "delete")
	_, err = s.GetRoom(ctx, cfg.Name)
	mustErr(t, err, room.ErrNotFound, "get after delete")
	mustErr(t, s.DeleteRoom(ctx, cfg.Name), room.ErrNotFound, "second delete")
	_, err = s.CreateRoom(ctx, cfg)
	must(t, err, "re-create after delete")
}

func testListRooms(t *testing.T, newStore NewStore) {
	s, ctx := newStore(t, longTTL), ctxT(t)
	list, err := s.ListRooms(ctx)
	must(t, err, "list empty")
	if len(list) != 0 {
		t.Fatalf("empty store lists %d rooms", len(list))
	}
	for _, n := range []string{"c-room", "a-room", "b-room"} {
		_, err := s.CreateRoom(ctx, room.RoomConfig{Name: n, Kind: room.KindOpen, Capacity: 5})
		must(t, err, "create "+n)
	}
	must(t, s.DeleteRoom(ctx, "b-room"), "delete")
	list, err = s.ListRooms(ctx)
	must(t, err, "list")
	var names []string
	for _, c := range list {
		names = append(names, c.Name)
	}
	if fmt.Sprint(names) != "[a-room c-room]" {
		t.Fatalf("list = %v, want [a-room c-room]", names)
	}
	if list[0].Capacity != 5 || list[0].Kind != room.KindOpen {
		t.Fatalf("listed config incomplete: %+v", list[0])
	}
}

func testUpdateRoom(t *testing.T, newStore NewStore) {
	s, ctx := newStore(t, longTTL), ctxT(t)
	created, err := s.CreateRoom(ctx, closedRoom("cohort"))
	must(t, err, "create")

	_, err = s.UpdateRoom(ctx, "missing", func(*room.RoomConfig) error { return nil })
	mustErr(t, err, room.ErrNotFound, "update missing")

	up, err := s.UpdateRoom(ctx, "cohort", func(c *room.RoomConfig) error {
		c.Roster = append(c.Roster, room.RosterEntry{Identity: "client-05", Name: "Sam", Role: room.RoleObserver})
		c.Roster = c.Roster[1:] // the therapist leaves the roster
		c.Capacity = 3
		return nil
	})
	must(t, err, "update roster")
	if up.UpdatedAt.Before(created.UpdatedAt) || !up.CreatedAt.Equal(created.CreatedAt) {
		t.Fatalf("update times: created %v updated %v (was %v)", up.CreatedAt, up.UpdatedAt, created.UpdatedAt)
	}
	got, err := s.GetRoom(ctx, "cohort")
	must(t, err, "get")
	if got.Capacity != 3 || len(got.Roster) != 2 || got.Roster[0].Identity != "client-04" ||
		got.Roster[1] != (room.RosterEntry{Identity: "client-05", Name: "Sam", Role: room.RoleObserver}) {
		t.Fatalf("roster update not stored: %+v", got)
	}
	if _, ok := got.RosterEntry("therapist-1"); ok {
		t.Fatal("removed roster entry still there")
	}

	sentinel := errors.New("changed my mind")
	_, err = s.UpdateRoom(ctx, "cohort", func(c *room.RoomConfig) error { c.Capacity = 9; return sentinel })
	mustErr(t, err, sentinel, "fn error")
	_, err = s.UpdateRoom(ctx, "cohort", func(c *room.RoomConfig) error { c.Name = "other"; return nil })
	mustErr(t, err, room.ErrInvalid, "rename")
	_, err = s.UpdateRoom(ctx, "cohort", func(c *room.RoomConfig) error {
		c.Roster = append(c.Roster, c.Roster[0]) // duplicate identity
		return nil
	})
	mustErr(t, err, room.ErrInvalid, "invalid roster")
	got, err = s.GetRoom(ctx, "cohort")
	must(t, err, "get after refused updates")
	if got.Capacity != 3 || len(got.Roster) != 2 {
		t.Fatalf("refused update changed the room: %+v", got)
	}
}

func testConcurrentUpdates(t *testing.T, newStore NewStore) {
	s, ctx := newStore(t, longTTL), ctxT(t)
	_, err := s.CreateRoom(ctx, room.RoomConfig{Name: "busy", Kind: room.KindClosed})
	must(t, err, "create")
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.UpdateRoom(ctx, "busy", func(c *room.RoomConfig) error {
				c.Roster = append(c.Roster, room.RosterEntry{Identity: fmt.Sprintf("id-%02d", i), Role: room.RoleMember})
				return nil
			})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err, "concurrent update")
	}
	got, err := s.GetRoom(ctx, "busy")
	must(t, err, "get")
	if len(got.Roster) != n {
		t.Fatalf("roster has %d entries after %d concurrent additions: lost updates", len(got.Roster), n)
	}
}

func testInvalidInput(t *testing.T, newStore NewStore) {
	s, ctx := newStore(t, longTTL), ctxT(t)
	for _, bad := range []room.RoomConfig{
		{Name: "", Kind: room.KindOpen},
		{Name: "has space", Kind: room.KindOpen},
		{Name: "no-kind"},
		{Name: "too-big", Kind: room.KindOpen, Capacity: room.MaxCapacity + 1},
		{Name: "bad-role", Kind: room.KindClosed, Roster: []room.RosterEntry{{Identity: "x", Role: "boss"}}},
		{Name: "bad-hash", Kind: room.KindOpen, PasscodeHash: "plaintext"},
	} {
		_, err := s.CreateRoom(ctx, bad)
		mustErr(t, err, room.ErrInvalid, fmt.Sprintf("create %+v", bad))
	}
	_, err := s.GetRoom(ctx, "a/b")
	mustErr(t, err, room.ErrInvalid, "get bad name")
	_, err = s.Session(ctx, "{x}")
	mustErr(t, err, room.ErrInvalid, "session bad name")
	p := person("r1", "p_1", "ann", room.RoleMember, room.StateActive)
	p.ID = ""
	_, err = s.AddPresence(ctx, p, 0)
	mustErr(t, err, room.ErrInvalid, "presence without id")
	p = person("r1", "p_1", "ann", "chief", room.StateActive)
	_, err = s.AddPresence(ctx, p, 0)
	mustErr(t, err, room.ErrInvalid, "presence with bad role")
}

// testRoomSeries: a room's schedule (with its rota), group agreement and
// roster overrides are kept with its configuration, and can be changed and
// removed.
func testRoomSeries(t *testing.T, newStore NewStore) {
	s, ctx := newStore(t, longTTL), ctxT(t)
	cfg := closedRoom("thursday-cohort")
	cfg.Schedule = &room.Schedule{FirstDate: "2026-12-03", StartTime: "19:00", Minutes: 90, Repeat: room.RepeatWeekly,
		Sessions: 10, TimeZone: "Europe/London", Rota: []string{"client-01", "", "client-02"}}
	cfg.Agreement = &room.Agreement{Text: "What is said here stays here.\nNo recording.", Contact: "Call 01632 960123.",
		Every: room.AcceptEverySession}
	at := time.Date(2026, 12, 5, 10, 0, 0, 123, time.UTC)
	cfg.RosterOverrides = []room.RosterOverride{{Identity: "client-04", By: "Dr Lee", At: at}}
	check := func(got room.RoomConfig, what string) {
		t.Helper()
		if got.Schedule == nil || !reflect.DeepEqual(*got.Schedule, *cfg.Schedule) {
			t.Fatalf("%s: schedule %+v, want %+v", what, got.Schedule, cfg.Schedule)
		}
		if got.Agreement == nil || *got.Agreement != *cfg.Agreement {
			t.Fatalf("%s: agreement %+v, want %+v", what, got.Agreement, cfg.Agreement)
		}
		if len(got.RosterOverrides) != 1 || got.RosterOverrides[0].Identity != "client-04" ||
			got.RosterOverrides[0].By != "Dr Lee" || !got.RosterOverrides[0].At.Equal(at) {
			t.Fatalf("%s: overrides %+v", what, got.RosterOverrides)
		}
	}
	created, err := s.CreateRoom(ctx, cfg)
	must(t, err, "create")
	check(created, "created")
	got, err := s.GetRoom(ctx, cfg.Name)
	must(t, err, "get")
	check(got, "get")
	list, err := s.ListRooms(ctx)
	must(t, err, "list")
	check(list[0], "list")

	// Defaults: a schedule's repeat and an agreement's every.
	up, err := s.UpdateRoom(ctx, cfg.Name, func(c *room.RoomConfig) error {
		c.Schedule = &room.Schedule{FirstDate: "2027-01-07", StartTime: "09:30", Minutes: 60, TimeZone: "UTC"}
		c.Agreement = &room.Agreement{Text: "Be kind."}
		return nil
	})
	must(t, err, "update")
	if up.Schedule.Repeat != room.RepeatNone || up.Schedule.Sessions != 1 || up.Agreement.Every != room.AcceptOncePerSeries {
		t.Fatalf("defaults not applied: %+v %+v", up.Schedule, up.Agreement)
	}
	_, err = s.UpdateRoom(ctx, cfg.Name, func(c *room.RoomConfig) error {
		c.Schedule.TimeZone = "Mars/Olympus_Mons"
		return nil
	})
	mustErr(t, err, room.ErrInvalid, "unknown time zone")
	up, err = s.UpdateRoom(ctx, cfg.Name, func(c *room.RoomConfig) error {
		c.Schedule, c.Agreement = nil, nil
		return nil
	})
	must(t, err, "remove")
	got, err = s.GetRoom(ctx, cfg.Name)
	must(t, err, "get after remove")
	if up.Schedule != nil || up.Agreement != nil || got.Schedule != nil || got.Agreement != nil {
		t.Fatalf("not removed: %+v", got)
	}
	if len(got.RosterOverrides) != 1 {
		t.Fatalf("overrides lost: %+v", got.RosterOverrides)
	}
}
