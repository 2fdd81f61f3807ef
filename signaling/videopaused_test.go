package signaling_test

import (
	"context"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/pion/rtcp"
)

// TestVideoPausedForBandwidth: a subscriber whose link cannot carry even
// the lowest layer of a camera (it reports a 10 kbit/s estimate and half
// its packets lost) stops getting that video, keeps its sound, and is
// told the video is paused for its connection; once its link has room
// again, the video comes back and it is told so.
func TestVideoPausedForBandwidth(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	pub := joinAs(t, srv, client.Options{Room: "thin", Name: "Pub", Audio: true, Video: true, Simulcast: true})
	sub := joinAs(t, srv, client.Options{Room: "thin", Name: "Sub", Audio: true})
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	if err := sub.Wait(ctx, func() bool { return sub.Received(pub.ID(), "video") > 0 }); err != nil {
		t.Fatalf("no video from the publisher: %v", err)
	}
	paused := func(want bool) func(client.Message) bool {
		return func(m client.Message) bool {
			var vp protocol.VideoPaused
			return m.Decode(&vp) == nil && vp.Participant == pub.ID() && vp.Paused == want && !vp.Screen && vp.Track != ""
		}
	}
	// report sends, every 100 ms until ctx ends, the estimate and the
	// fraction lost (of 256) that link() gives, about pub's video.
	link := make(chan [2]int, 1)
	link <- [2]int{10_000, 128}
	reporting, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		var cur [2]int
		for {
			select {
			case <-reporting.Done():
				return
			case cur = <-link:
			case <-time.After(100 * time.Millisecond):
			}
			if s := sub.Stream(pub.ID(), "video"); s != nil {
				ssrc := s.SSRC.Load()
				_ = sub.SendRTCP(&rtcp.ReceiverEstimatedMaximumBitrate{Bitrate: float32(cur[0]), SSRCs: []uint32{ssrc}},
					&rtcp.ReceiverReport{Reports: []rtcp.ReceptionReport{{SSRC: ssrc, FractionLost: uint8(cur[1])}}})
			}
		}
	}()

	if _, err := sub.WaitMessage(ctx, "video_paused", paused(true)); err != nil {
		t.Fatalf("the subscriber was not told the video is paused: %v", err)
	}
	// Paused: a stretch of 50 audio packets with no video in it.
	for {
		v0, a0 := sub.Received(pub.ID(), "video"), sub.Received(pub.ID(), "audio")
		if err := sub.Wait(ctx, func() bool { return sub.Received(pub.ID(), "audio") >= a0+50 }); err != nil {
			t.Fatalf("the sound stopped with the video: %v", err)
		}
		if sub.Received(pub.ID(), "video") == v0 {
			break
		}
	}

	link <- [2]int{10_000_000, 0}
	if _, err := sub.WaitMessage(ctx, "video_paused", paused(false)); err != nil {
		t.Fatalf("the subscriber was not told the video comes again: %v", err)
	}
	v0 := sub.Received(pub.ID(), "video")
	if err := sub.Wait(ctx, func() bool { return sub.Received(pub.ID(), "video") >= v0+30 }); err != nil {
		t.Fatalf("the video did not come again: %v", err)
	}
}
