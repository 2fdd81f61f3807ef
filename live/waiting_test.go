package live_test

import (
	"testing"

	"github.com/hearth-rtc/hearth/live"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// count is how many messages of type typ c received.
func (c *conn) count(typ string) int {
	n := 0
	for _, x := range c.types() {
		if x == typ {
			n++
		}
	}
	return n
}

// TestWaitingRoomKnowsTheFacilitator: the people waiting are told the room
// (its display name) and whether a facilitator is here, on arrival and
// again each time that changes (and only then): a facilitator seated, the
// last one gone. A held seat still counts; a waiting place moved to a new
// window is told as it stands; the end of the session says nothing more.
func TestWaitingRoomKnowsTheFacilitator(t *testing.T) {
	n := newNode(t, live.Config{})
	n.create(room.RoomConfig{Name: "thursday-circle", Kind: room.KindClosed, Knock: true, DisplayName: "Thursday evening circle",
		Roster: []room.RosterEntry{{Identity: "fran", Role: room.RoleFacilitator}, {Identity: "cody", Role: room.RoleCoFacilitator},
			{Identity: "milo", Role: room.RoleMember}, {Identity: "wren", Role: room.RoleMember}}})
	told := func(x person, present bool, reason room.WaitReason, times int) {
		t.Helper()
		var w protocol.Waiting
		if !x.c.lastOf(t, "waiting", &w) {
			t.Fatalf("%s: no waiting; got %v", x.p.Identity, x.c.types())
		}
		if w.FacilitatorPresent != present || w.Reason != reason || w.Message != reason.Message(present) ||
			w.Room.Name != "thursday-circle" || w.Room.DisplayName != "Thursday evening circle" {
			t.Fatalf("%s told %+v, want facilitatorPresent %v, reason %s", x.p.Identity, w, present, reason)
		}
		if got := x.c.count("waiting"); got != times {
			t.Fatalf("%s: %d waiting messages, want %d: %v", x.p.Identity, got, times, x.c.types())
		}
	}

	milo := n.join("thursday-circle", "milo", room.RoleMember)
	told(milo, false, room.WaitForFacilitator, 1)

	fran := n.join("thursday-circle", "fran", room.RoleFacilitator)
	told(milo, true, room.WaitForFacilitator, 2)
	var j protocol.Joined
	if !fran.c.lastOf(t, "joined", &j) || j.Room.DisplayName != "Thursday evening circle" {
		t.Fatalf("joined's room: %+v", j.Room)
	}
	wren := n.join("thursday-circle", "wren", room.RoleMember)
	told(wren, true, room.WaitKnock, 1)

	cody := n.join("thursday-circle", "cody", room.RoleCoFacilitator)
	fran.room.Leave(fran.p.ID, fran.c, "left")
	told(milo, true, room.WaitForFacilitator, 2) // cody is still here
	if !cody.room.Drop(cody.p.ID, cody.c) {
		t.Fatal("cody's seat not held")
	}
	told(wren, true, room.WaitKnock, 1) // a held seat counts
	cody.room.Leave(cody.p.ID, cody.c, "left")
	told(milo, false, room.WaitForFacilitator, 3)
	told(wren, false, room.WaitKnock, 2)

	again := n.join("thursday-circle", "milo", room.RoleMember)
	if again.p.ID != milo.p.ID || milo.c.bye() != "joined_elsewhere" {
		t.Fatalf("second window: %s, first closed with %v", again.p.ID, milo.c.last)
	}
	told(again, false, room.WaitForFacilitator, 1)

	fran = n.join("thursday-circle", "fran", room.RoleFacilitator)
	told(again, true, room.WaitForFacilitator, 2)
	told(wren, true, room.WaitKnock, 3)
	if err := fran.apply(n.ctx, live.Command{Kind: protocol.CmdEndSession}); err != nil {
		t.Fatal(err)
	}
	if wren.c.bye() != "ended" {
		t.Fatalf("wren after the end: %v", wren.c.types())
	}
	told(wren, true, room.WaitKnock, 3)
}
