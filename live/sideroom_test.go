package live_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/live"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
	"github.com/hearth-rtc/hearth/sfu"
)

// matrix is, for each of f c m t o, whose media of kind it receives.
func matrix(c *live.Controls, kind protocol.MediaKind) string {
	var rows []string
	for _, sub := range []string{"f", "c", "m", "t", "o"} {
		rows = append(rows, sub+"<"+hears(c, sub, kind))
	}
	return strings.Join(rows, " ")
}

func sideRoom(by string, ids ...string) live.Command {
	return live.Command{Kind: protocol.CmdStartSideRoom, By: by, Participants: ids}
}

func TestSideRoomMedia(t *testing.T) {
	c, _ := group(t, protocol.Policy{})
	step := func(name, audio, video string) {
		t.Helper()
		if got := matrix(c, protocol.MediaAudio); got != audio {
			t.Errorf("%s, audio:\n got %s\nwant %s", name, got, audio)
		}
		if got := matrix(c, protocol.MediaVideo); got != video {
			t.Errorf("%s, video:\n got %s\nwant %s", name, got, video)
		}
	}
	all := "f<c,m,o,t c<f,m,o,t m<c,f,o,t t<c,f,m,o o<c,f,m,t"
	step("the whole group", all, all)

	// The co-facilitator takes m to the side room: c and m hear and see
	// only each other; f, t and o only each other.
	st := must(t, c, sideRoom("c", "m"))
	if st.SideRoom == nil || st.SideRoom.Host != "c" || !slices.Equal(st.SideRoom.Participants, []string{"m"}) {
		t.Fatalf("side room in the state: %+v", st.SideRoom)
	}
	if find(st, "m").Audible || find(st, "c").Audible || !find(st, "t").Audible {
		t.Errorf("audible: the group hears nobody in the side room, and still hears t: %+v", st.Participants)
	}
	apart := "f<o,t c<m m<c t<f,o o<f,t"
	step("c and m in the side room", apart, apart)

	// An enforced audio mute does not silence m in the side room; an
	// enforced video mute still hides m's video; its own mutes hold.
	must(t, c, live.Command{Kind: protocol.CmdMute, By: "f", Participant: "m", Media: protocol.MediaAudio, Muted: true})
	step("m muted by f", apart, apart)
	must(t, c, live.Command{Kind: protocol.CmdMute, By: "f", Participant: "m", Media: protocol.MediaVideo, Muted: true})
	step("m's video stopped by f", apart, "f<o,t c< m<c t<f,o o<f,t")
	c.SetSelfMute("c", protocol.MediaAudio, true)
	step("c self-muted", "f<o,t c<m m< t<f,o o<f,t", "f<o,t c< m<c t<f,o o<f,t")
	c.SetSelfMute("c", protocol.MediaAudio, false)

	// The group's rules go on applying to the group: moderated, only f
	// (a facilitator) and the holder t are heard there.
	must(t, c, live.Command{Kind: protocol.CmdSetFloorMode, By: "f", Mode: protocol.FloorModerated})
	must(t, c, live.Command{Kind: protocol.CmdGiveFloor, By: "f", Participant: "t"})
	step("group moderated, t holds", "f<t c<m m<c t<f o<f,t", "f<o,t c< m<c t<f,o o<f,t")

	// Bringing m back returns m to the group's rules: muted, and the
	// group sees and hears c again.
	st = must(t, c, live.Command{Kind: protocol.CmdEndSideRoom, By: "f"})
	if st.SideRoom != nil {
		t.Fatalf("side room after end_side_room: %+v", st.SideRoom)
	}
	step("back", "f<c,t c<f,t m<c,f,t t<c,f o<c,f,t", "f<c,o,t c<f,o,t m<c,f,o,t t<c,f,o o<c,f,t")
}

