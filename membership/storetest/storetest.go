// Package storetest is the contract every membership.Store implementation must
// meet. Run it from a _test.go file:
//
//	storetest.Run(t, func(t *testing.T, ttl time.Duration) membership.Store { ... })
//
// The factory must return a fresh, empty store (or an isolated namespace)
// whose presence TTL is ttl, and arrange for it to be closed. Subtests run in
// parallel.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/room"
)

// NewStore makes a fresh store with the given presence TTL.
type NewStore func(t *testing.T, ttl time.Duration) membership.Store

const (
	// longTTL keeps presences alive for tests that are not about expiry,
	// however slow the machine.
	longTTL = time.Minute
	// shortTTL drives the expiry tests.
	shortTTL = time.Second
)

// Run runs the whole contract.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, newStore NewStore)
	}{
		{"RoomCRUD", testRoomCRUD},
		{"ListRooms", testListRooms},
		{"UpdateRoom", testUpdateRoom},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"InvalidInput", testInvalidInput},
		{"Presence", testPresence},
		{"SetState", testSetState},
		{"WaitingRoom", testWaitingRoom},
		{"CapacityRace", testCapacityRace},
		{"OneSeatPerIdentity", testOneSeatPerIdentity},
		{"AdmitRace", testAdmitRace},
		{"HeartbeatKeepsAlive", testHeartbeatKeepsAlive},
		{"Expiry", testExpiry},
		{"Block", testBlock},
		{"Lock", testLock},
		{"SessionEnds", testSessionEnds},
		{"RoomsIsolated", testRoomsIsolated},
		{"Closed", testClosed},
		{"CanceledContext", testCanceledContext},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore)
		})
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustErr(t *testing.T, err, want error, what string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func person(rm, id, identity string, role room.Role, state room.State) room.Participant {
	p := room.Participant{ID: id, Room: rm, Identity: identity, Name: "Name " + identity, Role: role,
		Node: "node-1", State: state, JoinedAt: time.Now().UTC()}
	if state == room.StateWaiting {
		p.Reason = room.WaitKnock
	}
	return p
}

func ids(ps []room.Participant) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

func sameConfig(t *testing.T, got, want room.RoomConfig) {
	t.Helper()
	g, w := got, want
	g.CreatedAt, g.UpdatedAt, w.CreatedAt, w.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if fmt.Sprintf("%+v", g) != fmt.Sprintf("%+v", w) {
		t.Fatalf("config mismatch:\n got  %+v\n want %+v", g, w)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true within %v", what, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

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

func testPresence(t *testing.T, newStore NewStore) {
	s, ctx := newStore(t, longTTL), ctxT(t)
	sess, err := s.Session(ctx, "circle")
	must(t, err, "empty session")
	if len(sess.Participants) != 0 || sess.Locked || len(sess.Blocked) != 0 || sess.Room != "circle" {
		t.Fatalf("empty session = %+v", sess)
	}

	t0 := time.Date(2020, 11, 25, 18, 0, 0, 123456789, time.UTC) // before "now"
	a := person("circle", "p_aaaa0001", "sam", room.RoleFacilitator, room.StateActive)
	a.JoinedAt = t0.Add(2 * time.Second)
	b := person("circle", "p_aaaa0002", "anon-1", room.RoleMember, room.StateActive)
	b.JoinedAt = t0
	got, err := s.AddPresence(ctx, a, 0)
	must(t, err, "add a")
	if got != a {
		t.Fatalf("AddPresence returned %+v, want %+v", got, a)
	}
	_, err = s.AddPresence(ctx, b, 0)
	must(t, err, "add b")
	_, err = s.AddPresence(ctx, a, 0)
	mustErr(t, err, room.ErrExists, "duplicate id")

	sess, err = s.Session(ctx, "circle")
	must(t, err, "session")
	if fmt.Sprint(ids(sess.Participants)) != "[p_aaaa0002 p_aaaa0001]" {
		t.Fatalf("participants = %v, want by arrival", ids(sess.Participants))
	}
	if p, _ := sess.Find(a.ID); !p.JoinedAt.Equal(a.JoinedAt) || p.Node != "node-1" || p.Name != a.Name || p.Role != a.Role {
		t.Fatalf("stored participant %+v, want %+v", p, a)
	}
	if !sess.FacilitatorPresent() {
		t.Fatal("facilitator not seen as present")
	}

	// JoinedAt defaults to now.
	c := person("circle", "p_aaaa0003", "kim", room.RoleObserver, room.StateActive)
	c.JoinedAt = time.Time{}
	c, err = s.AddPresence(ctx, c, 0)
	must(t, err, "add c")
	if c.JoinedAt.IsZero() {
		t.Fatal("JoinedAt not set")
	}

	removed, err := s.RemovePresence(ctx, "circle", a.ID)
	must(t, err, "remove a")
	if removed.ID != a.ID || removed.Identity != "sam" {
		t.Fatalf("removed = %+v", removed)
	}
	_, err = s.RemovePresence(ctx, "circle", a.ID)
	mustErr(t, err, room.ErrNotFound, "remove twice")
	sess, err = s.Session(ctx, "circle")
	must(t, err, "session after remove")
	if fmt.Sprint(ids(sess.Participants)) != "[p_aaaa0002 p_aaaa0003]" || sess.FacilitatorPresent() {
		t.Fatalf("after remove: %v", ids(sess.Participants))
	}
}

func testSetState(t *testing.T, newStore NewStore) {
	s, ctx := newStore(t, longTTL), ctxT(t)
	w := person("r", "p_w", "rae", room.RoleMember, room.StateWaiting)
	w.Reason = room.WaitForFacilitator
	_, err := s.AddPresence(ctx, w, 0)
	must(t, err, "add waiting")
	sess, _ := s.Session(ctx, "r")
	if got, _ := sess.Find("p_w"); got.State != room.StateWaiting || got.Reason != room.WaitForFacilitator {
		t.Fatalf("waiting entry = %+v", got)
	}

	p, err := s.SetState(ctx, "r", "p_w", room.StateActive, room.WaitKnock, 0)
	must(t, err, "admit")
	if p.State != room.StateActive || p.Reason != "" || p.Identity != "rae" || !p.JoinedAt.Equal(w.JoinedAt) {
		t.Fatalf("after admit: %+v", p)
	}
	p, err = s.SetState(ctx, "r", "p_w", room.StateReconnecting, "", 0)
	must(t, err, "reconnecting")
	sess, _ = s.Session(ctx, "r")
	if got, _ := sess.Find("p_w"); got != p || got.State != room.StateReconnecting || len(sess.Seated()) != 1 {
		t.Fatalf("reconnecting entry = %+v (returned %+v)", got, p)
	}
	// A seated participant can move between seated states even when full.
	_, err = s.SetState(ctx, "r", "p_w", room.StateActive, "", 1)
	must(t, err, "back to active at limit")

	_, err = s.SetState(ctx, "r", "p_missing", room.StateActive, "", 0)
	mustErr(t, err, room.ErrNotFound, "set state of missing")
	_, err = s.SetState(ctx, "r", "p_w", "dancing", "", 0)
	mustErr(t, err, room.ErrInvalid, "bad state")
}

func testWaitingRoom(t *testing.T, newStore NewStore) {
	s, ctx := newStore(t, longTTL), ctxT(t)
	// Waiting entries do not take seats.
	for i := 0; i < 3; i++ {
		_, err := s.AddPresence(ctx, person("r", fmt.Sprintf("p_w%d", i), fmt.Sprintf("w%d", i), room.RoleMember, room.StateWaiting), 3)
		must(t, err, "add waiting")
	}
	_, err := s.AddPresence(ctx, person("r", "p_w3", "w3", room.RoleMember, room.StateWaiting), 3)
	mustErr(t, err, room.ErrRoomFull, "waiting room limit")
	_, err = s.AddPresence(ctx, person("r", "p_a0", "a0", room.RoleMember, room.StateActive), 1)
	must(t, err, "seat with a full waiting room")
	_, err = s.AddPresence(ctx, person("r", "p_a1", "a1", room.RoleMember, room.StateActive), 1)
	mustErr(t, err, room.ErrRoomFull, "second seat of one")
	_, err = s.SetState(ctx, "r", "p_w0", room.StateActive, "", 1)
	mustErr(t, err, room.ErrRoomFull, "admit into a full room")
	_, err = s.AddPresence(ctx, person("r", "p_a1", "a1", room.RoleMember, room.StateActive), 0)
	must(t, err, "no limit")

	sess, err := s.Session(ctx, "r")
	must(t, err, "session")
	if fmt.Sprint(ids(sess.Waiting())) != "[p_w0 p_w1 p_w2]" || len(sess.Seated()) != 2 {
		t.Fatalf("waiting %v seated %v", ids(sess.Waiting()), ids(sess.Seated()))
	}
	// Moving someone back to the waiting room frees a seat.
	_, err = s.SetState(ctx, "r", "p_a1", room.StateWaiting, room.WaitLocked, 0)
	must(t, err, "back to waiting")
	_, err = s.SetState(ctx, "r", "p_w0", room.StateActive, "", 2)
	must(t, err, "admit into freed seat")
	sess, _ = s.Session(ctx, "r")
	if got, _ := sess.Find("p_a1"); got.Reason != room.WaitLocked {
		t.Fatalf("reason not kept: %+v", got)
	}
}

// race runs n functions at once, released together.
func race(n int, fn func(i int) error) []error {
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// testOneSeatPerIdentity: an identity has at most one presence in a
// session, seated or waiting, however many joins race for it; once it is
// gone, it may come back under a new id.
func testOneSeatPerIdentity(t *testing.T, newStore NewStore) {
	s, ctx := newStore(t, longTTL), ctxT(t)
	a := person("circle", "p_bbbb0001", "sam", room.RoleMember, room.StateActive)
	_, err := s.AddPresence(ctx, a, 0)
	must(t, err, "add sam")
	again := person("circle", "p_bbbb0002", "sam", room.RoleMember, room.StateActive)
	_, err = s.AddPresence(ctx, again, 0)
	mustErr(t, err, room.ErrIdentityPresent, "sam again")
	waiting := person("circle", "p_bbbb0003", "sam", room.RoleMember, room.StateWaiting)
	_, err = s.AddPresence(ctx, waiting, 0)
	mustErr(t, err, room.ErrIdentityPresent, "sam again, waiting")
	// The same identity in another room is another seat.
	_, err = s.AddPresence(ctx, person("other", "p_bbbb0004", "sam", room.RoleMember, room.StateActive), 0)
	must(t, err, "sam in another room")

	_, err = s.RemovePresence(ctx, "circle", a.ID)
	must(t, err, "remove sam")
	const joins = 20
	errs := race(joins, func(i int) error {
		_, err := s.AddPresence(ctx, person("circle", fmt.Sprintf("p_c%07d", i), "sam", room.RoleMember, room.StateActive), 0)
		return err
	})
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, room.ErrIdentityPresent):
			t.Fatalf("unexpected error: %v", err)
		}
	}
	sess, err := s.Session(ctx, "circle")
	must(t, err, "session")
	if _, found := sess.FindIdentity("sam"); ok != 1 || len(sess.Participants) != 1 || !found {
		t.Fatalf("%d joins of one identity racing: %d succeeded, %d present, want 1", joins, ok, len(sess.Participants))
	}
}

func testCapacityRace(t *testing.T, newStore NewStore) {
	s, ctx := newStore(t, longTTL), ctxT(t)
	const joins, seats = 50, 10
	errs := race(joins, func(i int) error {
		_, err := s.AddPresence(ctx, person("popular", fmt.Sprintf("p_%04d", i), fmt.Sprintf("id-%d", i), room.RoleMember, room.StateActive), seats)
		return err
	})
	ok, full := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, room.ErrRoomFull):
			full++
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if ok != seats || full != joins-seats {
		t.Fatalf("%d joins racing for %d seats: %d admitted, %d full", joins, seats, ok, full)
	}
	sess, err := s.Session(ctx, "popular")
	must(t, err, "session")
	if len(sess.Seated()) != seats {
		t.Fatalf("%d seated, want %d", len(sess.Seated()), seats)
	}
}

