package signaling_test

import (
	"slices"
	"testing"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// TestSideRoom: while the co-facilitator has a member in the side room,
// not one packet of audio or video passes between the two of them and the
// group, either way, while each side keeps hearing and seeing its own;
// everyone sees who is in it; when they come back, everything flows again.
func TestSideRoom(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	f := ctlJoin(t, srv, "side", "fran", room.RoleFacilitator, true)
	k := ctlJoin(t, srv, "side", "kim", room.RoleCoFacilitator, true)
	a := ctlJoin(t, srv, "side", "ann", room.RoleMember, true)
	b := ctlJoin(t, srv, "side", "ben", room.RoleMember, true)
	c := ctlJoin(t, srv, "side", "cat", room.RoleMember, true)
	cs := map[string]*client.Client{"f": f, "k": k, "a": a, "b": b, "c": c}
	all := "f<k,a,b,c k<f,a,b,c a<f,k,b,c b<f,k,a,c c<f,k,a,b"
	ctlExpect(t, "audio", cs, all)
	ctlExpect(t, "video", cs, all)

	// A member may not take anyone there, and a side room needs someone.
	ctlSend(t, b, map[string]any{"type": "start_side_room", "participants": []string{c.ID()}})
	ctlWaitError(t, b, "start_side_room", "forbidden")
	ctlSend(t, k, map[string]any{"type": "start_side_room", "participants": []string{}})
	ctlWaitError(t, k, "start_side_room", "bad_request")

	ctlSend(t, k, map[string]any{"type": "start_side_room", "participants": []string{a.ID()}})
	st := ctlWaitState(t, b, func(st protocol.RoomState) bool { return st.SideRoom != nil })
	if st.SideRoom.Host != k.ID() || !slices.Equal(st.SideRoom.Participants, []string{a.ID()}) ||
		ctlFind(st, a.ID()) == nil || ctlFind(st, a.ID()).Audible {
		t.Fatalf("side room as the group sees it: %+v", st.SideRoom)
	}
	apart := "k<a a<k f<b,c b<f,c c<f,b"
	ctlExpect(t, "audio", cs, apart)
	ctlExpect(t, "video", cs, apart)

	// The group's own rules go on: f mutes b, and only b's audio stops.
	ctlSend(t, f, map[string]any{"type": "mute_participant", "participant": b.ID(), "kind": "audio", "muted": true})
	ctlWaitState(t, c, func(st protocol.RoomState) bool { p := ctlFind(st, b.ID()); return p != nil && p.Muted.Audio })
	ctlExpect(t, "audio", cs, "k<a a<k f<c b<f,c c<f")
	ctlSend(t, f, map[string]any{"type": "mute_participant", "participant": b.ID(), "kind": "audio", "muted": false})

	// b cannot bring a back; a may come back alone.
	ctlSend(t, b, map[string]any{"type": "end_side_room", "participant": a.ID()})
	ctlWaitError(t, b, "end_side_room", "forbidden")
	ctlSend(t, a, map[string]any{"type": "end_side_room"})
	ctlWaitState(t, c, func(st protocol.RoomState) bool { return st.SideRoom == nil })
	ctlExpect(t, "audio", cs, all)
	ctlExpect(t, "video", cs, all)

	// Two taken, then brought back by the facilitator.
	ctlSend(t, k, map[string]any{"type": "start_side_room", "participants": []string{a.ID(), b.ID()}})
	ctlWaitState(t, f, func(st protocol.RoomState) bool { return st.SideRoom != nil && len(st.SideRoom.Participants) == 2 })
	apart = "k<a,b a<k,b b<k,a f<c c<f"
	ctlExpect(t, "audio", cs, apart)
	ctlExpect(t, "video", cs, apart)
	ctlSend(t, f, map[string]any{"type": "end_side_room"})
	ctlWaitState(t, a, func(st protocol.RoomState) bool { return st.SideRoom == nil })
	ctlExpect(t, "audio", cs, all)
	ctlExpect(t, "video", cs, all)
}
