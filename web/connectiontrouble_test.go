package web_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/hearth-rtc/hearth/internal/testutil/browser"
	"github.com/hearth-rtc/hearth/internal/testutil/clip"
)

// TestConnectionTroubleShown: when the server says it pauses someone's camera
// because this browser's connection cannot carry it (video_paused), the
// tile shows that person's initials, not a frozen picture, with a badge
// saying why; the banner says once, calmly, that the connection is slow
// and sound comes first; a screen reader hears it in the tile's label.
// When the video comes again, the picture, and nothing else, is back.
// Told that much of its own sound is lost on the way (sending_quality),
// the banner says others may hear it break up, and that turning the
// camera off can help, before anything about paused video; told it is
// whole again, the banner goes. Someone else whose connection is weak
// has it said on their tile. Screenshots at both sizes, checked with
// axe-core.
func TestConnectionTroubleShown(t *testing.T) {
	src := axeSource(t)
	for _, size := range screenSizes {
		t.Run(size.name, func(t *testing.T) {
			b, _, c, _ := joinAs(t, size.opts, "tuesday-grief", "Ann")
			c.send(t, withAudio(joinedMember))
			pc := c.connectMedia(t, b)
			// Ben's camera: a section of the test's peer, named his, sending
			// the clip's frames.
			track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "p_ben-video", "p_ben")
			if err != nil {
				t.Fatal(err)
			}
			tr, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
			if err != nil {
				t.Fatal(err)
			}
			ctx, stop := context.WithCancel(t.Context())
			done := make(chan struct{})
			t.Cleanup(func() { stop(); <-done })
			// The section has its mid once an offer is made: it is named
			// Ben's before the offer that brings it, as the server does.
			if _, err := pc.CreateOffer(nil); err != nil {
				t.Fatal(err)
			}
			c.send(t, fmt.Sprintf(`{"type":"sections","sections":[{"mid":%q,"participant":"p_ben","kind":"video"}]}`, tr.Mid()))
			c.offerMedia(t, pc)
			go sendClip(ctx, t, track, done)
			const ben = `document.querySelector('[data-participant="p_ben"]')`
			wait(t, b, ben+`.dataset.camOff === "false"`)

			c.send(t, `{"type":"video_paused","participant":"p_ben","track":"p_ben-video-2","paused":true}`)
			wait(t, b, ben+`.dataset.videoPaused === "true" && `+ben+`.dataset.camOff === "true"`)
			if got := eval[string](t, b, ben+`.querySelector(".tile-badges").textContent`); got != "Video paused" {
				t.Errorf("Ben's tile's badges say %q", got)
			}
			if got := eval[string](t, b, ben+`.getAttribute("aria-label")`); got != "Ben Okafor, video paused because your connection is slow" {
				t.Errorf("Ben's tile is read as %q", got)
			}
			wait(t, b, `!document.getElementById("connection-banner").hidden`)
			if got := eval[string](t, b, `document.getElementById("connection-text").textContent`); got != "Your connection is slow, so some video is paused. Sound comes first." {
				t.Errorf("the banner says %q", got)
			}
			// Others' tiles say nothing of it.
			if got := eval[string](t, b, `document.querySelector('[data-participant="p_cai"]').getAttribute("aria-label")`); got != "Cai, camera off" {
				t.Errorf("Cai's tile is read as %q", got)
			}
			screen(t, b, src, "video-paused", size.name)

			c.send(t, `{"type":"video_paused","participant":"p_ben","track":"p_ben-video-2","paused":false}`)
			wait(t, b, ben+`.dataset.videoPaused === "false" && `+ben+`.dataset.camOff === "false" && document.getElementById("connection-banner").hidden`)
			if got := eval[string](t, b, ben+`.getAttribute("aria-label")`); got != "Ben Okafor" {
				t.Errorf("Ben's tile, his video back, is read as %q", got)
			}
			// A message of the wrong shape changes nothing (the chat
			// message after it shows it was handled).
			c.send(t, `{"type":"video_paused","participant":7,"paused":true}`)
			c.send(t, chatMsg("m_1", "p_dana", "Dana", "room", "Welcome, everyone."))
			wait(t, b, `document.getElementById("chat-badge").textContent === "1"`)
			if eval[bool](t, b, ben+`.dataset.videoPaused === "true" || !document.getElementById("connection-banner").hidden`) {
				t.Error("a malformed video_paused paused Ben's video")
			}

			const banner = `document.getElementById("connection-text").textContent`
			c.send(t, `{"type":"sending_quality","poor":true,"lost":0.14}`)
			c.send(t, `{"type":"video_paused","participant":"p_ben","track":"p_ben-video-2","paused":true}`)
			wait(t, b, `!document.getElementById("connection-banner").hidden && `+ben+`.dataset.videoPaused === "true"`)
			if got := eval[string](t, b, banner); got != "Others may hear you break up: your connection is losing some of your sound. Turning your camera off can help." {
				t.Errorf("the banner, one's sound breaking up, says %q", got)
			}
			screen(t, b, src, "sound-breaking-up", size.name)
			c.send(t, `{"type":"sending_quality","poor":false,"lost":0.01}`)
			wait(t, b, banner+` === "Your connection is slow, so some video is paused. Sound comes first."`)
			c.send(t, `{"type":"video_paused","participant":"p_ben","track":"p_ben-video-2","paused":false}`)
			wait(t, b, `document.getElementById("connection-banner").hidden`)

			// Someone else's sound breaking up is said on their tile.
			benIs := func(weak bool) string {
				return fmt.Sprintf(`{"type":"participant_updated","participant":{"id":"p_ben","identity":"anon-2","name":"Ben Okafor","role":"member",
					"muted":{"audio":false,"video":false},"tracks":[{"id":"p_ben-audio","kind":"audio","streamId":"p_ben"}],"weakConnection":%t}}`, weak)
			}
			c.send(t, benIs(true))
			wait(t, b, ben+`.querySelector(".tile-badges").textContent === "Weak connection"`)
			if got := eval[string](t, b, ben+`.getAttribute("aria-label")`); got != "Ben Okafor, weak connection, they may break up" {
				t.Errorf("Ben's tile, his connection weak, is read as %q", got)
			}
			screen(t, b, src, "weak-connection", size.name)
			c.send(t, benIs(false))
			wait(t, b, ben+`.querySelector(".tile-badges").textContent === ""`)
			checkClean(t, b)
		})
	}
}