func testAdmitRace(t *testing.T, newStore NewStore) {
	s, ctx := newStore(t, longTTL), ctxT(t)
	const waiting, seats = 30, 10
	for i := 0; i < waiting; i++ {
		_, err := s.AddPresence(ctx, person("r", fmt.Sprintf("p_%04d", i), fmt.Sprintf("id-%d", i), room.RoleMember, room.StateWaiting), 0)
		must(t, err, "add waiting")
	}
	errs := race(waiting, func(i int) error {
		_, err := s.SetState(ctx, "r", fmt.Sprintf("p_%04d", i), room.StateActive, "", seats)
		return err
	})
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if !errors.Is(err, room.ErrRoomFull) {
			t.Fatalf("unexpected error: %v", err)
		}
	}
	sess, err := s.Session(ctx, "r")
	must(t, err, "session")
	if ok != seats || len(sess.Seated()) != seats || len(sess.Waiting()) != waiting-seats {
		t.Fatalf("admitted %d, seated %d, waiting %d; want %d seated", ok, len(sess.Seated()), len(sess.Waiting()), seats)
	}
}

// testHeartbeatKeepsAlive: a presence heartbeated well within its TTL never
// expires. What is judged is only what the TTL promises: a heartbeat sent
// at t keeps the presence until t + TTL, so a check made after a stall
// longer than the TTL (a busy machine) judges nothing, and the presence is
// added again.
func testHeartbeatKeepsAlive(t *testing.T, newStore NewStore) {
	const ttl = 2 * time.Second
	s, ctx := newStore(t, ttl), ctxT(t)
	p := person("r", "p_1", "ann", room.RoleMember, room.StateActive)
	beat := time.Now()
	_, err := s.AddPresence(ctx, p, 0)
	must(t, err, "add")
	// Heartbeat at a fifth of the TTL for three TTLs: always present.
	until := time.Now().Add(3 * ttl)
	for time.Now().Before(until) {
		sent := time.Now()
		gone, err := s.Heartbeat(ctx, "r", []string{"p_1"})
		must(t, err, "heartbeat")
		if len(gone) != 0 {
			if sent.Sub(beat) < ttl {
				t.Fatalf("heartbeat %v after the last reported %v gone", sent.Sub(beat), gone)
			}
			_, err := s.AddPresence(ctx, p, 0) // stalled past the TTL
			must(t, err, "add again")
		}
		beat = sent
		sess, err := s.Session(ctx, "r")
		must(t, err, "session")
		if _, ok := sess.Find("p_1"); !ok && time.Since(beat) < ttl {
			t.Fatal("participant expired despite heartbeats")
		}
		time.Sleep(ttl / 5)
	}
	for {
		sent := time.Now()
		gone, err := s.Heartbeat(ctx, "r", []string{"p_1", "p_unknown"})
		must(t, err, "heartbeat with unknown")
		if fmt.Sprint(gone) == "[p_unknown]" {
			break
		}
		if sent.Sub(beat) < ttl {
			t.Fatalf("gone = %v, want [p_unknown]", gone)
		}
		_, err = s.AddPresence(ctx, p, 0)
		must(t, err, "add again")
		beat = time.Now()
	}
	gone, err := s.Heartbeat(ctx, "empty-room", []string{"p_x"})
	must(t, err, "heartbeat in empty room")
	if fmt.Sprint(gone) != "[p_x]" {
		t.Fatalf("gone in empty room = %v", gone)
	}
}