// TestSideRoomGateEveryCombination: whatever the floor, the mutes and the
// members taken, media never crosses between the side room and the group;
// inside the side room only own mutes (and an enforced video mute) hold;
// and between the people of the group the gate is what it would be had
// nobody been taken.
func TestSideRoomGateEveryCombination(t *testing.T) {
	sides := [][]string{{"c", "m"}, {"f", "m"}, {"c", "m", "t"}, {"f", "t"}}
	type combo struct {
		moderated                          bool
		selfA, selfV, enforcedA, enforcedV bool // m's
		tMuted                             bool // t's audio, by f
		side                               []string
	}
	var combos []combo
	for bits := range 1 << 6 {
		for _, side := range sides {
			b := func(i int) bool { return bits&(1<<i) != 0 }
			combos = append(combos, combo{b(0), b(1), b(2), b(3), b(4), b(5), side})
		}
	}
	build := func(x combo, withSide bool) *live.Controls {
		c, _ := group(t, protocol.Policy{})
		if x.moderated {
			must(t, c, live.Command{Kind: protocol.CmdSetFloorMode, By: "f", Mode: protocol.FloorModerated})
		}
		c.SetSelfMute("m", protocol.MediaAudio, x.selfA)
		c.SetSelfMute("m", protocol.MediaVideo, x.selfV)
		for _, m := range []struct {
			who   string
			kind  protocol.MediaKind
			muted bool
		}{{"m", protocol.MediaAudio, x.enforcedA}, {"m", protocol.MediaVideo, x.enforcedV}, {"t", protocol.MediaAudio, x.tMuted}} {
			if m.muted {
				must(t, c, live.Command{Kind: protocol.CmdMute, By: "f", Participant: m.who, Media: m.kind, Muted: true})
			}
		}
		if withSide {
			must(t, c, sideRoom(x.side[0], x.side[1:]...))
		}
		return c
	}
	ids := []string{"f", "c", "m", "t", "o"}
	for _, x := range combos {
		name := fmt.Sprintf("%+v", x)
		c, twin := build(x, true), build(x, false).Gate()
		g := c.Gate()
		in := func(id string) bool { return slices.Contains(x.side, id) }
		for _, pub := range ids {
			for _, sub := range ids {
				if pub == sub {
					continue
				}
				for _, k := range []protocol.MediaKind{protocol.MediaAudio, protocol.MediaVideo} {
					got := g.Allows(pub, sub, sfu.Kind(k))
					var want bool
					switch {
					case in(pub) != in(sub):
						want = false
					case in(pub) && k == protocol.MediaAudio:
						want = pub != "m" || !x.selfA
					case in(pub):
						want = pub != "m" || (!x.selfV && !x.enforcedV)
					default:
						want = twin.Allows(pub, sub, sfu.Kind(k))
					}
					if got != want {
						t.Errorf("%s: %s -> %s %s = %v, want %v", name, pub, sub, k, got, want)
					}
				}
			}
		}
	}
}

func TestSideRoomTurnTaking(t *testing.T) {
	// A round skips those taken to the side room: the speaker's turn moves
	// on, a later turn never comes.
	c, _ := group(t, protocol.Policy{})
	seatAs(c, "u", room.RoleMember)
	must(t, c, live.Command{Kind: protocol.CmdStartRound, By: "f", Order: protocol.OrderJoin}) // m, t, u
	must(t, c, sideRoom("c", "m", "u"))
	st := c.Snapshot()
	if st.Round == nil || st.Round.Current != "t" || st.Floor.Holder != "t" {
		t.Fatalf("round after m (speaking) and u (pending) left for the side room: %+v", st.Round)
	}
	for _, turn := range st.Round.Turns {
		if (turn.Participant == "m" || turn.Participant == "u") && turn.Status != protocol.TurnSkipped {
			t.Errorf("turn %+v, want skipped", turn)
		}
	}
	must(t, c, live.Command{Kind: protocol.CmdNextTurn, By: "f"})
	if st := c.Snapshot(); st.Round != nil {
		t.Fatalf("the round went on to someone in the side room: %+v", st.Round)
	}
	// A round started meanwhile leaves them out.
	st = must(t, c, live.Command{Kind: protocol.CmdStartRound, By: "f", Order: protocol.OrderJoin})
	if len(st.Round.Turns) != 1 || st.Round.Current != "t" {
		t.Fatalf("round with m and u in the side room: %+v", st.Round)
	}
	must(t, c, live.Command{Kind: protocol.CmdEndRound, By: "f"})

	// Their hands come down, they cannot raise them there, and the floor
	// cannot be given to them; a floor they held returns.
	c, _ = group(t, protocol.Policy{})
	must(t, c, live.Command{Kind: protocol.CmdRaiseHand, By: "m"})
	must(t, c, live.Command{Kind: protocol.CmdGiveFloor, By: "f", Participant: "t"})
	st = must(t, c, sideRoom("f", "m", "t"))
	if len(st.Hands) != 0 || st.Floor.Holder != "" {
		t.Fatalf("hands %v, holder %q after going to the side room", st.Hands, st.Floor.Holder)
	}
	for _, cmd := range []live.Command{
		{Kind: protocol.CmdRaiseHand, By: "m"},
		{Kind: protocol.CmdGiveFloor, By: "c", Participant: "t"},
		{Kind: protocol.CmdStartAside, By: "c", Participant: "m"}, // already apart
		{Kind: protocol.CmdStartAside, By: "f", Participant: "o"},
	} {
		if _, err := c.Apply(cmd); !errors.Is(err, room.ErrInvalid) {
			t.Errorf("%+v: %v, want invalid", cmd, err)
		}
	}
}

