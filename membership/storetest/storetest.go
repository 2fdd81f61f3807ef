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
		{"RoomSeries", testRoomSeries},
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
		{"Mirror", testMirror},
		{"MirrorTerm", testMirrorTerm},
		{"YieldedSeats", testYieldedSeats},
		{"MirrorExpires", testMirrorExpires},
		{"AdoptPresence", testAdoptPresence},
		{"AttendanceRecords", testAttendanceRecords},
		{"Acceptances", testAcceptances},
		{"AttendanceRetention", testAttendanceRetention},
		{"DeleteRoomDeletesAttendance", testDeleteRoomDeletesAttendance},
		{"AttendanceUnavailable", testAttendanceUnavailable},
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