func testExpiry(t *testing.T, newStore NewStore) {
	s, ctx := newStore(t, shortTTL), ctxT(t)
	_, err := s.AddPresence(ctx, person("r", "p_kept", "kept", room.RoleFacilitator, room.StateActive), 0)
	must(t, err, "add kept")
	_, err = s.AddPresence(ctx, person("r", "p_lost", "lost", room.RoleMember, room.StateActive), 0)
	must(t, err, "add lost")
	_, err = s.AddPresence(ctx, person("r", "p_wait", "waiter", room.RoleMember, room.StateWaiting), 0)
	must(t, err, "add waiting")
	start := time.Now()
	// Only p_kept is heartbeated: the others vanish within the TTL (plus
	// slack for a loaded machine), as a crashed node's participants would.
	waitFor(t, shortTTL+3*time.Second, "unrefreshed presences expire", func() (bool, error) {
		if _, err := s.Heartbeat(ctx, "r", []string{"p_kept"}); err != nil {
			return false, err
		}
		sess, err := s.Session(ctx, "r")
		if err != nil {
			return false, err
		}
		return fmt.Sprint(ids(sess.Participants)) == "[p_kept]", nil
	})
	t.Logf("expired after %v (TTL %v)", time.Since(start).Round(10*time.Millisecond), shortTTL)
	// The expired seat is free again.
	_, err = s.AddPresence(ctx, person("r", "p_new", "new", room.RoleMember, room.StateActive), 2)
	must(t, err, "take the freed seat")
	gone, err := s.Heartbeat(ctx, "r", []string{"p_kept", "p_lost"})
	must(t, err, "heartbeat")
	if fmt.Sprint(gone) != "[p_lost]" {
		t.Fatalf("gone = %v, want [p_lost]", gone)
	}
	_, err = s.RemovePresence(ctx, "r", "p_lost")
	mustErr(t, err, room.ErrNotFound, "remove expired")
	_, err = s.SetState(ctx, "r", "p_wait", room.StateActive, "", 0)
	mustErr(t, err, room.ErrNotFound, "admit expired")
}

