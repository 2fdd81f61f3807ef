package live_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hearth-rtc/hearth/live"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// TestMirrorRestoresControls: controls restored from their mirror, with
// everyone still present, are the same controls: the same snapshot
// (mutes, hands in order, floor and its timer, the handed facilitator
// role, screen-share permissions, policy, version) and the same answers
// to the next command. Restored without a person, that person has left
// everything, as on leaving.
func TestMirrorRestoresControls(t *testing.T) {
	c, clk := group(t, protocol.Policy{JoinMuted: true})
	must(t, c, live.Command{Kind: protocol.CmdMute, By: "f", Participant: "t", Media: protocol.MediaVideo, Muted: true})
	must(t, c, live.Command{Kind: protocol.CmdRaiseHand, By: "t"})
	must(t, c, live.Command{Kind: protocol.CmdRaiseHand, By: "m"})
	must(t, c, live.Command{Kind: protocol.CmdRaiseHand, By: "c"})
	must(t, c, live.Command{Kind: protocol.CmdSetFloorMode, By: "f", Mode: protocol.FloorModerated})
	must(t, c, live.Command{Kind: protocol.CmdGiveFloor, By: "f", Participant: "m", Seconds: 60})
	must(t, c, live.Command{Kind: protocol.CmdAllowScreenShare, By: "f", Participant: "t", Allowed: true})
	must(t, c, live.Command{Kind: protocol.CmdHandFacilitation, By: "f", Participant: "t"})
	clk.advance(10e9)
	data := c.Mirror(nil)

	present := map[string]room.Participant{}
	for id, role := range map[string]room.Role{"f": room.RoleFacilitator, "c": room.RoleCoFacilitator, "m": room.RoleMember,
		"t": room.RoleMember, "o": room.RoleObserver} {
		present[id] = room.Participant{ID: id, Identity: "id-" + id, Name: strings.ToUpper(id), Role: role}
	}
	r, err := live.RestoreControls(data, live.ControlsConfig{Now: clk.now}, present)
	if err != nil {
		t.Fatal(err)
	}
	want, got := c.Snapshot(), r.Snapshot()
	want.Change = nil
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("restored:\n%+v\nwant\n%+v", got, want)
	}
	if role, _ := r.Role("t"); role != room.RoleFacilitator {
		t.Fatalf("t restored as %s, want the facilitator role handed to them", role)
	}
	// Both answer the next command alike.
	next := live.Command{Kind: protocol.CmdGiveFloor, By: "t", Participant: ""}
	a, errA := c.Apply(next)
	b, errB := r.Apply(next)
	a.Change, b.Change = nil, nil
	if errA != nil || errB != nil || !reflect.DeepEqual(a, b) {
		t.Fatalf("next command: %v / %v\n%+v\n%+v", errA, errB, a, b)
	}

	// Without m (the floor holder) and c: the hands and the floor go on
	// without them.
	delete(present, "m")
	delete(present, "c")
	r, err = live.RestoreControls(data, live.ControlsConfig{Now: clk.now}, present)
	if err != nil {
		t.Fatal(err)
	}
	st := r.Snapshot()
	var ids, hands []string
	for _, p := range st.Participants {
		ids = append(ids, p.ID)
	}
	for _, h := range st.Hands {
		hands = append(hands, h.Participant)
	}
	if !slices.Equal(ids, []string{"f", "t", "o"}) || !slices.Equal(hands, []string{"t"}) || st.Floor.Holder != "" ||
		st.Floor.Mode != protocol.FloorModerated || st.Version != want.Version || st.Facilitation == nil {
		t.Fatalf("restored without m and c: %+v", st)
	}
	for _, bad := range [][]byte{nil, []byte("{"), []byte(`{"format":99}`), []byte(`{"format":1,"ended":true}`)} {
		if _, err := live.RestoreControls(bad, live.ControlsConfig{}, present); err == nil {
			t.Errorf("restored from %q", bad)
		}
	}
}
