package signaling_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// screenCount is how many packets of pub's screen share sub received.
func screenCount(sub, pub *client.Client) uint64 {
	if s := sub.ScreenStream(pub.ID()); s != nil {
		return s.Packets.Load()
	}
	return 0
}

// screenExpect checks exactly whose screen each client receives: in want
// ("s<f m<f"), the screen of each publisher after "<" reaches the client
// before it, and no other screen reaches anyone among cs. The windows are
// counted in packets that did arrive: allowed screens, or with none the
// audio of clock, which every other client hears.
func screenExpect(t *testing.T, cs map[string]*client.Client, clock string, want string) {
	t.Helper()
	screenMediaExpect(t, cs, clock, screenCount, want)
}

// screenMediaExpect is screenExpect for the screen media count counts.
func screenMediaExpect(t *testing.T, cs map[string]*client.Client, clock string, count func(sub, pub *client.Client) uint64, want string) {
	t.Helper()
	const settle, verify = 10, 25
	allowed := map[[2]string]bool{}
	for _, row := range strings.Fields(want) {
		sub, pubs, _ := strings.Cut(row, "<")
		for _, p := range strings.Split(pubs, ",") {
			if p != "" {
				allowed[[2]string{p, sub}] = true
			}
		}
	}
	screens := func() map[[2]string]uint64 {
		out := map[[2]string]uint64{}
		for pn, p := range cs {
			for sn, s := range cs {
				if pn != sn {
					out[[2]string{pn, sn}] = count(s, p)
				}
			}
		}
		return out
	}
	// The clock: allowed screens, or clock's audio at everyone else.
	ticks := func() map[[2]string]uint64 {
		out := map[[2]string]uint64{}
		if len(allowed) > 0 {
			now := screens()
			for pair := range allowed {
				out[pair] = now[pair]
			}
			return out
		}
		for sn, s := range cs {
			if sn != clock {
				out[[2]string{clock, sn}] = ctlCount(s, cs[clock], "audio")
			}
		}
		return out
	}
	window := func(ctx context.Context, n uint64) ([]string, error) {
		start, startTicks := screens(), ticks()
		err := cs[clock].Wait(ctx, func() bool {
			now := ticks()
			for pair, v := range now {
				if v < startTicks[pair]+n {
					return false
				}
			}
			return true
		})
		var leaks []string
		for pair, v := range screens() {
			if !allowed[pair] && v != start[pair] {
				leaks = append(leaks, fmt.Sprintf("%s>%s +%d", pair[0], pair[1], v-start[pair]))
			}
		}
		return leaks, err
	}
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	for {
		leaks, err := window(ctx, settle)
		if err != nil {
			t.Fatalf("screens: the clock did not advance (want %s): %v\n%s", want, err, screenDescribe(cs, count))
		}
		if len(leaks) == 0 {
			break
		}
	}
	leaks, err := window(ctx, verify)
	if err != nil {
		t.Fatalf("screens: the clock stopped (want %s): %v\n%s", want, err, screenDescribe(cs, count))
	}
	if len(leaks) > 0 {
		t.Fatalf("screens forwarded against the gate (want %s): %v", want, leaks)
	}
}

func screenDescribe(cs map[string]*client.Client, count func(sub, pub *client.Client) uint64) string {
	var b strings.Builder
	for sn, s := range cs {
		for pn, p := range cs {
			if pn != sn {
				fmt.Fprintf(&b, "  %s<%s screen: %d\n", sn, pn, count(s, p))
			}
		}
	}
	return b.String()
}

// publishScreen publishes c's synthetic screen and waits until its offer
// is answered.
func publishScreen(t *testing.T, c *client.Client) {
	t.Helper()
	if err := c.PublishScreen(); err != nil {
		t.Fatal(err)
	}
	waitStable(t, c)
}

func waitStable(t *testing.T, c *client.Client) {
	t.Helper()
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	if err := c.Wait(ctx, c.Negotiated); err != nil {
		t.Fatalf("%s: offer not answered: %v; errors %v", c.ID(), err, c.NegotiationErrors())
	}
}