func testBlock(t *testing.T, newStore NewStore) {
	s, ctx := newStore(t, longTTL), ctxT(t)
	mustErr(t, s.SetBlocked(ctx, "r", "troll", true), room.ErrNotFound, "block without session")
	_, err := s.AddPresence(ctx, person("r", "p_f", "sam", room.RoleFacilitator, room.StateActive), 0)
	must(t, err, "add")
	_, err = s.AddPresence(ctx, person("r", "p_t", "troll", room.RoleMember, room.StateActive), 0)
	must(t, err, "add troll")
	must(t, s.SetBlocked(ctx, "r", "troll", true), "block")
	must(t, s.SetBlocked(ctx, "r", "other", true), "block other")
	// Blocking does not remove; the caller does.
	_, err = s.RemovePresence(ctx, "r", "p_t")
	must(t, err, "remove troll")
	_, err = s.AddPresence(ctx, person("r", "p_t2", "troll", room.RoleMember, room.StateActive), 0)
	mustErr(t, err, room.ErrBlocked, "blocked rejoin")
	_, err = s.AddPresence(ctx, person("r", "p_t3", "troll", room.RoleMember, room.StateWaiting), 0)
	mustErr(t, err, room.ErrBlocked, "blocked knock")
	sess, err := s.Session(ctx, "r")
	must(t, err, "session")
	if fmt.Sprint(sess.Blocked) != "[other troll]" || !sess.IsBlocked("troll") {
		t.Fatalf("blocked = %v", sess.Blocked)
	}
	must(t, s.SetBlocked(ctx, "r", "troll", false), "unblock")
	_, err = s.AddPresence(ctx, person("r", "p_t4", "troll", room.RoleMember, room.StateActive), 0)
	must(t, err, "rejoin after unblock")
	mustErr(t, s.SetBlocked(ctx, "r", "", true), room.ErrInvalid, "block empty identity")
}

