package app_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/internal/testutil/redistest"
	"github.com/hearth-rtc/hearth/room"
)

// TestControlsDuringRedisOutage: a facilitator locks the room and removes
// a member with block while Redis is stopped. The facilitator keeps their
// socket and seat, everyone sees the room locked, the removed member gets
// bye "removed" and nobody receives their audio any more. When Redis comes
// back (empty, or with its data) the lock and the block are in it: the
// removed member is refused with "blocked", and a new arrival waits
// because the room is locked, while the facilitator is still seated.
func TestControlsDuringRedisOutage(t *testing.T) {
	t.Run("back empty", func(t *testing.T) { controlsDuringOutage(t, false) })
	t.Run("back with its data", func(t *testing.T) { controlsDuringOutage(t, true) })
}

func controlsDuringOutage(t *testing.T, keepData bool) {
	rs := redistest.Start(t)
	// The outage outlasts the presence TTL: a Redis that kept its data has
	// let every presence expire, and the session's lock and blocks with
	// them; the node writes the room back rather than disconnect anyone.
	const ttl = 1500 * time.Millisecond
	srv := hearthtest.Start(t, hearthtest.Options{RedisURL: rs.URL(),
		PresenceTTL: ttl, HeartbeatInterval: 100 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	store := srv.App.Store()
	if _, err := store.CreateRoom(ctx, room.RoomConfig{Name: "circle", Kind: room.KindClosed, Capacity: 4, Roster: []room.RosterEntry{
		{Identity: "fac", Role: room.RoleFacilitator}, {Identity: "m1", Role: room.RoleMember},
		{Identity: "m2", Role: room.RoleMember}, {Identity: "m3", Role: room.RoleMember},
	}}); err != nil {
		t.Fatal(err)
	}
	fac := joinAs(ctx, t, srv, "fac", room.RoleFacilitator)
	joined(ctx, t, fac, "fac")
	m1 := joinAs(ctx, t, srv, "m1", room.RoleMember)
	joined(ctx, t, m1, "m1")
	m2 := joinAs(ctx, t, srv, "m2", room.RoleMember)
	joined(ctx, t, m2, "m2")
	flowing(ctx, t, fac, m2, 20, "before the outage")
	flowing(ctx, t, m1, m2, 20, "before the outage")

	if keepData {
		rs.StopSaving(t)
	} else {
		rs.Stop(t)
	}
	down := time.Now()

	// Lock: everyone is told at once.
	if err := fac.Send(map[string]any{"type": "lock", "locked": true}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client.Client{fac, m1, m2} {
		awaitKept(ctx, t, c, "room_updated", lockedRoom, fac, "told the room is locked")
	}

	// Remove with block: out at once, media cut.
	if err := fac.Send(map[string]any{"type": "remove", "participant": m2.ID(), "block": true}); err != nil {
		t.Fatal(err)
	}
	bye := awaitKept(ctx, t, m2, "bye", nil, fac, "removed")
	var bm struct{ Reason string }
	if bye.Decode(&bm) != nil || bm.Reason != "removed" {
		t.Fatalf("removed member: bye %s", bye.Raw)
	}
	if _, err := m2.WaitMessage(ctx, "_closed", nil); err != nil {
		t.Fatalf("removed member's socket not closed: %v", err)
	}
	for _, c := range []*client.Client{fac, m1} {
		if _, err := c.WaitMessage(ctx, "participant_left", about(m2.ID())); err != nil {
			t.Fatalf("%s not told the removed member left: %v; got %v", c.ID(), err, types(c))
		}
	}
	silent(ctx, t, m1, m2, fac, "m1 during the outage")
	silent(ctx, t, fac, m2, m1, "fac during the outage")
	flowing(ctx, t, fac, m1, 20, "during the outage")
	noGoodbye(t, fac, "fac")
	noGoodbye(t, m1, "m1")

	// Longer than the TTL, however fast the steps above went.
	if wait := 2*ttl - time.Since(down); wait > 0 {
		time.Sleep(wait)
	}
	rs.Restart(t)

	// The lock and the block reach Redis; the removed member's presence is
	// gone from it.
	want := []string{fac.ID(), m1.ID()}
	slices.Sort(want)
	var (
		sess room.Session
		err  error
	)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		sess, err = store.Session(ctx, "circle")
		if err == nil && sess.Locked && slices.Equal(sess.Blocked, []string{"m2"}) && slices.Equal(ids(sess), want) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("store after Redis returned: %+v (%v); want locked, m2 blocked, %v present", sess, err, want)
		case <-tick.C:
		}
	}

	again := joinAs(ctx, t, srv, "m2", room.RoleMember)
	if e, err := again.WaitMessage(ctx, "error", nil); err != nil || errorCode(e) != "blocked" {
		t.Fatalf("removed member rejoins: %s (%v); got %v", e.Raw, err, types(again))
	}
	m3 := joinAs(ctx, t, srv, "m3", room.RoleMember)
	w, err := m3.WaitMessage(ctx, "waiting", nil)
	var wm struct{ Reason string }
	if err != nil || w.Decode(&wm) != nil || wm.Reason != string(room.WaitLocked) {
		t.Fatalf("arrival after Redis returned: %s (%v); got %v", w.Raw, err, types(m3))
	}
	flowing(ctx, t, fac, m1, 20, "after the outage")
	noGoodbye(t, fac, "fac")
	noGoodbye(t, m1, "m1")
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatal("out of time")
	}
}