// sendClip sends the clip's video on track in real time until ctx ends,
// then closes done.
func sendClip(ctx context.Context, t *testing.T, track *webrtc.TrackLocalStaticSample, done chan<- struct{}) {
	defer close(done)
	c, err := clip.Load()
	if err != nil {
		t.Error(err)
		return
	}
	tick := time.NewTicker(c.FrameDuration)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := track.WriteSample(media.Sample{Data: c.Video[i%len(c.Video)], Duration: c.FrameDuration}); err != nil {
			return
		}
	}
}

// TestHearingPoorShown: when a fifth of the sound others send is lost on
// its way to this browser (here, a peer of the test's that skips every
// fifth packet of Ben's microphone), the banner says some of what others
// say may not reach the person, and the server is told (hearing_quality);
// once nothing is lost, both are undone.
func TestHearingPoorShown(t *testing.T) {
	b, _, c, _ := joinAs(t, browser.Desktop, "tuesday-grief", "Ann")
	c.send(t, withAudio(joinedMember))
	pc := c.connectMedia(t, b)
	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "p_ben-audio", "p_ben")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.CreateOffer(nil); err != nil {
		t.Fatal(err)
	}
	c.send(t, fmt.Sprintf(`{"type":"sections","sections":[{"mid":%q,"participant":"p_ben","kind":"audio"}]}`, tr.Mid()))
	c.offerMedia(t, pc)

	var lossy atomic.Bool
	lossy.Store(true)
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan struct{})
	t.Cleanup(func() { stop(); <-done })
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		pkt := &rtp.Packet{Header: rtp.Header{Version: 2}, Payload: []byte{0xf8, 0xff, 0xfe}}
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			pkt.SequenceNumber++
			pkt.Timestamp += 960
			if lossy.Load() && pkt.SequenceNumber%5 == 0 {
				continue
			}
			if err := track.WriteRTP(pkt); err != nil {
				return
			}
		}
	}()
	const text = `document.getElementById("connection-text").textContent`
	wait(t, b, `!document.getElementById("connection-banner").hidden && `+text+` === "Some of what others say may not reach you: your connection is losing some of their sound."`)
	if m := c.expect(t, "hearing_quality"); m["poor"] != true {
		t.Errorf("the server was told %v", m)
	}
	lossy.Store(false)
	wait(t, b, `document.getElementById("connection-banner").hidden`)
	if m := c.expect(t, "hearing_quality"); m["poor"] != false {
		t.Errorf("the server was told %v, the sound whole again", m)
	}
	checkClean(t, b)
}
