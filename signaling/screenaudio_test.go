package signaling_test

import (
	"strings"
	"testing"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// screenSoundCount is how many packets of pub's screen sound sub received.
func screenSoundCount(sub, pub *client.Client) uint64 {
	if s := sub.ScreenAudioStream(pub.ID()); s != nil {
		return s.Packets.Load()
	}
	return 0
}

// publishScreenSound publishes c's synthetic screen sound and waits until
// its offer is answered and others are told of the track.
func publishScreenSound(t *testing.T, c, other *client.Client) {
	t.Helper()
	if err := c.PublishScreenAudio(); err != nil {
		t.Fatal(err)
	}
	waitStable(t, c)
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	if _, err := other.WaitMessage(ctx, "track_published", func(m client.Message) bool {
		var v protocol.TrackPublished
		return m.Decode(&v) == nil && v.Participant == c.ID() && v.Track.Screen &&
			v.Track.StreamID == c.ID()+"-screen" && v.Track.Kind == "audio"
	}); err != nil {
		t.Fatalf("%s: no screen sound from %s: %v", other.ID(), c.ID(), err)
	}
}

// TestScreenSound: the sound of a shared screen reaches the others with
// the screen, and follows its sharer's microphone rules: a sharer muted by
// the facilitator is heard by nobody, screen sound included, while the
// screen itself still shows; when the share stops the sound stops too.
func TestScreenSound(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	f := ctlJoin(t, srv, "screen-sound", "fran", room.RoleFacilitator, false)
	m := ctlJoin(t, srv, "screen-sound", "milo", room.RoleMember, false)
	s := ctlJoin(t, srv, "screen-sound", "sue", room.RoleMember, false)
	cs := map[string]*client.Client{"f": f, "m": m, "s": s}
	ctlExpect(t, "audio", cs, "f<m,s m<f,s s<f,m")
	sound := func(want string) {
		t.Helper()
		screenMediaExpect(t, cs, "f", screenSoundCount, want)
	}

	// The facilitator shares a tab with its sound: both others hear it.
	ctlSend(t, f, map[string]any{"type": "start_screen_share"})
	ctlWaitState(t, s, func(st protocol.RoomState) bool { return sharerOf(st) == f.ID() })
	publishScreen(t, f)
	publishScreenSound(t, f, s)
	sound("m<f s<f")
	screenExpect(t, cs, "f", "m<f s<f")

	// The tab's sound ending (the client takes it off) does not end the
	// share: the track_unpublished that says it ended comes after any
	// room_state ending the share would have.
	if err := f.EndScreenAudio(); err != nil {
		t.Fatal(err)
	}
	waitStable(t, f)
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	if _, err := s.WaitMessage(ctx, "track_unpublished", func(m client.Message) bool {
		var v protocol.TrackUnpublished
		return m.Decode(&v) == nil && v.Participant == f.ID() && strings.Contains(v.Track, "-screen-audio-")
	}); err != nil {
		t.Fatalf("the screen's sound did not end: %v", err)
	}
	if st, _ := ctlState(s); sharerOf(st) != f.ID() {
		t.Fatalf("the screen's sound ending ended the share: %+v", st.ScreenShare)
	}
	screenExpect(t, cs, "f", "m<f s<f")

	// The facilitator stops: the sound stops with the screen.
	ctlSend(t, f, map[string]any{"type": "stop_screen_share"})
	ctlWaitState(t, s, func(st protocol.RoomState) bool { return sharerOf(st) == "" })
	sound("")

	// A member allowed to share, with sound, is heard through it...
	ctlSend(t, f, map[string]any{"type": "allow_screen_share", "participant": m.ID(), "allowed": true})
	ctlWaitState(t, m, func(st protocol.RoomState) bool { return ctlFind(st, m.ID()).CanShareScreen })
	ctlSend(t, m, map[string]any{"type": "start_screen_share"})
	ctlWaitState(t, s, func(st protocol.RoomState) bool { return sharerOf(st) == m.ID() })
	publishScreen(t, m)
	publishScreenSound(t, m, s)
	sound("f<m s<m")

	// ...until the facilitator mutes them: their screen still shows, its
	// sound reaches nobody.
	ctlSend(t, f, map[string]any{"type": "mute_participant", "participant": m.ID(), "kind": "audio", "muted": true})
	ctlWaitState(t, s, func(st protocol.RoomState) bool { p := ctlFind(st, m.ID()); return p != nil && p.Muted.Audio })
	sound("")
	screenExpect(t, cs, "f", "f<m s<m")

	// Unmuted, the sound is back; the share ending stops it again.
	ctlSend(t, f, map[string]any{"type": "mute_participant", "participant": m.ID(), "kind": "audio", "muted": false})
	ctlWaitState(t, s, func(st protocol.RoomState) bool { p := ctlFind(st, m.ID()); return p != nil && !p.Muted.Audio })
	sound("f<m s<m")
	ctlSend(t, m, map[string]any{"type": "stop_screen_share"})
	ctlWaitState(t, s, func(st protocol.RoomState) bool { return sharerOf(st) == "" })
	sound("")
}
