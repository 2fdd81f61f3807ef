package live_test

import (
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/live"
	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/room"
)

// TestYieldToTheRoomsNode: a room ran on two nodes at once (node b
// claimed it while node a still ran it). Node a gives its people up:
// their connections close with no goodbye (their clients come back as
// after a drop), the room closes on a, and their presences stay in the
// store, no longer kept alive by a. Joining again through node b, Fran
// takes her presence over: the same participant id and role, seated, no
// waiting room although the room knocks.
func TestYieldToTheRoomsNode(t *testing.T) {
	store := &flakyStore{Store: membership.NewMemStore(membership.MemStoreOptions{TTL: time.Minute})}
	a := newNodeOn(t, store, "node-a", live.Config{})
	a.create(room.RoomConfig{Name: "circle", Kind: room.KindOpen, Knock: true, Capacity: 10})
	fran := a.join("circle", "fran", room.RoleFacilitator)
	b := newNodeOn(t, store, "node-b", live.Config{})
	sue := b.join("circle", "sue", room.RoleMember)
	if !sue.c.has("waiting") {
		t.Fatalf("sue on node b: %v, want the waiting room (knock, and node b runs the room without fran)", sue.c.types())
	}

	if !a.rooms.Yield("circle") {
		t.Fatal("node a had nobody to yield")
	}
	if !fran.c.isClosed() || fran.c.bye() != "" {
		t.Fatalf("fran's connection: closed %v, bye %q; want closed with no goodbye", fran.c.isClosed(), fran.c.bye())
	}
	if names := a.rooms.Names(); len(names) != 0 {
		t.Fatalf("rooms live on node a after the yield: %v", names)
	}
	if got := a.svc.Hosted("circle"); len(got) != 0 {
		t.Fatalf("node a still keeps %v alive", got)
	}
	sess, err := store.Session(a.ctx, "circle")
	if p, ok := sess.Find(fran.p.ID); err != nil || !ok || !p.State.Seated() {
		t.Fatalf("fran's presence after the yield: %+v, %v; want it kept, seated", p, err)
	}
	if a.rooms.Yield("circle") {
		t.Fatal("a second yield let somebody go")
	}

	back := b.join("circle", "fran", room.RoleFacilitator)
	if back.p.ID != fran.p.ID || back.p.Role != room.RoleFacilitator || !back.c.has("joined") {
		t.Fatalf("fran back on node b: %s as %s, sent %v; want %s seated as facilitator", back.p.ID, back.p.Role,
			back.c.types(), fran.p.ID)
	}
}
