package live_test

import (
	"testing"

	"github.com/hearth-rtc/hearth/live"
	"github.com/hearth-rtc/hearth/room"
)

// TestEndByOperator: the operator ends a session (the admin API): everyone
// here, seated or waiting, is told bye ended; a room with no session here
// is not ended.
func TestEndByOperator(t *testing.T) {
	n := newNode(t, live.Config{})
	n.create(room.RoomConfig{Name: "circle", Kind: room.KindOpen, Knock: true, Capacity: 10})
	f := n.join("circle", "fran", room.RoleFacilitator)
	w := n.join("circle", "wren", room.RoleMember)
	if !w.c.has("waiting") {
		t.Fatalf("wren in a knock room: %v", w.c.types())
	}
	if n.rooms.End("elsewhere") {
		t.Error("a room with no session here was ended")
	}
	if !n.rooms.End("circle") {
		t.Fatal("the session was not ended")
	}
	for _, x := range []person{f, w} {
		if x.c.bye() != "ended" || !x.c.isClosed() {
			t.Errorf("%s: bye %q, closed %v", x.p.Identity, x.c.bye(), x.c.isClosed())
		}
	}
	if n.rooms.End("circle") {
		t.Error("an ended session was ended again")
	}
}
