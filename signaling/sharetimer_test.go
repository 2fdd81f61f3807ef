package signaling_test

import (
	"testing"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// TestShareLetFinish: in a room configured to let speakers finish, a timed
// share whose time is up keeps the floor and the speaker stays heard on
// the moderated floor (checked on the media each client receives) until
// the facilitator acts; the facilitator adds time with extend_timer; with
// shareEnd set back to stop, the next share ends at zero and the speaker
// is no longer heard. Bad values get bad_request and change nothing.
func TestShareLetFinish(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	createRoom(t, srv, room.RoomConfig{Name: "circle", Kind: room.KindOpen, ShareEnd: room.ShareEndFinish})
	f := ctlJoin(t, srv, "circle", "fran", room.RoleFacilitator, false)
	a := ctlJoin(t, srv, "circle", "ann", room.RoleMember, false)
	b := ctlJoin(t, srv, "circle", "ben", room.RoleMember, false)
	cs := map[string]*client.Client{"f": f, "a": a, "b": b}
	if st, _ := ctlState(f); st.Policy.ShareEnd != room.ShareEndFinish {
		t.Fatalf("policy %+v, want the room's shareEnd finish", st.Policy)
	}

	ctlSend(t, f, map[string]any{"type": "set_floor_mode", "mode": "moderated"})
	ctlSend(t, f, map[string]any{"type": "give_floor", "participant": a.ID(), "seconds": 1})
	st := ctlWaitState(t, b, func(st protocol.RoomState) bool {
		return st.Change != nil && st.Change.Kind == protocol.ChangeTimerExpiry
	})
	if st.Floor.Holder != a.ID() || st.Floor.Timer == nil || st.Floor.Timer.RemainingMs != 0 {
		t.Fatalf("time up, let finish: %+v", st.Floor)
	}
	ctlExpect(t, "audio", cs, "f<a a<f b<f,a")

	ctlSend(t, f, map[string]any{"type": "extend_timer", "seconds": 0})
	ctlWaitError(t, f, "extend_timer", "bad_request")
	ctlSend(t, f, map[string]any{"type": "set_policy", "shareEnd": "sometime"})
	ctlWaitError(t, f, "set_policy", "bad_request")
	ctlSend(t, f, map[string]any{"type": "extend_timer", "seconds": 60})
	st = ctlWaitState(t, a, func(st protocol.RoomState) bool {
		return st.Change != nil && st.Change.Kind == protocol.CmdExtendTimer
	})
	if tm := st.Floor.Timer; st.Floor.Holder != a.ID() || tm == nil || tm.Seconds != 61 || tm.RemainingMs <= 0 || tm.RemainingMs > 60_000 ||
		st.Change.By != f.ID() || st.Change.Participant != a.ID() || st.Policy.ShareEnd != room.ShareEndFinish {
		t.Fatalf("after +1 min: %+v, change %+v, policy %+v", st.Floor, st.Change, st.Policy)
	}

	ctlSend(t, f, map[string]any{"type": "set_policy", "shareEnd": "stop"})
	ctlWaitState(t, a, func(st protocol.RoomState) bool { return st.Policy.ShareEnd == room.ShareEndStop })
	ctlSend(t, f, map[string]any{"type": "set_timer", "seconds": 1})
	st = ctlWaitState(t, b, func(st protocol.RoomState) bool { return st.Floor.Holder == "" })
	if st.Change == nil || st.Change.Kind != protocol.ChangeTimerExpiry {
		t.Fatalf("hard stop: change %+v", st.Change)
	}
	ctlExpect(t, "audio", cs, "f< a<f b<f")
}