// waitGone waits until c has been told that no section carries stream
// (a participant id, or one with "-screen") and has answered every offer:
// the server has nothing outstanding about it, so c may offer without
// crossing one.
func waitGone(t *testing.T, c *client.Client, stream string) {
	t.Helper()
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	err := c.Wait(ctx, func() bool {
		return !carriedStreams(c)[stream] && c.Negotiated()
	})
	if err != nil {
		t.Fatalf("%s: still carries %s: %v", c.ID(), stream, err)
	}
}

// waitScreenTrack waits until c is told of a screen track from pub: the server
// publishes a track when its first packets arrive.
func waitScreenTrack(t *testing.T, c *client.Client, pub *client.Client) {
	t.Helper()
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	if _, err := c.WaitMessage(ctx, "track_published", func(m client.Message) bool {
		var v protocol.TrackPublished
		return m.Decode(&v) == nil && v.Participant == pub.ID() && v.Track.Screen &&
			v.Track.StreamID == pub.ID()+"-screen" && v.Track.Kind == "video"
	}); err != nil {
		t.Fatalf("%s: no screen track from %s: %v", c.ID(), pub.ID(), err)
	}
}

func sharerOf(st protocol.RoomState) string {
	if st.ScreenShare == nil {
		return ""
	}
	return st.ScreenShare.Participant
}

// TestScreenShare: a facilitator shares and everyone receives the screen;
// a member without permission is refused on the server, and the screen
// track its client publishes anyway reaches nobody; one share at a time;
// once allowed the member shares; a facilitator stops anyone's share.
func TestScreenShare(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	f := ctlJoin(t, srv, "screens", "fran", room.RoleFacilitator, false)
	m := ctlJoin(t, srv, "screens", "milo", room.RoleMember, false)
	s := ctlJoin(t, srv, "screens", "sue", room.RoleMember, false)
	cs := map[string]*client.Client{"f": f, "m": m, "s": s}
	// Everyone hears everyone: every offer so far is answered.
	ctlExpect(t, "audio", cs, "f<m,s m<f,s s<f,m")
	if st, _ := ctlState(s); st.ScreenShare != nil || !ctlFind(st, f.ID()).CanShareScreen || ctlFind(st, m.ID()).CanShareScreen {
		t.Fatalf("before any share: %+v", st)
	}

	// The facilitator shares.
	ctlSend(t, f, map[string]any{"type": "start_screen_share"})
	ctlWaitState(t, s, func(st protocol.RoomState) bool { return sharerOf(st) == f.ID() })
	publishScreen(t, f)
	screenExpect(t, cs, "f", "m<f s<f")
	for _, c := range []*client.Client{m, s} {
		if st := c.ScreenStream(f.ID()); st.Keyframes.Load() == 0 {
			t.Errorf("%s: the screen started without a keyframe", c.ID())
		}
	}

	// A member without permission is refused, and nothing changes.
	ctlSend(t, m, map[string]any{"type": "start_screen_share"})
	ctlWaitError(t, m, "start_screen_share", "forbidden")
	// Its client publishes a screen anyway: the server takes it in (and
	// says so) but forwards it to nobody.
	publishScreen(t, m)
	waitScreenTrack(t, s, m)
	screenExpect(t, cs, "f", "m<f s<f")
	if st, _ := ctlState(f); sharerOf(st) != f.ID() {
		t.Fatalf("the refused member changed the share: %+v", st.ScreenShare)
	}

	// Allowed, the member still waits for the facilitator's share to end.
	ctlSend(t, f, map[string]any{"type": "allow_screen_share", "participant": m.ID(), "allowed": true})
	ctlWaitState(t, m, func(st protocol.RoomState) bool { return ctlFind(st, m.ID()).CanShareScreen })
	ctlSend(t, m, map[string]any{"type": "start_screen_share"})
	ctlWaitError(t, m, "start_screen_share", "bad_request")
	screenExpect(t, cs, "f", "m<f s<f")

	// The facilitator stops; the member shares on the track it already
	// publishes (the facilitator's client keeps sending, which reaches
	// nobody now).
	ctlSend(t, f, map[string]any{"type": "stop_screen_share"})
	ctlWaitState(t, s, func(st protocol.RoomState) bool { return sharerOf(st) == "" })
	screenExpect(t, cs, "f", "")
	ctlSend(t, m, map[string]any{"type": "start_screen_share"})
	ctlWaitState(t, s, func(st protocol.RoomState) bool { return sharerOf(st) == m.ID() })
	screenExpect(t, cs, "f", "f<m s<m")

	// Another member may not stop it; a facilitator may.
	ctlSend(t, s, map[string]any{"type": "stop_screen_share", "participant": m.ID()})
	ctlWaitError(t, s, "stop_screen_share", "forbidden")
	ctlSend(t, f, map[string]any{"type": "stop_screen_share", "participant": m.ID()})
	st := ctlWaitState(t, m, func(st protocol.RoomState) bool { return sharerOf(st) == "" })
	if st.Change == nil || st.Change.Kind != protocol.CmdStopScreenShare || st.Change.By != f.ID() || st.Change.Participant != m.ID() {
		t.Fatalf("change: %+v", st.Change)
	}
	screenExpect(t, cs, "f", "")
}