// awaitKept waits for c to get a message of type typ (matching pred),
// failing at once if the facilitator fac is told to go or loses its
// socket meanwhile.
func awaitKept(ctx context.Context, t *testing.T, c *client.Client, typ string, pred func(client.Message) bool, fac *client.Client, what string) client.Message {
	t.Helper()
	var found, lost client.Message
	err := c.Wait(ctx, func() bool {
		for _, m := range fac.Messages() {
			if m.Type == "error" || m.Type == "bye" || m.Type == "_closed" {
				lost = m
				return true
			}
		}
		for _, m := range c.Messages() {
			if m.Type == typ && (pred == nil || pred(m)) {
				found = m
				return true
			}
		}
		return false
	})
	switch {
	case lost.Type != "":
		t.Fatalf("%s: the facilitator got %s: %s", what, lost.Type, lost.Raw)
	case err != nil:
		t.Fatalf("%s: %s got no %s: %v; got %v", what, c.ID(), typ, err, types(c))
	}
	return found
}

func lockedRoom(m client.Message) bool {
	var u struct{ Room room.Info }
	return m.Decode(&u) == nil && u.Room.Locked && u.Room.Kind == room.KindClosed
}

func about(id string) func(client.Message) bool {
	return func(m client.Message) bool {
		var l struct{ Participant string }
		return m.Decode(&l) == nil && l.Participant == id
	}
}

func errorCode(m client.Message) string {
	var e struct{ Code string }
	_ = m.Decode(&e)
	return e.Code
}

func ids(sess room.Session) []string {
	var out []string
	for _, p := range sess.Participants {
		out = append(out, p.ID)
	}
	slices.Sort(out)
	return out
}

// silent checks that sub receives no more audio from gone: what was on
// the way arrives while sub gets 25 packets from ref, and after that
// nothing more does while sub gets 25 more.
func silent(ctx context.Context, t *testing.T, sub, gone, ref *client.Client, when string) {
	t.Helper()
	more := func(n uint64) {
		t.Helper()
		from := packets(sub, ref)
		if err := sub.Wait(ctx, func() bool { return packets(sub, ref) >= from+n }); err != nil {
			t.Fatalf("%s: media from %s stopped too (%v)", when, ref.ID(), err)
		}
	}
	more(25)
	settled := packets(sub, gone)
	more(25)
	if n := packets(sub, gone); n != settled {
		t.Fatalf("%s: %d more audio packets from the removed participant", when, n-settled)
	}
}
