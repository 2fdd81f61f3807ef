package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/room"
)

// The contract for presences: adding, changing state, the waiting room,
// heartbeats and expiry.

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