func TestSideRoomAndAside(t *testing.T) {
	// Taking someone in an aside to the side room ends the aside: the
	// side room is more private still. An aside elsewhere goes on.
	c, _ := group(t, protocol.Policy{})
	must(t, c, live.Command{Kind: protocol.CmdStartAside, By: "f", Participant: "m"})
	st := must(t, c, sideRoom("c", "m"))
	if st.Aside != nil {
		t.Fatalf("aside with m after m went to the side room: %+v", st.Aside)
	}
	must(t, c, live.Command{Kind: protocol.CmdStartAside, By: "f", Participant: "t"})
	if matrix(c, protocol.MediaAudio) != "f<o,t c<m m<c t<f,o o<" {
		t.Errorf("aside beside a side room: %s", matrix(c, protocol.MediaAudio))
	}
	if st := c.Snapshot(); st.Aside == nil || st.SideRoom == nil {
		t.Fatalf("both should run: %+v %+v", st.Aside, st.SideRoom)
	}
	// The host of an aside taken to a side room ends it too.
	must(t, c, live.Command{Kind: protocol.CmdEndSideRoom, By: "c"})
	st = must(t, c, sideRoom("f", "m"))
	if st.Aside != nil {
		t.Fatalf("aside hosted by f after f went to the side room: %+v", st.Aside)
	}
}