// TestScreenShareEnds: the share ends for everyone when its track ends,
// when the permission is taken back, when the sharer is removed and when
// the sharer leaves.
func TestScreenShareEnds(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	f := ctlJoin(t, srv, "screen-ends", "fran", room.RoleFacilitator, false)
	m := ctlJoin(t, srv, "screen-ends", "milo", room.RoleMember, false)
	s := ctlJoin(t, srv, "screen-ends", "sue", room.RoleMember, false)
	cs := map[string]*client.Client{"f": f, "m": m, "s": s}
	ctlExpect(t, "audio", cs, "f<m,s m<f,s s<f,m")

	share := func(c *client.Client) {
		t.Helper()
		ctlSend(t, c, map[string]any{"type": "start_screen_share"})
		ctlWaitState(t, f, func(st protocol.RoomState) bool { return sharerOf(st) == c.ID() })
	}
	allow := func(c *client.Client) {
		t.Helper()
		ctlSend(t, f, map[string]any{"type": "allow_screen_share", "participant": c.ID(), "allowed": true})
		ctlWaitState(t, c, func(st protocol.RoomState) bool { return ctlFind(st, c.ID()).CanShareScreen })
	}
	ended := func(cause protocol.CommandKind) {
		t.Helper()
		st := ctlWaitState(t, f, func(st protocol.RoomState) bool { return sharerOf(st) == "" })
		if st.Change == nil || st.Change.Kind != cause {
			t.Fatalf("share ended by %+v, want %s", st.Change, cause)
		}
	}

	// The track ending (a browser's own stop bar ends the capture; here
	// the client takes the track off its connection) ends the share.
	allow(s)
	share(s)
	publishScreen(t, s)
	screenExpect(t, cs, "s", "f<s m<s")
	if err := s.EndScreen(); err != nil {
		t.Fatal(err)
	}
	waitStable(t, s)
	ended(protocol.CmdStopScreenShare)
	screenExpect(t, cs, "s", "")
	waitGone(t, m, s.ID()+"-screen")

	// Taking the permission back ends it.
	allow(m)
	share(m)
	publishScreen(t, m)
	screenExpect(t, cs, "m", "f<m s<m")
	ctlSend(t, f, map[string]any{"type": "allow_screen_share", "participant": m.ID(), "allowed": false})
	ended(protocol.CmdAllowScreenShare)
	screenExpect(t, cs, "m", "")

	// Removed, the sharer's screen stops at once.
	allow(m)
	share(m)
	screenExpect(t, cs, "m", "f<m s<m")
	ctlSend(t, f, map[string]any{"type": "remove", "participant": m.ID()})
	ended(protocol.CmdRemove)
	waitGone(t, f, m.ID())
	waitGone(t, f, m.ID()+"-screen")

	// The facilitator shares and leaves: the share ends for the others.
	share(f)
	publishScreen(t, f)
	screenExpect(t, map[string]*client.Client{"f": f, "s": s}, "f", "s<f")
	f.Close()
	st := ctlWaitState(t, s, func(st protocol.RoomState) bool { return ctlFind(st, f.ID()) == nil })
	if st.ScreenShare != nil {
		t.Fatalf("the sharer left and the share stayed: %+v", st.ScreenShare)
	}
}
