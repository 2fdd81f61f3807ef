package live_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/live"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
	"github.com/hearth-rtc/hearth/sfu"
)

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

// group seats, in this order: facilitator f, co-facilitator c, members m
// and t, observer o.
func group(t *testing.T, pol protocol.Policy) (*live.Controls, *clock) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)}
	c := live.NewControls(live.ControlsConfig{Policy: pol, Now: clk.now,
		// Reverse, so a shuffled round is recognisable.
		Shuffle: func(n int, swap func(i, j int)) {
			for i := 0; i < n/2; i++ {
				swap(i, n-1-i)
			}
		}})
	for _, p := range []struct {
		id   string
		role room.Role
	}{{"f", room.RoleFacilitator}, {"c", room.RoleCoFacilitator}, {"m", room.RoleMember}, {"t", room.RoleMember}, {"o", room.RoleObserver}} {
		seatAs(c, p.id, p.role)
	}
	return c, clk
}

func seatAs(c *live.Controls, id string, role room.Role) {
	c.Seat(room.Participant{ID: id, Identity: "id-" + id, Name: strings.ToUpper(id), Role: role})
}

func must(t *testing.T, c *live.Controls, cmd live.Command) protocol.RoomState {
	t.Helper()
	st, err := c.Apply(cmd)
	if err != nil {
		t.Fatalf("%+v: %v", cmd, err)
	}
	return st
}

type outcome int

const (
	ok outcome = iota
	forbidden
	invalid
)

func (o outcome) String() string { return [...]string{"ok", "forbidden", "invalid"}[o] }

func outcomeOf(err error) outcome {
	switch {
	case err == nil:
		return ok
	case errors.Is(err, room.ErrForbidden):
		return forbidden
	case errors.Is(err, room.ErrInvalid):
		return invalid
	}
	return -1
}

