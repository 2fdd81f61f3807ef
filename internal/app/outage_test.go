package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/internal/testutil/redistest"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// joinAs dials and joins room "circle" as identity with a token.
func joinAs(ctx context.Context, t *testing.T, srv *hearthtest.Server, identity string, role room.Role) *client.Client {
	t.Helper()
	tok, err := room.IssueToken([]byte(hearthtest.DefaultSecret), room.TokenParams{Room: "circle", Identity: identity,
		Name: "Name " + identity, Role: role, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(ctx, nil, client.Options{URL: srv.WSURL, Room: "circle", Token: tok, Audio: true, Video: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if err := c.Join(); err != nil {
		t.Fatal(err)
	}
	return c
}

func joined(ctx context.Context, t *testing.T, c *client.Client, who string) {
	t.Helper()
	if _, err := c.WaitMessage(ctx, "joined", nil); err != nil {
		t.Fatalf("%s not joined: %v; got %v", who, err, types(c))
	}
}

func types(c *client.Client) []string {
	var out []string
	for _, m := range c.Messages() {
		out = append(out, m.Type)
	}
	return out
}

func packets(sub *client.Client, pub *client.Client) uint64 {
	if s := sub.Stream(pub.ID(), "audio"); s != nil {
		return s.Packets.Load()
	}
	return 0
}

// flowing waits until a and b have each received n more audio packets from
// the other than when called.
func flowing(ctx context.Context, t *testing.T, a, b *client.Client, n uint64, when string) {
	t.Helper()
	fromB, fromA := packets(a, b), packets(b, a)
	if err := a.Wait(ctx, func() bool { return packets(a, b) >= fromB+n && packets(b, a) >= fromA+n }); err != nil {
		t.Fatalf("%s: media stopped: %d then %d packets one way, %d then %d the other (%v)",
			when, fromB, packets(a, b), fromA, packets(b, a), err)
	}
}

// noGoodbye fails if c was told to leave or lost its socket.
func noGoodbye(t *testing.T, c *client.Client, who string) {
	t.Helper()
	for _, m := range c.Messages() {
		if m.Type == "bye" || m.Type == "error" || m.Type == "_closed" {
			t.Fatalf("%s got %s: %s", who, m.Type, m.Raw)
		}
	}
}

// TestRedisOutage stops the Redis that holds membership under a running
// session and starts it again empty. Running sessions keep their media and
// controls throughout; joins in the meantime get "unavailable" and a
// closed socket; once Redis is back, the node writes its participants back
// (with roles, states and the room's configuration), disconnects nobody,
// and new joins count the people already there. A removal made through the
// store afterwards still disconnects its target.
func TestRedisOutage(t *testing.T) {
	rs := redistest.Start(t)
	srv := hearthtest.Start(t, hearthtest.Options{RedisURL: rs.URL(),
		PresenceTTL: 1500 * time.Millisecond, HeartbeatInterval: 100 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 18*time.Second)
	defer cancel()
	store := srv.App.Store()
	if _, err := store.CreateRoom(ctx, room.RoomConfig{Name: "circle", Kind: room.KindClosed, Capacity: 3, Roster: []room.RosterEntry{
		{Identity: "fac", Role: room.RoleFacilitator}, {Identity: "m1", Role: room.RoleMember},
		{Identity: "m2", Role: room.RoleMember}, {Identity: "m3", Role: room.RoleMember},
	}}); err != nil {
		t.Fatal(err)
	}
	fac := joinAs(ctx, t, srv, "fac", room.RoleFacilitator)
	joined(ctx, t, fac, "fac")
	m1 := joinAs(ctx, t, srv, "m1", room.RoleMember)
	joined(ctx, t, m1, "m1")
	flowing(ctx, t, fac, m1, 20, "before the outage")

	rs.Stop(t)

	// Controls work without the store.
	if err := fac.Send(map[string]any{"type": "mute_participant", "participant": m1.ID(), "kind": "video", "muted": true}); err != nil {
		t.Fatal(err)
	}
	if _, err := m1.WaitMessage(ctx, "room_state", func(m client.Message) bool {
		var st protocol.RoomState
		if m.Decode(&st) != nil {
			return false
		}
		for _, p := range st.Participants {
			if p.ID == m1.ID() && p.Muted.Video {
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("mute_participant during the outage: %v; got %v", err, types(m1))
	}
	// Media keeps flowing for longer than the presence TTL, with every
	// heartbeat failing.
	flowing(ctx, t, fac, m1, 100, "during the outage")

	// A new arrival is told to come back later.
	m2 := joinAs(ctx, t, srv, "m2", room.RoleMember)
	e, err := m2.WaitMessage(ctx, "error", nil)
	if err != nil {
		t.Fatalf("join during the outage: %v; got %v", err, types(m2))
	}
	var em struct{ Code, Message string }
	if err := e.Decode(&em); err != nil || em.Code != "unavailable" || !strings.Contains(em.Message, "try again") {
		t.Fatalf("join during the outage: %s", e.Raw)
	}
	if _, err := m2.WaitMessage(ctx, "_closed", nil); err != nil {
		t.Fatalf("socket not closed after unavailable: %v", err)
	}

	rs.Restart(t) // empty: nothing is persisted

	// The node writes its participants and their room back.
	want := map[string]room.Role{fac.ID(): room.RoleFacilitator, m1.ID(): room.RoleMember}
	var sess room.Session
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		sess, err = store.Session(ctx, "circle")
		if err == nil && len(sess.Participants) == len(want) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("presence not written back after Redis returned: %+v (%v)", sess, err)
		case <-tick.C:
		}
	}
	for _, p := range sess.Participants {
		if role, ok := want[p.ID]; !ok || p.Role != role || p.State != room.StateActive {
			t.Fatalf("written back as %+v", p)
		}
	}
	if cfg, err := store.GetRoom(ctx, "circle"); err != nil || cfg.Kind != room.KindClosed || cfg.Capacity != 3 {
		t.Fatalf("room configuration after Redis returned: %+v, %v", cfg, err)
	}
	flowing(ctx, t, fac, m1, 20, "after the outage")
	noGoodbye(t, fac, "fac")
	noGoodbye(t, m1, "m1")

	// New joins work again: the facilitator counts (m2 is not kept
	// waiting) and so do the seats (a fourth is refused).
	m2 = joinAs(ctx, t, srv, "m2", room.RoleMember)
	joined(ctx, t, m2, "m2 after the outage")
	m3 := joinAs(ctx, t, srv, "m3", room.RoleMember)
	e, err = m3.WaitMessage(ctx, "error", nil)
	if err != nil || e.Decode(&em) != nil || em.Code != "room_full" {
		t.Fatalf("fourth arrival in a room for three: %s (%v)", e.Raw, err)
	}

	// The other side of the rule: Redis kept its data this time, so someone
	// it no longer has (removed from another node) is disconnected.
	if _, err := store.RemovePresence(ctx, "circle", m1.ID()); err != nil {
		t.Fatal(err)
	}
	bye, err := m1.WaitMessage(ctx, "bye", nil)
	if err != nil {
		t.Fatalf("removed participant not disconnected: %v; got %v", err, types(m1))
	}
	var bm struct{ Reason string }
	if err := bye.Decode(&bm); err != nil || bm.Reason != "removed" {
		t.Fatalf("bye: %s", bye.Raw)
	}
	noGoodbye(t, fac, "fac")
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatal("out of time")
	}
}