func testLock(t *testing.T, newStore NewStore) {
	s, ctx := newStore(t, longTTL), ctxT(t)
	mustErr(t, s.SetLocked(ctx, "r", true), room.ErrNotFound, "lock without session")
	_, err := s.AddPresence(ctx, person("r", "p_f", "sam", room.RoleFacilitator, room.StateActive), 0)
	must(t, err, "add")
	must(t, s.SetLocked(ctx, "r", true), "lock")
	sess, err := s.Session(ctx, "r")
	must(t, err, "session")
	if !sess.Locked {
		t.Fatal("not locked")
	}
	must(t, s.SetLocked(ctx, "r", true), "lock twice")
	must(t, s.SetLocked(ctx, "r", false), "unlock")
	sess, _ = s.Session(ctx, "r")
	if sess.Locked {
		t.Fatal("still locked")
	}
}

func testSessionEnds(t *testing.T, newStore NewStore) {
	s, ctx := newStore(t, longTTL), ctxT(t)
	_, err := s.AddPresence(ctx, person("r", "p_f", "sam", room.RoleFacilitator, room.StateActive), 0)
	must(t, err, "add f")
	_, err = s.AddPresence(ctx, person("r", "p_w", "rae", room.RoleMember, room.StateWaiting), 0)
	must(t, err, "add w")
	must(t, s.SetLocked(ctx, "r", true), "lock")
	must(t, s.SetBlocked(ctx, "r", "troll", true), "block")
	_, err = s.RemovePresence(ctx, "r", "p_f")
	must(t, err, "remove f")
	sess, _ := s.Session(ctx, "r")
	if !sess.Locked || len(sess.Blocked) != 1 {
		t.Fatalf("session ended while someone was waiting: %+v", sess)
	}
	_, err = s.RemovePresence(ctx, "r", "p_w")
	must(t, err, "remove w")
	sess, err = s.Session(ctx, "r")
	must(t, err, "session")
	if sess.Locked || len(sess.Blocked) != 0 || len(sess.Participants) != 0 {
		t.Fatalf("lock/blocks outlived the session: %+v", sess)
	}
	_, err = s.AddPresence(ctx, person("r", "p_t", "troll", room.RoleMember, room.StateActive), 0)
	must(t, err, "a blocked identity may join the next session")
}

