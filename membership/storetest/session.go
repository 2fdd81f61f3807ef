package storetest

import (
	"fmt"
	"testing"

	"github.com/hearth-rtc/hearth/room"
)

// The contract for a live session's own state: blocks, the lock, both
// ending with the session, and rooms kept apart.

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
