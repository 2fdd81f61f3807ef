package signaling_test

import (
	"context"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// TestOneSeatPerPerson: the same invite joins twice. The second window
// takes the first one's seat (same id, role, raised hand; the others see
// one person, updated) and the first is told why and closed. A mute and a
// removal with block then hold for the person: nothing of that identity
// reaches anyone, at packet level, and a third join is refused.
func TestOneSeatPerPerson(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	f := ctlJoin(t, srv, "one", "fran", room.RoleFacilitator, false)
	l := ctlJoin(t, srv, "one", "lee", room.RoleMember, false)
	tok := ctlToken(t, "one", "milo", room.RoleMember)
	first := dial(t, srv, client.Options{Room: "one", Token: tok, Audio: true})
	if err := first.Join(); err != nil {
		t.Fatal(err)
	}
	ctlWaitState(t, first, func(st protocol.RoomState) bool { return ctlFind(st, first.ID()) != nil })
	first.Speaking.Store(true)
	milo := first.ID()
	ctlSend(t, first, map[string]any{"type": "raise_hand"})
	ctlWaitState(t, f, func(st protocol.RoomState) bool { return len(st.Hands) == 1 && st.Hands[0].Participant == milo })
	hears := func(sub *client.Client) uint64 { return sub.Received(milo, "audio") }
	// Audio from milo reaches both others.
	for _, sub := range []*client.Client{f, l} {
		from := hears(sub)
		if err := sub.Wait(ctx, func() bool { return hears(sub) >= from+10 }); err != nil {
			t.Fatalf("%s hears nothing from milo's first window: %v", sub.ID(), err)
		}
	}

	second := dial(t, srv, client.Options{Room: "one", Token: tok, Audio: true})
	second.Speaking.Store(true)
	if err := second.Join(); err != nil {
		t.Fatal(err)
	}
	if _, err := first.WaitMessage(ctx, "bye", func(m client.Message) bool {
		var v struct{ Reason string }
		return m.Decode(&v) == nil && v.Reason == "joined_elsewhere"
	}); err != nil {
		t.Fatalf("first window not told it was replaced: %v; got %v", err, types(first))
	}
	if _, err := first.WaitMessage(ctx, "_closed", nil); err != nil {
		t.Fatal("first window's socket stayed open")
	}
	st := ctlWaitState(t, second, func(st protocol.RoomState) bool { return ctlFind(st, milo) != nil })
	if second.ID() != milo {
		t.Fatalf("second window got id %q, want the seat %q", second.ID(), milo)
	}
	if n := countIdentity(st, "milo"); n != 1 || len(st.Hands) != 1 || st.Hands[0].Participant != milo {
		t.Fatalf("after the second window: %d seats for milo, hands %+v; want one seat, hand kept", n, st.Hands)
	}
	for _, m := range f.Messages() {
		if m.Type == "participant_left" {
			t.Fatalf("others saw milo leave: %s", m.Raw)
		}
	}
	// Audio from the second window reaches both others.
	for _, sub := range []*client.Client{f, l} {
		from := hears(sub)
		if err := sub.Wait(ctx, func() bool { return hears(sub) >= from+10 }); err != nil {
			t.Fatalf("%s hears nothing from milo's second window: %v", sub.ID(), err)
		}
	}

	// The facilitator mutes the person: nothing from milo reaches anyone.
	ctlSend(t, f, map[string]any{"type": "mute_participant", "participant": milo, "kind": "audio", "muted": true})
	ctlWaitState(t, l, func(st protocol.RoomState) bool { p := ctlFind(st, milo); return p != nil && p.Muted.Audio })
	silent(ctx, t, milo, f, l)

	// Removed with block: the second window is closed, and a third join
	// with the same invite is refused.
	ctlSend(t, f, map[string]any{"type": "remove", "participant": milo, "block": true})
	if _, err := second.WaitMessage(ctx, "bye", func(m client.Message) bool {
		var v struct{ Reason string }
		return m.Decode(&v) == nil && v.Reason == "removed"
	}); err != nil {
		t.Fatalf("second window not removed: %v; got %v", err, types(second))
	}
	third := dial(t, srv, client.Options{Room: "one", Token: tok, Audio: true})
	third.Speaking.Store(true)
	if err := third.Join(); err != nil {
		t.Fatal(err)
	}
	if _, err := third.WaitMessage(ctx, "error", func(m client.Message) bool {
		var v struct{ Code string }
		return m.Decode(&v) == nil && v.Code == "blocked"
	}); err != nil {
		t.Fatalf("third join not refused: %v; got %v", err, types(third))
	}
	ctlWaitState(t, l, func(st protocol.RoomState) bool { return countIdentity(st, "milo") == 0 })
	silent(ctx, t, milo, f, l)
}

// TestOneSeatPerPersonWaiting: a second window of someone in the waiting
// room takes the waiting place; the facilitator sees one entry and admits
// the second window.
func TestOneSeatPerPersonWaiting(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := srv.App.Store().CreateRoom(ctx, room.RoomConfig{Name: "knock", Kind: room.KindOpen, Knock: true}); err != nil {
		t.Fatal(err)
	}
	f := ctlJoin(t, srv, "knock", "fran", room.RoleFacilitator, false)
	tok := ctlToken(t, "knock", "milo", room.RoleMember)
	first := dial(t, srv, client.Options{Room: "knock", Token: tok, Audio: true})
	if err := first.Join(); err != nil {
		t.Fatal(err)
	}
	if _, err := first.WaitMessage(ctx, "waiting", nil); err != nil {
		t.Fatalf("first window not waiting: %v; got %v", err, types(first))
	}
	second := dial(t, srv, client.Options{Room: "knock", Token: tok, Audio: true})
	if err := second.Join(); err != nil {
		t.Fatal(err)
	}
	if _, err := second.WaitMessage(ctx, "waiting", nil); err != nil {
		t.Fatalf("second window not waiting: %v; got %v", err, types(second))
	}
	if _, err := first.WaitMessage(ctx, "bye", func(m client.Message) bool {
		var v struct{ Reason string }
		return m.Decode(&v) == nil && v.Reason == "joined_elsewhere"
	}); err != nil {
		t.Fatalf("first window not told it was replaced: %v; got %v", err, types(first))
	}
	var entries []struct{ ID, Identity string }
	ctlSync(t, f)
	for _, m := range f.Messages() {
		var v struct {
			Entries []struct{ ID, Identity string }
		}
		if m.Type == "waiting_list" && m.Decode(&v) == nil {
			entries = v.Entries
		}
	}
	if len(entries) != 1 || entries[0].Identity != "milo" {
		t.Fatalf("waiting list %+v, want milo once", entries)
	}
	ctlSend(t, f, map[string]any{"type": "admit", "participant": entries[0].ID})
	if _, err := second.WaitMessage(ctx, "joined", nil); err != nil {
		t.Fatalf("second window not admitted: %v; got %v", err, types(second))
	}
	if err := second.Wait(ctx, func() bool { return second.Received(f.ID(), "audio") >= 10 }); err != nil {
		t.Fatalf("admitted window hears nothing: %v", err)
	}
}

func countIdentity(st protocol.RoomState, identity string) int {
	n := 0
	for _, p := range st.Participants {
		if p.Identity == identity {
			n++
		}
	}
	return n
}

// silent checks that nothing from participant id reaches subs: once a
// window passes in which each sub receives 10 packets from another
// publisher and nothing from id (packets already on their way when the
// gate changed may arrive first), a second window of 50 must be clean too.
func silent(ctx context.Context, t *testing.T, id string, subs ...*client.Client) {
	t.Helper()
	clock := func(sub *client.Client) uint64 {
		var n uint64
		for _, o := range subs {
			if o != sub {
				n += sub.Received(o.ID(), "audio")
			}
		}
		return n
	}
	window := func(n uint64) (bool, error) {
		from, ticks := map[*client.Client]uint64{}, map[*client.Client]uint64{}
		for _, s := range subs {
			from[s], ticks[s] = s.Received(id, "audio"), clock(s)
		}
		for _, s := range subs {
			if err := s.Wait(ctx, func() bool { return clock(s) >= ticks[s]+n }); err != nil {
				return false, err
			}
		}
		for _, s := range subs {
			if s.Received(id, "audio") != from[s] {
				return false, nil
			}
		}
		return true, nil
	}
	for {
		clean, err := window(10)
		if err != nil {
			t.Fatalf("the others' audio stopped: %v", err)
		}
		if clean {
			break
		}
	}
	clean, err := window(50)
	if err != nil {
		t.Fatalf("the others' audio stopped: %v", err)
	}
	if !clean {
		t.Fatalf("audio from %s still reaches others", id)
	}
}