func testRoomsIsolated(t *testing.T, newStore NewStore) {
	s, ctx := newStore(t, longTTL), ctxT(t)
	_, err := s.AddPresence(ctx, person("one", "p_1", "ann", room.RoleMember, room.StateActive), 1)
	must(t, err, "add to one")
	_, err = s.AddPresence(ctx, person("two", "p_1", "ann", room.RoleMember, room.StateActive), 1)
	must(t, err, "same id and identity in another room")
	must(t, s.SetLocked(ctx, "one", true), "lock one")
	must(t, s.SetBlocked(ctx, "one", "bob", true), "block in one")
	_, err = s.AddPresence(ctx, person("two", "p_2", "bob", room.RoleMember, room.StateWaiting), 0)
	must(t, err, "blocked in one is not blocked in two")
	two, err := s.Session(ctx, "two")
	must(t, err, "session two")
	if two.Locked || len(two.Blocked) != 0 || len(two.Participants) != 2 {
		t.Fatalf("room two = %+v", two)
	}
}

func testClosed(t *testing.T, newStore NewStore) {
	s, ctx := newStore(t, longTTL), ctxT(t)
	must(t, s.Ping(ctx), "ping")
	must(t, s.Close(), "close")
	mustErr(t, s.Ping(ctx), room.ErrUnavailable, "ping after close")
	_, err := s.Session(ctx, "r")
	mustErr(t, err, room.ErrUnavailable, "session after close")
	_, err = s.AddPresence(ctx, person("r", "p_1", "a", room.RoleMember, room.StateActive), 0)
	mustErr(t, err, room.ErrUnavailable, "add after close")
	_, err = s.GetRoom(ctx, "r")
	mustErr(t, err, room.ErrUnavailable, "get room after close")
}

func testCanceledContext(t *testing.T, newStore NewStore) {
	s := newStore(t, longTTL)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.AddPresence(ctx, person("r", "p_1", "a", room.RoleMember, room.StateActive), 0)
	mustErr(t, err, context.Canceled, "add with canceled context")
	_, err = s.ListRooms(ctx)
	mustErr(t, err, context.Canceled, "list with canceled context")
}
