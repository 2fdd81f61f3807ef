package live_test

import (
	"strings"
	"testing"

	"github.com/hearth-rtc/hearth/live"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/sfu"
)

// screensSeen lists, for each of f c m t o, whose screen share it
// receives.
func screensSeen(c *live.Controls) string {
	g := c.Gate()
	var rows []string
	for _, sub := range []string{"f", "c", "m", "t", "o"} {
		var from []string
		for _, pub := range []string{"f", "c", "m", "t", "o"} {
			t := sfu.TrackInfo{Publisher: pub, StreamID: sfu.ScreenStreamID(pub), Kind: sfu.KindVideo, Screen: true}
			if g.AllowsTrack(t, sub) {
				from = append(from, pub)
			}
		}
		rows = append(rows, sub+"<"+strings.Join(from, ","))
	}
	return strings.Join(rows, " ")
}

func sharer(st protocol.RoomState) string {
	if st.ScreenShare == nil {
		return ""
	}
	return st.ScreenShare.Participant
}

// TestScreenShare: facilitators share by default and members once
// allowed; one share at a time; a facilitator stops anyone's; taking the
// permission back, leaving and the share's track ending each end it; the
// gate forwards only the current share.
func TestScreenShare(t *testing.T) {
	c, clk := group(t, protocol.Policy{})
	step := func(name, want string) {
		t.Helper()
		if got := screensSeen(c); got != want {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
	refused := func(cmd live.Command, want outcome, words string) {
		t.Helper()
		v := c.Version()
		_, err := c.Apply(cmd)
		if got := outcomeOf(err); got != want || !strings.Contains(err.Error(), words) {
			t.Errorf("%+v: %v (%v), want %v saying %q", cmd, got, err, want, words)
		}
		if c.Version() != v {
			t.Errorf("%+v was refused but changed the version", cmd)
		}
	}
	nobody := "f< c< m< t< o<"
	step("nobody shares", nobody)
	st := c.Snapshot()
	for _, p := range st.Participants {
		if want := p.ID == "f" || p.ID == "c"; p.CanShareScreen != want {
			t.Errorf("%s may share: %v, want %v", p.ID, p.CanShareScreen, want)
		}
	}

	// A member without permission is refused; nothing of theirs is
	// forwarded, whatever they send.
	refused(live.Command{Kind: protocol.CmdStartScreenShare, By: "m"}, forbidden, "allow you")
	step("refused member", nobody)

	// The facilitator shares: everyone else receives it.
	st = must(t, c, live.Command{Kind: protocol.CmdStartScreenShare, By: "f"})
	if sharer(st) != "f" || !st.ScreenShare.Since.Equal(clk.now()) || st.Change.Kind != protocol.CmdStartScreenShare {
		t.Fatalf("after start: %+v %+v", st.ScreenShare, st.Change)
	}
	step("f shares", "f< c<f m<f t<f o<f")
	// Again: nothing changes. A co-facilitator waits for the first share.
	if st2 := must(t, c, live.Command{Kind: protocol.CmdStartScreenShare, By: "f"}); st2.Version != st.Version {
		t.Error("starting one's own share again made a new version")
	}
	refused(live.Command{Kind: protocol.CmdStartScreenShare, By: "c"}, invalid, "F is sharing their screen")
	must(t, c, live.Command{Kind: protocol.CmdStopScreenShare, By: "f"})
	step("f stopped", nobody)

	// A facilitator allows m; m shares and t, also allowed, waits.
	st = must(t, c, live.Command{Kind: protocol.CmdAllowScreenShare, By: "c", Participant: "m", Allowed: true})
	if p := findState(st, "m"); !p.CanShareScreen || st.Change.Participant != "m" {
		t.Fatalf("allowed member: %+v, change %+v", p, st.Change)
	}
	must(t, c, live.Command{Kind: protocol.CmdAllowScreenShare, By: "f", Participant: "t", Allowed: true})
	must(t, c, live.Command{Kind: protocol.CmdStartScreenShare, By: "m"})
	step("m shares", "f<m c<m m< t<m o<m")
	refused(live.Command{Kind: protocol.CmdStartScreenShare, By: "t"}, invalid, "you can share when they stop")
	refused(live.Command{Kind: protocol.CmdStopScreenShare, By: "t", Participant: "m"}, forbidden, "Only facilitators")
	// A facilitator takes it over only by stopping it first.
	refused(live.Command{Kind: protocol.CmdStartScreenShare, By: "f"}, invalid, "stop their share first")
	st = must(t, c, live.Command{Kind: protocol.CmdStopScreenShare, By: "f", Participant: "m"})
	if sharer(st) != "" || st.Change.By != "f" || st.Change.Participant != "m" {
		t.Fatalf("facilitator stopped m: %+v %+v", st.ScreenShare, st.Change)
	}
	step("f stopped m", nobody)
	// The member's own stop after that changes nothing.
	if v := c.Version(); must(t, c, live.Command{Kind: protocol.CmdStopScreenShare, By: "m"}).Version != v {
		t.Error("stopping an ended share made a new version")
	}

	// Taking the permission back ends the share.
	must(t, c, live.Command{Kind: protocol.CmdStartScreenShare, By: "t"})
	step("t shares", "f<t c<t m<t t< o<t")
	st = must(t, c, live.Command{Kind: protocol.CmdAllowScreenShare, By: "f", Participant: "t", Allowed: false})
	if sharer(st) != "" || findState(st, "t").CanShareScreen {
		t.Fatalf("permission taken back: %+v, %+v", st.ScreenShare, findState(st, "t"))
	}
	step("t no longer allowed", nobody)
	refused(live.Command{Kind: protocol.CmdStartScreenShare, By: "t"}, forbidden, "allow you")

	// The share's track ending ends it; another person's does not.
	must(t, c, live.Command{Kind: protocol.CmdStartScreenShare, By: "m"})
	if c.ScreenTrackEnded("t") || c.ScreenTrackEnded("") {
		t.Error("a screen track of someone not sharing ended the share")
	}
	if !c.ScreenTrackEnded("m") || sharer(c.Snapshot()) != "" || c.Snapshot().Change.Kind != protocol.CmdStopScreenShare {
		t.Fatalf("the sharer's track ended: %+v", c.Snapshot().ScreenShare)
	}
	step("m's track ended", nobody)

	// Leaving ends the share and the permission: back, m asks again.
	must(t, c, live.Command{Kind: protocol.CmdStartScreenShare, By: "m"})
	c.Leave("m")
	if sharer(c.Snapshot()) != "" {
		t.Fatal("the sharer left and the share stayed")
	}
	seatAs(c, "m", "member")
	refused(live.Command{Kind: protocol.CmdStartScreenShare, By: "m"}, forbidden, "allow you")

	// Whom a facilitator may allow.
	refused(live.Command{Kind: protocol.CmdAllowScreenShare, By: "f", Participant: "c", Allowed: true}, invalid, "may always share")
	refused(live.Command{Kind: protocol.CmdAllowScreenShare, By: "f", Participant: "o", Allowed: true}, invalid, "cannot share a screen")
	refused(live.Command{Kind: protocol.CmdAllowScreenShare, By: "f", Participant: "nobody", Allowed: true}, invalid, "not in the session")
	refused(live.Command{Kind: protocol.CmdAllowScreenShare, By: "m", Participant: "t", Allowed: true}, forbidden, "Only facilitators")
	refused(live.Command{Kind: protocol.CmdStartScreenShare, By: "o"}, forbidden, "observer")
}

func findState(st protocol.RoomState, id string) protocol.ParticipantState {
	for _, p := range st.Participants {
		if p.ID == id {
			return p
		}
	}
	return protocol.ParticipantState{}
}
