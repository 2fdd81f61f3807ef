package sfu

import (
	"testing"

	"github.com/pion/webrtc/v4"
)

// A client that makes its microphone's section inactive and then sends on
// it again publishes its microphone again: the track ends with the first
// and comes back, as a microphone and not as a screen's sound, on the
// section the server offered for it.
func TestSlotReactivated(t *testing.T) {
	room := newTestRoom(t)
	a := room.join("a", clientOpts{audio: true})
	b := room.join("b", clientOpts{})
	heard := func() int {
		if s := b.stream("a", KindAudio); s != nil {
			return len(s.packets())
		}
		return 0
	}
	waitFor(t, "b to hear a", func() bool { return heard() > 0 })
	audioTracks := func() (mic, screen int) {
		for _, ti := range room.router.Tracks() {
			if ti.Publisher == "a" && ti.Kind == KindAudio {
				if ti.Screen {
					screen++
				} else {
					mic++
				}
			}
		}
		return mic, screen
	}

	var sender *webrtc.RTPSender
	a.do(func() {
		for _, s := range a.pc.GetSenders() {
			if s.Track() == a.audio {
				sender = s
			}
		}
		if err := a.pc.RemoveTrack(sender); err != nil {
			a.fail(err)
		}
	})
	a.offer()
	waitFor(t, "a's microphone to end", func() bool { mic, screen := audioTracks(); return mic+screen == 0 })

	a.do(func() {
		if _, err := a.pc.AddTrack(a.audio); err != nil {
			a.fail(err)
		}
	})
	a.offer()
	waitFor(t, "a's microphone to come back", func() bool { mic, screen := audioTracks(); return mic+screen > 0 })
	if mic, screen := audioTracks(); mic != 1 || screen != 0 {
		t.Fatalf("a publishes %d microphones and %d screen sounds, want one microphone", mic, screen)
	}
	before := heard()
	waitFor(t, "b to hear a again", func() bool { return heard() > before+10 })
}