// TestCommandPermissions applies every control command as every role: a
// command the role may not send fails with ErrForbidden and changes nothing.
func TestCommandPermissions(t *testing.T) {
	roundOn := func(c *live.Controls) {
		c.Apply(live.Command{Kind: protocol.CmdStartRound, By: "f", Order: protocol.OrderJoin}) // m first, then t
	}
	floorToT := func(c *live.Controls) { c.Apply(live.Command{Kind: protocol.CmdGiveFloor, By: "f", Participant: "t"}) }
	allMuted := func(c *live.Controls) {
		for _, id := range []string{"f", "c", "m", "t"} {
			c.Apply(live.Command{Kind: protocol.CmdMute, By: "f", Participant: id, Media: protocol.MediaAudio, Muted: true})
		}
	}
	asideFT := func(c *live.Controls) { c.Apply(live.Command{Kind: protocol.CmdStartAside, By: "f", Participant: "t"}) }
	allowM := func(c *live.Controls) {
		c.Apply(live.Command{Kind: protocol.CmdAllowScreenShare, By: "f", Participant: "m", Allowed: true})
	}
	tShares := func(c *live.Controls) {
		c.Apply(live.Command{Kind: protocol.CmdAllowScreenShare, By: "f", Participant: "t", Allowed: true})
		c.Apply(live.Command{Kind: protocol.CmdStartScreenShare, By: "t"})
	}
	yes := true
	moderators := [4]outcome{ok, ok, forbidden, forbidden}
	speakers := [4]outcome{ok, ok, ok, forbidden}
	cases := []struct {
		cmd   live.Command
		setup func(*live.Controls)
		want  [4]outcome // facilitator, co-facilitator, member, observer
		// noop marks roles for which the allowed command changes nothing.
		noop [4]bool
	}{
		{cmd: live.Command{Kind: protocol.CmdMute, Participant: "t", Media: protocol.MediaAudio, Muted: true}, want: moderators},
		{cmd: live.Command{Kind: protocol.CmdMuteAll, Media: protocol.MediaAudio, Muted: true}, want: moderators},
		{cmd: live.Command{Kind: protocol.CmdSetPolicy, Policy: live.PolicyPatch{SelfUnmute: &yes}}, want: moderators},
		{cmd: live.Command{Kind: protocol.CmdRequestUnmute, Media: protocol.MediaAudio}, setup: allMuted, want: speakers},
		{cmd: live.Command{Kind: protocol.CmdCancelUnmuteRequest, Media: protocol.MediaAudio}, setup: func(c *live.Controls) {
			allMuted(c)
			for _, id := range []string{"f", "c", "m"} {
				c.Apply(live.Command{Kind: protocol.CmdRequestUnmute, By: id, Media: protocol.MediaAudio})
			}
			// Facilitators' requests lift their mute at once: nothing to cancel.
		}, want: speakers, noop: [4]bool{true, true, false, false}},
		{cmd: live.Command{Kind: protocol.CmdDeclineUnmute, Participant: "t", Media: protocol.MediaAudio}, setup: func(c *live.Controls) {
			allMuted(c)
			c.Apply(live.Command{Kind: protocol.CmdRequestUnmute, By: "t", Media: protocol.MediaAudio})
		}, want: moderators},
		{cmd: live.Command{Kind: protocol.CmdRaiseHand}, want: speakers},
		{cmd: live.Command{Kind: protocol.CmdLowerHand}, setup: func(c *live.Controls) {
			for _, id := range []string{"f", "c", "m"} {
				c.Apply(live.Command{Kind: protocol.CmdRaiseHand, By: id})
			}
		}, want: speakers},
		{cmd: live.Command{Kind: protocol.CmdLowerHand, Participant: "t"}, setup: func(c *live.Controls) {
			c.Apply(live.Command{Kind: protocol.CmdRaiseHand, By: "t"})
		}, want: moderators},
		{cmd: live.Command{Kind: protocol.CmdGiveFloor, Participant: "t"}, want: moderators},
		{cmd: live.Command{Kind: protocol.CmdTakeFloor}, setup: floorToT, want: moderators},
		{cmd: live.Command{Kind: protocol.CmdSetFloorMode, Mode: protocol.FloorModerated}, want: moderators},
		{cmd: live.Command{Kind: protocol.CmdSetTimer, Seconds: 60}, setup: floorToT, want: moderators},
		{cmd: live.Command{Kind: protocol.CmdExtendTimer, Seconds: 60}, setup: func(c *live.Controls) {
			c.Apply(live.Command{Kind: protocol.CmdGiveFloor, By: "f", Participant: "t", Seconds: 120})
		}, want: moderators},
		{cmd: live.Command{Kind: protocol.CmdStartRound, Order: protocol.OrderJoin}, want: moderators},
		// Only the member whose turn it is (m) may pass or end it.
		{cmd: live.Command{Kind: protocol.CmdPass}, setup: roundOn, want: [4]outcome{invalid, invalid, ok, forbidden}},
		{cmd: live.Command{Kind: protocol.CmdEndTurn}, setup: roundOn, want: [4]outcome{invalid, invalid, ok, forbidden}},
		{cmd: live.Command{Kind: protocol.CmdNextTurn}, setup: roundOn, want: moderators},
		{cmd: live.Command{Kind: protocol.CmdSkip}, setup: roundOn, want: moderators},
		{cmd: live.Command{Kind: protocol.CmdEndRound}, setup: roundOn, want: moderators},
		{cmd: live.Command{Kind: protocol.CmdStartAside, Participant: "t"}, want: moderators},
		// m is not in the aside; the member in it may end it (below).
		{cmd: live.Command{Kind: protocol.CmdEndAside}, setup: asideFT, want: moderators},
		{cmd: live.Command{Kind: protocol.CmdStartSideRoom, Participants: []string{"t"}}, want: moderators},
		// m is not in the side room; the member in it may come back (sideroom_test.go).
		{cmd: live.Command{Kind: protocol.CmdEndSideRoom}, setup: func(c *live.Controls) {
			c.Apply(live.Command{Kind: protocol.CmdStartSideRoom, By: "f", Participants: []string{"t"}})
		}, want: moderators},
		// Only a facilitator hands the role; f, c and the member holding
		// it (t, not m) take it back (peerled_test.go).
		{cmd: live.Command{Kind: protocol.CmdHandFacilitation, Participant: "t"}, want: [4]outcome{ok, forbidden, forbidden, forbidden}},
		{cmd: live.Command{Kind: protocol.CmdTakeBackFacilitation}, setup: func(c *live.Controls) {
			c.Apply(live.Command{Kind: protocol.CmdHandFacilitation, By: "f", Participant: "t"})
		}, want: moderators},
		{cmd: live.Command{Kind: protocol.CmdRemove, Participant: "t"}, want: moderators},
		{cmd: live.Command{Kind: protocol.CmdEndSession}, want: moderators},
		// Facilitators share their screen; a member once allowed.
		{cmd: live.Command{Kind: protocol.CmdStartScreenShare}, want: moderators},
		{cmd: live.Command{Kind: protocol.CmdStartScreenShare}, setup: allowM, want: speakers},
		{cmd: live.Command{Kind: protocol.CmdStopScreenShare}, want: speakers, noop: [4]bool{true, true, true, false}},
		{cmd: live.Command{Kind: protocol.CmdStopScreenShare, Participant: "t"}, setup: tShares, want: moderators},
		{cmd: live.Command{Kind: protocol.CmdAllowScreenShare, Participant: "t", Allowed: true}, want: moderators},
	}
	covered := map[protocol.CommandKind]bool{}
	actors := [4]string{"f", "c", "m", "o"}
	for _, tc := range cases {
		covered[tc.cmd.Kind] = true
		for i, by := range actors {
			c, _ := group(t, protocol.Policy{})
			if tc.setup != nil {
				tc.setup(c)
			}
			before := c.Snapshot()
			cmd := tc.cmd
			cmd.By = by
			st, err := c.Apply(cmd)
			if got := outcomeOf(err); got != tc.want[i] {
				t.Errorf("%s by %s: %v (%v), want %v", cmd.Kind, by, got, err, tc.want[i])
				continue
			}
			if err != nil {
				if after := c.Snapshot(); !reflect.DeepEqual(before, after) {
					t.Errorf("%s by %s failed but changed the state:\n%+v\n%+v", cmd.Kind, by, before, after)
				}
				continue
			}
			if tc.noop[i] {
				if st.Version != before.Version {
					t.Errorf("%s by %s: version %d -> %d, want no change", cmd.Kind, by, before.Version, st.Version)
				}
				continue
			}
			if st.Version <= before.Version {
				t.Errorf("%s by %s: version %d -> %d, want an increase", cmd.Kind, by, before.Version, st.Version)
			}
		}
	}
	for _, k := range protocol.CommandKinds() {
		if !covered[k] {
			t.Errorf("command %s not in the table", k)
		}
	}
	// A sender that is not seated may do nothing.
	c, _ := group(t, protocol.Policy{})
	if _, err := c.Apply(live.Command{Kind: protocol.CmdRaiseHand, By: "ghost"}); !errors.Is(err, room.ErrForbidden) {
		t.Errorf("unseated sender: %v", err)
	}
}

