package live_test

import (
	"errors"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/live"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// TestExtendTimer: a facilitator adds time to the share under way; the
// time left stays within MaxShareSeconds; what cannot be extended is
// refused with ErrInvalid and changes nothing; the next raised hand gets
// the share as it was given, without the extensions.
func TestExtendTimer(t *testing.T) {
	c, clk := group(t, protocol.Policy{})
	refused := func(cmd live.Command) {
		t.Helper()
		before := c.Snapshot()
		if _, err := c.Apply(cmd); !errors.Is(err, room.ErrInvalid) {
			t.Fatalf("%+v: %v, want ErrInvalid", cmd, err)
		}
		if after := c.Snapshot(); after.Version != before.Version {
			t.Fatalf("%+v was refused but changed the state", cmd)
		}
	}
	extend := func(s int) live.Command { return live.Command{Kind: protocol.CmdExtendTimer, By: "f", Seconds: s} }

	refused(extend(60)) // nobody holds the floor
	must(t, c, live.Command{Kind: protocol.CmdGiveFloor, By: "f", Participant: "t"})
	refused(extend(60)) // untimed
	must(t, c, live.Command{Kind: protocol.CmdSetTimer, By: "f", Seconds: 120})
	refused(extend(0))
	refused(extend(-5))
	refused(extend(live.MaxShareSeconds + 1))

	clk.advance(30 * time.Second)
	st := must(t, c, extend(60))
	if tm := st.Floor.Timer; tm == nil || tm.Seconds != 180 || tm.RemainingMs != 150_000 ||
		st.Change == nil || st.Change.Kind != protocol.CmdExtendTimer || st.Change.By != "f" || st.Change.Participant != "t" {
		t.Fatalf("after +1 min: %+v, change %+v", st.Floor.Timer, st.Change)
	}
	if _, err := c.Apply(live.Command{Kind: protocol.CmdExtendTimer, By: "m", Seconds: 60}); !errors.Is(err, room.ErrForbidden) {
		t.Fatalf("a member extends: %v", err)
	}

	// At most MaxShareSeconds left.
	refused(extend(live.MaxShareSeconds - 149))
	st = must(t, c, extend(live.MaxShareSeconds-150))
	if st.Floor.Timer.RemainingMs != live.MaxShareSeconds*1000 {
		t.Fatalf("extended to the bound: %+v", st.Floor.Timer)
	}
	refused(extend(1))
	must(t, c, live.Command{Kind: protocol.CmdSetTimer, By: "f", Seconds: 120})

	// The next hand gets the share as given.
	next := protocol.ReturnToNext
	must(t, c, live.Command{Kind: protocol.CmdSetPolicy, By: "f", Policy: live.PolicyPatch{FloorReturn: &next}})
	must(t, c, live.Command{Kind: protocol.CmdRaiseHand, By: "m"})
	must(t, c, extend(60))
	clk.advance(179 * time.Second)
	if c.Tick(clk.now()) {
		t.Fatal("the extended share ended at its first deadline")
	}
	clk.advance(time.Second)
	if !c.Tick(clk.now()) {
		t.Fatal("the extended share did not end")
	}
	if st := c.Snapshot(); st.Floor.Holder != "m" || st.Floor.Timer == nil || st.Floor.Timer.Seconds != 120 {
		t.Fatalf("next hand after an extended share: %+v", st.Floor)
	}

	// A round's turn is extended too.
	must(t, c, live.Command{Kind: protocol.CmdTakeFloor, By: "f"})
	must(t, c, live.Command{Kind: protocol.CmdStartRound, By: "f", Order: protocol.OrderJoin, Seconds: 60})
	st = must(t, c, extend(120))
	if st.Round.Current != "m" || st.Floor.Timer.RemainingMs != 180_000 {
		t.Fatalf("extended turn: %+v, %+v", st.Round, st.Floor.Timer)
	}
	clk.advance(3 * time.Minute)
	c.Tick(clk.now())
	if st := c.Snapshot(); st.Round.Current != "t" || st.Floor.Timer.Seconds != 60 {
		t.Fatalf("the next turn after an extended one: %+v, %+v", st.Round, st.Floor.Timer)
	}
}

// TestShareEndFinish: with shareEnd "finish" a share whose time is up
// keeps the floor, and the speaker is still heard, until a facilitator
// adds time, takes the floor back or moves the round on; the time shows as
// up (remainingMs 0) and is marked once. Switching to "stop" ends it.
func TestShareEndFinish(t *testing.T) {
	c, clk := group(t, protocol.Policy{})
	if got := c.Snapshot().Policy.ShareEnd; got != room.ShareEndStop {
		t.Fatalf("default shareEnd = %q, want stop", got)
	}
	bad := room.ShareEnd("later")
	if _, err := c.Apply(live.Command{Kind: protocol.CmdSetPolicy, By: "f", Policy: live.PolicyPatch{ShareEnd: &bad}}); !errors.Is(err, room.ErrInvalid) {
		t.Fatalf("shareEnd %q: %v", bad, err)
	}
	finish, stop := room.ShareEndFinish, room.ShareEndStop
	if st := must(t, c, live.Command{Kind: protocol.CmdSetPolicy, By: "f", Policy: live.PolicyPatch{ShareEnd: &finish}}); st.Policy.ShareEnd != finish {
		t.Fatalf("policy = %+v", st.Policy)
	}
	must(t, c, live.Command{Kind: protocol.CmdSetFloorMode, By: "f", Mode: protocol.FloorModerated})
	must(t, c, live.Command{Kind: protocol.CmdMute, By: "f", Participant: "t", Media: protocol.MediaAudio, Muted: true})
	must(t, c, live.Command{Kind: protocol.CmdGiveFloor, By: "f", Participant: "t", Seconds: 60})
	heard := "f<c,t c<f,t m<c,f,t t<c,f o<c,f,t"
	if got := audioMatrix(c); got != heard {
		t.Fatalf("t holds the floor:\n got %s\nwant %s", got, heard)
	}

	clk.advance(time.Minute)
	v := c.Version()
	if !c.Tick(clk.now()) {
		t.Fatal("the time being up was not marked")
	}
	st := c.Snapshot()
	if st.Floor.Holder != "t" || st.Floor.Timer == nil || st.Floor.Timer.RemainingMs != 0 ||
		st.Change.Kind != protocol.ChangeTimerExpiry || st.Change.Participant != "t" || st.Version != v+1 {
		t.Fatalf("time up, let finish: %+v, change %+v", st.Floor, st.Change)
	}
	if got := audioMatrix(c); got != heard {
		t.Fatalf("the speaker was silenced at zero:\n got %s\nwant %s", got, heard)
	}
	clk.advance(5 * time.Minute)
	if c.Tick(clk.now()) || c.Version() != v+1 {
		t.Fatal("the time being up was marked again")
	}

	// More time, counted from now.
	st = must(t, c, live.Command{Kind: protocol.CmdExtendTimer, By: "c", Seconds: 60})
	if st.Floor.Timer.RemainingMs != 60_000 || st.Floor.Timer.Seconds != 120 {
		t.Fatalf("extended after the time was up: %+v", st.Floor.Timer)
	}
	clk.advance(time.Minute)
	if !c.Tick(clk.now()) || c.Snapshot().Floor.Holder != "t" {
		t.Fatal("the extension's end was not marked, or moved the floor")
	}
	st = must(t, c, live.Command{Kind: protocol.CmdTakeFloor, By: "f"})
	if st.Floor.Holder != "" || st.Floor.Timer != nil {
		t.Fatalf("floor taken back: %+v", st.Floor)
	}
	if got, want := audioMatrix(c), "f<c c<f m<c,f t<c,f o<c,f"; got != want {
		t.Fatalf("floor taken back:\n got %s\nwant %s", got, want)
	}

	// A round waits for the facilitator too.
	must(t, c, live.Command{Kind: protocol.CmdStartRound, By: "f", Order: protocol.OrderJoin, Seconds: 60})
	clk.advance(2 * time.Minute)
	c.Tick(clk.now())
	if st := c.Snapshot(); st.Round.Current != "m" || st.Floor.Holder != "m" || st.Floor.Timer.RemainingMs != 0 {
		t.Fatalf("round turn let finish: %+v, %+v", st.Round, st.Floor)
	}
	st = must(t, c, live.Command{Kind: protocol.CmdNextTurn, By: "f"})
	if st.Round.Current != "t" || st.Floor.Timer.RemainingMs != 60_000 {
		t.Fatalf("next turn: %+v, %+v", st.Round, st.Floor.Timer)
	}

	// Back to stop: a share whose time is up ends at the next tick.
	clk.advance(time.Minute)
	c.Tick(clk.now())
	must(t, c, live.Command{Kind: protocol.CmdSetPolicy, By: "f", Policy: live.PolicyPatch{ShareEnd: &stop}})
	if !c.Tick(clk.now()) {
		t.Fatal("switching to stop did not end the share whose time was up")
	}
	if st := c.Snapshot(); st.Round != nil || st.Floor.Holder != "" {
		t.Fatalf("after stop: %+v, %+v", st.Round, st.Floor)
	}
}

// TestShareEndFromRoom: the room's configuration gives a session's first
// policy.
func TestShareEndFromRoom(t *testing.T) {
	c := live.NewControls(live.ControlsConfig{Policy: protocol.Policy{ShareEnd: room.ShareEndFinish}})
	if got := c.Snapshot().Policy.ShareEnd; got != room.ShareEndFinish {
		t.Fatalf("policy shareEnd = %q, want finish", got)
	}
}
