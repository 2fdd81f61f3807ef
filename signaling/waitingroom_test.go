package signaling_test

import (
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// waitingMessages decodes every waiting message c received, in order.
func waitingMessages(c *client.Client) []protocol.Waiting {
	var out []protocol.Waiting
	for _, m := range c.Messages() {
		var w protocol.Waiting
		if m.Type == "waiting" && m.Decode(&w) == nil {
			out = append(out, w)
		}
	}
	return out
}

// TestWaitingRoomTold: someone waiting for a closed room's facilitator is
// told the room's display name and that no facilitator is here; when the
// facilitator arrives, a new waiting says they are here (and the sentence
// changes with it); when the facilitator leaves, another says they are
// gone. Seated people see the display name in joined and room_updated; a
// room nobody configured shows a name made from its own.
func TestWaitingRoomTold(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	cfg := cohort("thursday-circle")
	cfg.DisplayName = "Thursday evening circle"
	createRoom(t, srv, cfg)
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	now := time.Now()

	member := joinWith(t, srv, client.Options{Room: "thursday-circle", Audio: true,
		Token: token(t, "thursday-circle", "client-01", "Rae", room.RoleMember, time.Hour, now)})
	waitFor := func(n int, present bool) protocol.Waiting {
		t.Helper()
		if err := member.Wait(ctx, func() bool { return len(waitingMessages(member)) >= n }); err != nil {
			t.Fatalf("waiting message %d not received: %v (%v)", n, err, types(member))
		}
		ws := waitingMessages(member)
		w := ws[n-1]
		if w.Reason != room.WaitForFacilitator || w.FacilitatorPresent != present || w.Message != room.WaitForFacilitator.Message(present) ||
			w.Room.Name != "thursday-circle" || w.Room.DisplayName != "Thursday evening circle" {
			t.Fatalf("waiting message %d: %+v, want facilitatorPresent %v", n, w, present)
		}
		return w
	}
	waitFor(1, false)

	fac := joinWith(t, srv, client.Options{Room: "thursday-circle", Audio: true,
		Token: token(t, "thursday-circle", "dr-lee", "Dr Lee", room.RoleFacilitator, time.Hour, now)})
	j, err := fac.WaitMessage(ctx, "joined", nil)
	if err != nil {
		t.Fatal(err)
	}
	var jm protocol.Joined
	if err := j.Decode(&jm); err != nil || jm.Room.DisplayName != "Thursday evening circle" || jm.Room.ShareEnd != room.ShareEndStop {
		t.Fatalf("joined's room %+v, %v", jm.Room, err)
	}
	waitFor(2, true)

	ctlSend(t, fac, map[string]any{"type": "lock", "locked": true})
	u, err := fac.WaitMessage(ctx, "room_updated", nil)
	if err != nil {
		t.Fatal(err)
	}
	var um protocol.RoomUpdated
	if err := u.Decode(&um); err != nil || !um.Room.Locked || um.Room.DisplayName != "Thursday evening circle" {
		t.Fatalf("room_updated %+v, %v", um.Room, err)
	}

	ctlSend(t, fac, map[string]any{"type": "leave"})
	waitFor(3, false)
	ping(t, member)
	if n := len(waitingMessages(member)); n != 3 {
		t.Fatalf("%d waiting messages, want 3 (one per change): %v", n, types(member))
	}

	dropIn := ctlJoin(t, srv, "tuesday-grief", "ann", room.RoleMember, false)
	j, err = dropIn.WaitMessage(ctx, "joined", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Decode(&jm); err != nil || jm.Room.DisplayName != "Tuesday grief" {
		t.Fatalf("a drop-in room's display name: %+v, %v", jm.Room, err)
	}
}