func TestTargetRules(t *testing.T) {
	c, _ := group(t, protocol.Policy{})
	v := c.Version()
	for _, tc := range []struct {
		cmd  live.Command
		want outcome
	}{
		// A co-facilitator may not mute or remove the facilitator.
		{live.Command{Kind: protocol.CmdMute, By: "c", Participant: "f", Media: protocol.MediaAudio, Muted: true}, forbidden},
		{live.Command{Kind: protocol.CmdRemove, By: "c", Participant: "f"}, forbidden},
		{live.Command{Kind: protocol.CmdMute, By: "f", Participant: "o", Media: protocol.MediaAudio, Muted: true}, invalid},
		{live.Command{Kind: protocol.CmdMute, By: "f", Participant: "nobody", Media: protocol.MediaAudio, Muted: true}, invalid},
		{live.Command{Kind: protocol.CmdMute, By: "f", Participant: "t", Media: "smell", Muted: true}, invalid},
		{live.Command{Kind: protocol.CmdGiveFloor, By: "f", Participant: "o"}, invalid},
		{live.Command{Kind: protocol.CmdGiveFloor, By: "f"}, invalid}, // no hand raised
		{live.Command{Kind: protocol.CmdGiveFloor, By: "f", Participant: "t", Seconds: -1}, invalid},
		{live.Command{Kind: protocol.CmdStartAside, By: "f", Participant: "f"}, invalid},
		{live.Command{Kind: protocol.CmdStartAside, By: "f", Participant: "o"}, invalid},
		{live.Command{Kind: protocol.CmdSetFloorMode, By: "f", Mode: "loud"}, invalid},
		{live.Command{Kind: protocol.CmdStartRound, By: "f", Order: "alphabetical"}, invalid},
		{live.Command{Kind: protocol.CmdSetTimer, By: "f", Seconds: 30}, invalid}, // nobody holds the floor
		{live.Command{Kind: protocol.CmdRemove, By: "f", Participant: "f"}, invalid},
		{live.Command{Kind: "fly", By: "f"}, invalid},
	} {
		_, err := c.Apply(tc.cmd)
		if got := outcomeOf(err); got != tc.want {
			t.Errorf("%+v: %v (%v), want %v", tc.cmd, got, err, tc.want)
		}
	}
	if c.Version() != v {
		t.Fatal("refused commands changed the version")
	}
	must(t, c, live.Command{Kind: protocol.CmdStartAside, By: "f", Participant: "t"})
	must(t, c, live.Command{Kind: protocol.CmdEndAside, By: "t"}) // the member may leave the aside
	must(t, c, live.Command{Kind: protocol.CmdEndSession, By: "f"})
	if _, err := c.Apply(live.Command{Kind: protocol.CmdRaiseHand, By: "m"}); !errors.Is(err, room.ErrInvalid) || !c.Ended() {
		t.Fatalf("command after end_session: %v", err)
	}
}

