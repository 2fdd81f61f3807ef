package live_test

import (
	"errors"
	"testing"

	"github.com/hearth-rtc/hearth/live"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// TestPeerLedAuthorization: in a room whose peerLed setting is "members",
// members may run turn-taking (and nothing else) while no facilitator or
// co-facilitator is present; with "nobody", or with a facilitator
// present, they may not. Observers never may.
func TestPeerLedAuthorization(t *testing.T) {
	turnTaking := map[protocol.CommandKind]bool{
		protocol.CmdGiveFloor: true, protocol.CmdTakeFloor: true, protocol.CmdSetFloorMode: true, protocol.CmdSetTimer: true,
		protocol.CmdStartRound: true, protocol.CmdNextTurn: true, protocol.CmdSkip: true, protocol.CmdEndRound: true,
	}
	// members seats m and t, observer o and, if present, facilitator
	// present (or co-facilitator), in a room with setting.
	members := func(setting room.PeerLed, present room.Role) *live.Controls {
		c := live.NewControls(live.ControlsConfig{PeerLed: setting})
		seatAs(c, "m", room.RoleMember)
		seatAs(c, "t", room.RoleMember)
		seatAs(c, "o", room.RoleObserver)
		if present != "" {
			seatAs(c, "f", present)
		}
		return c
	}
	cmd := func(k protocol.CommandKind, by string) live.Command {
		x := live.Command{Kind: k, By: by, Participant: "t", Participants: []string{"t"}, Media: protocol.MediaAudio,
			Mode: protocol.FloorModerated, Order: protocol.OrderJoin, Seconds: 0}
		if k == protocol.CmdSkip || k == protocol.CmdLowerHand {
			x.Participant = ""
		}
		return x
	}
	for _, tc := range []struct {
		name    string
		setting room.PeerLed
		present room.Role
		peers   bool // members may run turn-taking
	}{
		{"members, nobody facilitating", room.PeerLedMembers, "", true},
		{"members, a facilitator present", room.PeerLedMembers, room.RoleFacilitator, false},
		{"members, a co-facilitator present", room.PeerLedMembers, room.RoleCoFacilitator, false},
		{"nobody", room.PeerLedNobody, "", false},
		{"unset", "", "", false},
	} {
		for _, k := range protocol.CommandKinds() {
			// Authorize alone: whether the sender may, whatever the state
			// (next_turn needs a round to be applied, but the permission
			// comes first).
			c := members(tc.setting, tc.present)
			errM := c.Authorize(cmd(k, "m"))
			errO := c.Authorize(cmd(k, "o"))
			moderatorOnly := errors.Is(members(room.PeerLedNobody, "").Authorize(cmd(k, "m")), room.ErrForbidden)
			wantM := !moderatorOnly || (tc.peers && turnTaking[k])
			if (errM == nil) != wantM {
				t.Errorf("%s: %s by a member: %v, want allowed %v", tc.name, k, errM, wantM)
			}
			if turnTaking[k] && errO == nil {
				t.Errorf("%s: %s by an observer allowed", tc.name, k)
			}
		}
	}

	// Members run a round among themselves: the member who starts it is in
	// it; moderated, only the speaker is heard; a member moves it on.
	c := members(room.PeerLedMembers, "")
	st := must(t, c, live.Command{Kind: protocol.CmdStartRound, By: "m", Order: protocol.OrderJoin})
	if st.Round == nil || len(st.Round.Turns) != 2 || st.Round.Current != "m" {
		t.Fatalf("round started by a member: %+v", st.Round)
	}
	if hears(c, "t", protocol.MediaAudio) != "m" || hears(c, "m", protocol.MediaAudio) != "" {
		t.Errorf("during the round t hears %q, m hears %q", hears(c, "t", protocol.MediaAudio), hears(c, "m", protocol.MediaAudio))
	}
	must(t, c, live.Command{Kind: protocol.CmdNextTurn, By: "t"})
	must(t, c, live.Command{Kind: protocol.CmdEndRound, By: "t"})
	// Still no mutes, removals or admissions for members.
	for _, k := range []protocol.CommandKind{protocol.CmdMute, protocol.CmdRemove, protocol.CmdMuteAll, protocol.CmdLock, protocol.CmdAdmit, protocol.CmdEndSession} {
		if err := c.Authorize(cmd(k, "m")); !errors.Is(err, room.ErrForbidden) {
			t.Errorf("%s by a member of a peer-led room: %v", k, err)
		}
	}
	// A facilitator arrives: the members' turn-taking passes to them.
	seatAs(c, "f", room.RoleFacilitator)
	if err := c.Authorize(cmd(protocol.CmdStartRound, "m")); !errors.Is(err, room.ErrForbidden) {
		t.Errorf("start_round by a member with a facilitator present: %v", err)
	}
	c.Leave("f")
	if err := c.Authorize(cmd(protocol.CmdStartRound, "m")); err != nil {
		t.Errorf("start_round by a member after the facilitator left: %v", err)
	}
}

// TestHandFacilitation: a facilitator hands the role to a member for the
// session; the member then moderates members but not facilitators or
// co-facilitators, nor hands it on; facilitators take it back, or the
// member gives it back; it ends when the member leaves.
func TestHandFacilitation(t *testing.T) {
	c, _ := group(t, protocol.Policy{})
	for _, cmd := range []live.Command{
		{Kind: protocol.CmdHandFacilitation, By: "f", Participant: "o"},      // an observer
		{Kind: protocol.CmdHandFacilitation, By: "f", Participant: "c"},      // a co-facilitator
		{Kind: protocol.CmdHandFacilitation, By: "f", Participant: "f"},      // oneself
		{Kind: protocol.CmdHandFacilitation, By: "f", Participant: "nobody"}, // not seated
		{Kind: protocol.CmdTakeBackFacilitation, By: "f"},                    // nothing handed
	} {
		if _, err := c.Apply(cmd); !errors.Is(err, room.ErrInvalid) {
			t.Errorf("%+v: %v, want invalid", cmd, err)
		}
	}
	st := must(t, c, live.Command{Kind: protocol.CmdHandFacilitation, By: "f", Participant: "m"})
	if find(st, "m").Role != room.RoleFacilitator || st.Facilitation == nil || st.Facilitation.Participant != "m" || st.Facilitation.By != "f" {
		t.Fatalf("after hand_facilitation: %+v %+v", find(st, "m"), st.Facilitation)
	}
	if r, _ := c.Role("m"); r != room.RoleFacilitator {
		t.Fatalf("Role(m) = %s", r)
	}
	if ch := st.Change; ch == nil || ch.Kind != protocol.CmdHandFacilitation || ch.Participant != "m" {
		t.Errorf("change: %+v", st.Change)
	}
	// m moderates: mutes t, runs a round (m is not in it), admits.
	must(t, c, live.Command{Kind: protocol.CmdMute, By: "m", Participant: "t", Media: protocol.MediaAudio, Muted: true})
	st = must(t, c, live.Command{Kind: protocol.CmdStartRound, By: "m", Order: protocol.OrderJoin})
	if len(st.Round.Turns) != 1 || st.Round.Current != "t" {
		t.Fatalf("round run by m: %+v", st.Round)
	}
	must(t, c, live.Command{Kind: protocol.CmdEndRound, By: "m"})
	if err := c.Authorize(live.Command{Kind: protocol.CmdAdmit, By: "m", Participant: "*"}); err != nil {
		t.Errorf("admit by the member facilitating: %v", err)
	}
	// ... but not facilitators or co-facilitators, nor hands it on.
	for _, cmd := range []live.Command{
		{Kind: protocol.CmdMute, By: "m", Participant: "c", Media: protocol.MediaAudio, Muted: true},
		{Kind: protocol.CmdMute, By: "m", Participant: "f", Media: protocol.MediaAudio, Muted: true},
		{Kind: protocol.CmdRemove, By: "m", Participant: "c"},
		{Kind: protocol.CmdHandFacilitation, By: "m", Participant: "t"},
		{Kind: protocol.CmdHandFacilitation, By: "c", Participant: "t"}, // co-facilitators do not hand it
	} {
		if _, err := c.Apply(cmd); !errors.Is(err, room.ErrForbidden) {
			t.Errorf("%+v: %v, want forbidden", cmd, err)
		}
	}
	// The co-facilitator acts on m as on any member.
	must(t, c, live.Command{Kind: protocol.CmdMute, By: "c", Participant: "m", Media: protocol.MediaVideo, Muted: true})

	// Handing it to t returns m to member.
	st = must(t, c, live.Command{Kind: protocol.CmdHandFacilitation, By: "f", Participant: "t"})
	if find(st, "m").Role != room.RoleMember || find(st, "t").Role != room.RoleFacilitator || st.Facilitation.Participant != "t" {
		t.Fatalf("handed on to t: %+v", st.Participants)
	}
	if err := c.Authorize(live.Command{Kind: protocol.CmdMute, By: "m", Participant: "t", Media: protocol.MediaAudio, Muted: true}); !errors.Is(err, room.ErrForbidden) {
		t.Errorf("m still moderates: %v", err)
	}
	// m cannot take it back; t gives it back.
	if _, err := c.Apply(live.Command{Kind: protocol.CmdTakeBackFacilitation, By: "m"}); !errors.Is(err, room.ErrForbidden) {
		t.Errorf("take back by a member: %v", err)
	}
	st = must(t, c, live.Command{Kind: protocol.CmdTakeBackFacilitation, By: "t"})
	if find(st, "t").Role != room.RoleMember || st.Facilitation != nil {
		t.Fatalf("given back: %+v %+v", find(st, "t"), st.Facilitation)
	}
	// The co-facilitator takes it back too.
	must(t, c, live.Command{Kind: protocol.CmdHandFacilitation, By: "f", Participant: "m"})
	st = must(t, c, live.Command{Kind: protocol.CmdTakeBackFacilitation, By: "c"})
	if find(st, "m").Role != room.RoleMember {
		t.Fatalf("taken back by c: %+v", find(st, "m"))
	}
	// The hand-over outlives the facilitator who made it, and ends when
	// the member leaves; a facilitator joining later takes it back.
	must(t, c, live.Command{Kind: protocol.CmdHandFacilitation, By: "f", Participant: "m"})
	c.Leave("f")
	c.Leave("c")
	if st := c.Snapshot(); st.Facilitation == nil || find(st, "m").Role != room.RoleFacilitator {
		t.Fatalf("after the facilitators left: %+v", st.Facilitation)
	}
	seatAs(c, "g", room.RoleFacilitator)
	must(t, c, live.Command{Kind: protocol.CmdTakeBackFacilitation, By: "g"})
	must(t, c, live.Command{Kind: protocol.CmdHandFacilitation, By: "g", Participant: "m"})
	c.Leave("m")
	if st := c.Snapshot(); st.Facilitation != nil {
		t.Fatalf("after m left: %+v", st.Facilitation)
	}
}