func TestSideRoomCommands(t *testing.T) {
	moderators := [4]outcome{ok, ok, forbidden, forbidden}
	actors := [4]string{"f", "c", "m", "o"}
	for _, tc := range []struct {
		name  string
		setup func(*live.Controls)
		cmd   live.Command
		want  [4]outcome
	}{
		{"start", nil, live.Command{Kind: protocol.CmdStartSideRoom, Participants: []string{"t"}}, moderators},
		{"end all", func(c *live.Controls) { must(t, c, sideRoom("f", "t")) },
			live.Command{Kind: protocol.CmdEndSideRoom}, moderators},
		// The member in the side room may come back alone, not bring
		// anyone else back; m is not in it.
		{"bring t back", func(c *live.Controls) { must(t, c, sideRoom("f", "m", "t")) },
			live.Command{Kind: protocol.CmdEndSideRoom, Participant: "t"}, moderators},
		{"come back", func(c *live.Controls) { must(t, c, sideRoom("f", "m", "t")) },
			live.Command{Kind: protocol.CmdEndSideRoom}, [4]outcome{ok, ok, ok, forbidden}},
	} {
		for i, by := range actors {
			c, _ := group(t, protocol.Policy{})
			if tc.setup != nil {
				tc.setup(c)
			}
			cmd := tc.cmd
			cmd.By = by
			_, err := c.Apply(cmd)
			if got := outcomeOf(err); got != tc.want[i] {
				t.Errorf("%s by %s: %v (%v), want %v", tc.name, by, got, err, tc.want[i])
			}
		}
	}

	c, _ := group(t, protocol.Policy{})
	seatAs(c, "u", room.RoleMember)
	seatAs(c, "v", room.RoleMember)
	seatAs(c, "w", room.RoleMember)
	v := c.Version()
	for _, cmd := range []live.Command{
		sideRoom("c"),                            // nobody named
		sideRoom("c", "o"),                       // an observer
		sideRoom("c", "nobody"),                  // not seated
		sideRoom("c", "c"),                       // oneself
		sideRoom("c", "m", "t", "u", "v", "w"),   // too many
		{Kind: protocol.CmdEndSideRoom, By: "c"}, // none in use
	} {
		if _, err := c.Apply(cmd); !errors.Is(err, room.ErrInvalid) {
			t.Errorf("%+v: %v, want invalid", cmd, err)
		}
	}
	if c.Version() != v {
		t.Fatal("refused commands changed the version")
	}
	must(t, c, sideRoom("c", "m"))
	if _, err := c.Apply(sideRoom("f", "t")); !errors.Is(err, room.ErrInvalid) {
		t.Errorf("a second host: %v, want invalid", err)
	}
	// The host adds people; naming one already there changes nothing.
	st := must(t, c, sideRoom("c", "t", "m"))
	if !slices.Equal(st.SideRoom.Participants, []string{"m", "t"}) {
		t.Fatalf("after adding t: %+v", st.SideRoom)
	}
	if st2 := must(t, c, sideRoom("c", "m")); st2.Version != st.Version {
		t.Error("taking m again made a new version")
	}
	if _, err := c.Apply(live.Command{Kind: protocol.CmdEndSideRoom, By: "f", Participant: "u"}); !errors.Is(err, room.ErrInvalid) {
		t.Errorf("bringing back someone not there: %v", err)
	}
	// Bringing back one at a time; the last one ends it.
	st = must(t, c, live.Command{Kind: protocol.CmdEndSideRoom, By: "f", Participant: "m"})
	if st.SideRoom == nil || !slices.Equal(st.SideRoom.Participants, []string{"t"}) {
		t.Fatalf("after m came back: %+v", st.SideRoom)
	}
	if ch := st.Change; ch == nil || ch.Kind != protocol.CmdEndSideRoom || ch.Participant != "m" || ch.By != "f" {
		t.Errorf("change: %+v", st.Change)
	}
	st = must(t, c, live.Command{Kind: protocol.CmdEndSideRoom, By: "t"})
	if st.SideRoom != nil || st.Change.Participant != "t" {
		t.Fatalf("after the last came back alone: %+v %+v", st.SideRoom, st.Change)
	}

	// Leaving: a member who leaves is out of it; when the host leaves, or
	// the last member, it ends and the rest are back in the group.
	must(t, c, sideRoom("c", "m", "t"))
	c.Leave("m")
	if st := c.Snapshot(); st.SideRoom == nil || !slices.Equal(st.SideRoom.Participants, []string{"t"}) {
		t.Fatalf("after m left: %+v", st.SideRoom)
	}
	c.Leave("t")
	if st := c.Snapshot(); st.SideRoom != nil {
		t.Fatalf("after the last member left: %+v", st.SideRoom)
	}
	must(t, c, sideRoom("c", "u"))
	c.Leave("c")
	if st := c.Snapshot(); st.SideRoom != nil {
		t.Fatalf("after the host left: %+v", st.SideRoom)
	}
	if hears(c, "f", protocol.MediaAudio) != "o,u,v,w" {
		t.Errorf("u is not back with the group: f hears %s", hears(c, "f", protocol.MediaAudio))
	}
}

func TestSideRoomTalkTime(t *testing.T) {
	// Speech in the side room is not the group's: it neither counts nor
	// makes an active speaker.
	c, _ := group(t, protocol.Policy{})
	must(t, c, sideRoom("c", "m"))
	for range 8 {
		if a := c.ObserveAudio(250*time.Millisecond, []live.AudioSample{{Participant: "m", Packets: 12, Voiced: 12, Loudness: 900}}); a != "" {
			t.Fatalf("active speaker %q from the side room", a)
		}
	}
	for _, tt := range c.TalkTime() {
		if tt.SpeakingMs != 0 {
			t.Fatalf("talk time from the side room: %+v", tt)
		}
	}
}