// hears lists whose media of kind sub receives, sorted.
func hears(c *live.Controls, sub string, kind protocol.MediaKind) string {
	var out []string
	g := c.Gate()
	for _, p := range c.Snapshot().Participants {
		if g.Allows(p.ID, sub, sfu.Kind(kind)) {
			out = append(out, p.ID)
		}
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

// audioMatrix is, for each of f c m t o, whose audio it receives.
func audioMatrix(c *live.Controls) string {
	var rows []string
	for _, sub := range []string{"f", "c", "m", "t", "o"} {
		rows = append(rows, sub+"<"+hears(c, sub, protocol.MediaAudio))
	}
	return strings.Join(rows, " ")
}

func TestMediaRules(t *testing.T) {
	c, _ := group(t, protocol.Policy{})
	step := func(name, want string) {
		t.Helper()
		if got := audioMatrix(c); got != want {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
	step("open floor", "f<c,m,o,t c<f,m,o,t m<c,f,o,t t<c,f,m,o o<c,f,m,t")

	must(t, c, live.Command{Kind: protocol.CmdMute, By: "f", Participant: "m", Media: protocol.MediaAudio, Muted: true})
	step("m muted", "f<c,o,t c<f,o,t m<c,f,o,t t<c,f,o o<c,f,t")
	if hears(c, "t", protocol.MediaVideo) != "c,f,m,o" {
		t.Errorf("an audio mute stopped video: %s", hears(c, "t", protocol.MediaVideo))
	}
	must(t, c, live.Command{Kind: protocol.CmdMute, By: "f", Participant: "m", Media: protocol.MediaVideo, Muted: true})
	if hears(c, "t", protocol.MediaVideo) != "c,f,o" {
		t.Errorf("video mute: t sees %s", hears(c, "t", protocol.MediaVideo))
	}

	// The floor lets a muted member speak while held.
	must(t, c, live.Command{Kind: protocol.CmdGiveFloor, By: "f", Participant: "m"})
	step("m holds the floor", "f<c,m,o,t c<f,m,o,t m<c,f,o,t t<c,f,m,o o<c,f,m,t")
	must(t, c, live.Command{Kind: protocol.CmdTakeFloor, By: "c"})
	step("floor taken back", "f<c,o,t c<f,o,t m<c,f,o,t t<c,f,o o<c,f,t")
	must(t, c, live.Command{Kind: protocol.CmdMute, By: "f", Participant: "m", Media: protocol.MediaAudio, Muted: false})

	must(t, c, live.Command{Kind: protocol.CmdSetFloorMode, By: "f", Mode: protocol.FloorModerated})
	step("moderated, nobody holds", "f<c c<f m<c,f t<c,f o<c,f")
	if hears(c, "t", protocol.MediaVideo) != "c,f,o" {
		t.Errorf("moderated mode changed video: %s", hears(c, "t", protocol.MediaVideo))
	}
	must(t, c, live.Command{Kind: protocol.CmdGiveFloor, By: "f", Participant: "t"})
	step("moderated, t holds", "f<c,t c<f,t m<c,f,t t<c,f o<c,f,t")

	// The aside: f and m hear only each other's audio; they still hear t
	// (holding the floor) and c; the others no longer hear f or m.
	must(t, c, live.Command{Kind: protocol.CmdStartAside, By: "f", Participant: "m"})
	step("aside f+m", "f<c,m,t c<t m<c,f,t t<c o<c,t")
	c.SetSelfMute("m", protocol.MediaAudio, true)
	step("aside, m self-muted", "f<c,t c<t m<c,f,t t<c o<c,t")
	c.SetSelfMute("m", protocol.MediaAudio, false)
	must(t, c, live.Command{Kind: protocol.CmdEndAside, By: "f"})
	step("aside over", "f<c,t c<f,t m<c,f,t t<c,f o<c,f,t")

	must(t, c, live.Command{Kind: protocol.CmdSetFloorMode, By: "f", Mode: protocol.FloorOpen})
	c.SetSelfMute("t", protocol.MediaAudio, true)
	step("t self-muted", "f<c,m,o c<f,m,o m<c,f,o t<c,f,m,o o<c,f,m")
	st := c.Snapshot()
	for _, p := range st.Participants {
		if want := p.ID != "t" && p.ID != "o"; p.Audible != want {
			t.Errorf("%s audible = %v", p.ID, p.Audible)
		}
	}
	c.Leave("f")
	if hears(c, "f", protocol.MediaAudio) != "" || strings.Contains(hears(c, "c", protocol.MediaAudio), "f") {
		t.Error("a participant who left still sends or receives")
	}
	g := c.Gate()
	for _, k := range []sfu.Kind{sfu.KindAudio, sfu.KindVideo} {
		if g.Allows("f", "c", k) || g.Allows("c", "f", k) {
			t.Errorf("the gate still forwards %s to or from a participant who left", k)
		}
	}
}

func TestJoinMutedAndSelfUnmute(t *testing.T) {
	c, _ := group(t, protocol.Policy{JoinMuted: true})
	for _, p := range c.Snapshot().Participants {
		if want := p.Role == room.RoleMember; p.Muted.Audio != want {
			t.Errorf("%s (%s) joined muted=%v", p.ID, p.Role, p.Muted.Audio)
		}
	}
	// Without self-unmute, asking records a request; a facilitator allows it.
	st := must(t, c, live.Command{Kind: protocol.CmdRequestUnmute, By: "m", Media: protocol.MediaAudio})
	if p := find(st, "m"); !p.Muted.Audio || !p.UnmuteRequested.Audio {
		t.Fatalf("after asking: %+v", p)
	}
	st = must(t, c, live.Command{Kind: protocol.CmdMute, By: "c", Participant: "m", Media: protocol.MediaAudio, Muted: false})
	if p := find(st, "m"); p.Muted.Audio || p.UnmuteRequested.Audio || !p.Audible {
		t.Fatalf("after allowing: %+v", p)
	}
	// Declining clears the request and leaves the mute.
	must(t, c, live.Command{Kind: protocol.CmdRequestUnmute, By: "t", Media: protocol.MediaAudio})
	st = must(t, c, live.Command{Kind: protocol.CmdDeclineUnmute, By: "f", Participant: "t", Media: protocol.MediaAudio})
	if p := find(st, "t"); !p.Muted.Audio || p.UnmuteRequested.Audio {
		t.Fatalf("after declining: %+v", p)
	}
	// With self-unmute, asking lifts the mute at once.
	yes := true
	must(t, c, live.Command{Kind: protocol.CmdSetPolicy, By: "f", Policy: live.PolicyPatch{SelfUnmute: &yes}})
	st = must(t, c, live.Command{Kind: protocol.CmdRequestUnmute, By: "t", Media: protocol.MediaAudio})
	if p := find(st, "t"); p.Muted.Audio {
		t.Fatalf("self-unmute did not lift the mute: %+v", p)
	}

	// An enforced mute survives leaving and rejoining (same identity).
	must(t, c, live.Command{Kind: protocol.CmdMuteAll, By: "f", Media: protocol.MediaAudio, Muted: true})
	c.Leave("t")
	c.Seat(room.Participant{ID: "t2", Identity: "id-t", Name: "T", Role: room.RoleMember})
	if p := find(c.Snapshot(), "t2"); !p.Muted.Audio {
		t.Fatal("rejoining escaped the mute")
	}
	if p := find(c.Snapshot(), "f"); p.Muted.Audio {
		t.Fatal("mute_all muted a facilitator")
	}
}

func find(st protocol.RoomState, id string) protocol.ParticipantState {
	for _, p := range st.Participants {
		if p.ID == id {
			return p
		}
	}
	return protocol.ParticipantState{}
}

func TestHandsAndTimedShare(t *testing.T) {
	c, clk := group(t, protocol.Policy{})
	for _, id := range []string{"t", "m", "c", "t"} {
		clk.advance(time.Second)
		must(t, c, live.Command{Kind: protocol.CmdRaiseHand, By: id})
	}
	hands := func() string {
		var ids []string
		for _, h := range c.Snapshot().Hands {
			ids = append(ids, h.Participant)
		}
		return strings.Join(ids, ",")
	}
	if got := hands(); got != "t,m,c" {
		t.Fatalf("queue = %s, want first come first served", got)
	}
	st := must(t, c, live.Command{Kind: protocol.CmdGiveFloor, By: "f", Seconds: 120})
	if st.Floor.Holder != "t" || hands() != "m,c" || st.Floor.Timer == nil || st.Floor.Timer.RemainingMs != 120000 ||
		st.Change == nil || st.Change.Participant != "t" {
		t.Fatalf("give to next: %+v, hands %s", st.Floor, hands())
	}
	clk.advance(119 * time.Second)
	if c.Tick(clk.now()) || c.Snapshot().Floor.Timer.RemainingMs != 1000 {
		t.Fatal("expired early")
	}
	clk.advance(time.Second)
	if !c.Tick(clk.now()) {
		t.Fatal("did not expire")
	}
	if st := c.Snapshot(); st.Floor.Holder != "" || st.Floor.Timer != nil || st.Change.Kind != protocol.ChangeTimerExpiry {
		t.Fatalf("after expiry (to facilitator): %+v", st.Floor)
	}

	next := protocol.ReturnToNext
	must(t, c, live.Command{Kind: protocol.CmdSetPolicy, By: "f", Policy: live.PolicyPatch{FloorReturn: &next}})
	must(t, c, live.Command{Kind: protocol.CmdGiveFloor, By: "f", Participant: "t", Seconds: 60})
	clk.advance(time.Minute)
	c.Tick(clk.now())
	if st := c.Snapshot(); st.Floor.Holder != "m" || st.Floor.Timer == nil || st.Floor.Timer.Seconds != 60 || hands() != "c" {
		t.Fatalf("after expiry (to next): %+v, hands %s", st.Floor, hands())
	}
	must(t, c, live.Command{Kind: protocol.CmdSetTimer, By: "f", Seconds: 0})
	clk.advance(time.Hour)
	if c.Tick(clk.now()) || c.Snapshot().Floor.Holder != "m" {
		t.Fatal("a cancelled timer expired")
	}
	must(t, c, live.Command{Kind: protocol.CmdLowerHand, By: "c"})
	if hands() != "" {
		t.Fatal("hand not lowered")
	}
	c.Leave("m")
	if c.Snapshot().Floor.Holder != "" {
		t.Fatal("the floor stayed with someone who left")
	}
}

func TestRounds(t *testing.T) {
	c, clk := group(t, protocol.Policy{})
	seatAs(c, "a", room.RoleMember)
	round := func() string {
		r := c.Snapshot().Round
		if r == nil {
			return "none"
		}
		var s []string
		for _, tu := range r.Turns {
			s = append(s, tu.Participant+":"+string(tu.Status))
		}
		return r.Current + ">" + r.Next + " " + strings.Join(s, ",")
	}
	check := func(want string) {
		t.Helper()
		if got := round(); got != want {
			t.Fatalf("round:\n got %s\nwant %s", got, want)
		}
		if r := c.Snapshot().Round; r != nil && c.Snapshot().Floor.Holder != r.Current {
			t.Fatalf("floor holder %s is not the current turn %s", c.Snapshot().Floor.Holder, r.Current)
		}
	}
	must(t, c, live.Command{Kind: protocol.CmdStartRound, By: "f", Order: protocol.OrderJoin, Seconds: 90})
	check("m>t m:speaking,t:pending,a:pending")
	if h := hears(c, "f", protocol.MediaAudio); h != "c,m" {
		t.Fatalf("during m's turn f hears %s", h)
	}
	must(t, c, live.Command{Kind: protocol.CmdPass, By: "m"})
	check("t>a m:passed,t:speaking,a:pending")
	seatAs(c, "late", room.RoleMember) // joins the end
	check("t>a m:passed,t:speaking,a:pending,late:pending")
	clk.advance(90 * time.Second)
	c.Tick(clk.now()) // the timed turn ends
	check("a>late m:passed,t:spoke,a:speaking,late:pending")
	must(t, c, live.Command{Kind: protocol.CmdSkip, By: "c", Participant: "late"})
	check("a> m:passed,t:spoke,a:speaking,late:skipped")
	must(t, c, live.Command{Kind: protocol.CmdEndTurn, By: "a"})
	check("none")
	if st := c.Snapshot(); st.Floor.Holder != "" || st.Floor.Timer != nil {
		t.Fatalf("floor after the round: %+v", st.Floor)
	}

	// Roster order, guests after; a leaver's turn passes on.
	must(t, c, live.Command{Kind: protocol.CmdStartRound, By: "f", Order: protocol.OrderRoster,
		Roster: []string{"id-t", "id-f", "id-a", "id-m"}})
	check("t>a t:speaking,a:pending,m:pending,late:pending")
	c.Leave("t")
	check("a>m t:left,a:speaking,m:pending,late:pending")
	must(t, c, live.Command{Kind: protocol.CmdNextTurn, By: "f"})
	check("m>late t:left,a:spoke,m:speaking,late:pending")
	must(t, c, live.Command{Kind: protocol.CmdEndRound, By: "f"})
	check("none")

	must(t, c, live.Command{Kind: protocol.CmdStartRound, By: "f", Order: protocol.OrderShuffle})
	check("late>a late:speaking,a:pending,m:pending") // the test shuffle reverses join order
	if _, err := c.Apply(live.Command{Kind: protocol.CmdGiveFloor, By: "f", Participant: "m"}); !errors.Is(err, room.ErrInvalid) {
		t.Fatalf("give_floor during a round: %v", err)
	}
}

// TestRoundPendingLeaver: a member who leaves before their turn is marked
// left and never gets the floor; the round ends after the last one present.
func TestRoundPendingLeaver(t *testing.T) {
	c, _ := group(t, protocol.Policy{})
	must(t, c, live.Command{Kind: protocol.CmdStartRound, By: "f", Order: protocol.OrderJoin})
	c.Leave("t")
	want := []protocol.Turn{{Participant: "m", Status: protocol.TurnSpeaking}, {Participant: "t", Status: protocol.TurnLeft}}
	if r := c.Snapshot().Round; r == nil || !reflect.DeepEqual(r.Turns, want) || r.Next != "" {
		t.Fatalf("round after a pending member left: %+v", r)
	}
	must(t, c, live.Command{Kind: protocol.CmdEndTurn, By: "m"})
	if st := c.Snapshot(); st.Round != nil || st.Floor.Holder != "" {
		t.Fatalf("the round went on without anyone to speak: %+v %+v", st.Round, st.Floor)
	}
}

func TestTalkTime(t *testing.T) {
	c, _ := group(t, protocol.Policy{})
	const iv = 250 * time.Millisecond
	speech := func(id string, loud uint64) live.AudioSample {
		return live.AudioSample{Participant: id, Packets: 12, Voiced: 12, Loudness: loud}
	}
	if a := c.ObserveAudio(iv, []live.AudioSample{speech("m", 1000), {Participant: "t", Packets: 12, Voiced: 1, Loudness: 100}}); a != "m" {
		t.Fatalf("active = %q, want m", a)
	}
	// t gets louder; m keeps talking: t takes over after two intervals.
	if a := c.ObserveAudio(iv, []live.AudioSample{speech("m", 500), speech("t", 900)}); a != "m" {
		t.Fatalf("switched too fast to %q", a)
	}
	if a := c.ObserveAudio(iv, []live.AudioSample{speech("m", 500), speech("t", 900)}); a != "t" {
		t.Fatalf("active = %q, want t", a)
	}
	// A muted member's speech is not heard, so it neither counts nor shows.
	must(t, c, live.Command{Kind: protocol.CmdMute, By: "f", Participant: "c", Media: protocol.MediaAudio, Muted: true})
	for range 10 {
		c.ObserveAudio(iv, []live.AudioSample{speech("c", 5000)})
	}
	if a := c.ActiveSpeaker(); a != "" {
		t.Fatalf("active after silence = %q", a)
	}
	got := map[string]int64{}
	var order []string
	for _, tt := range c.TalkTime() {
		got[tt.Participant] = tt.SpeakingMs
		order = append(order, tt.Participant)
	}
	if got["m"] != 750 || got["t"] != 500 || got["c"] != 0 || got["f"] != 0 {
		t.Fatalf("talk time = %v", got)
	}
	if _, listed := got["o"]; listed || order[len(order)-1] != "m" {
		t.Fatalf("talk time order %v: want least heard first, observers left out", order)
	}
	// Talk time follows the identity across a rejoin.
	c.Leave("m")
	c.Seat(room.Participant{ID: "m2", Identity: "id-m", Name: "M", Role: room.RoleMember})
	for _, tt := range c.TalkTime() {
		if tt.Participant == "m2" && tt.SpeakingMs != 750 {
			t.Fatalf("after rejoin: %+v", tt)
		}
	}
}
