package signaling_test

import (
	"context"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/pion/rtcp"
)

// TestRTCP: NACKs from a subscriber are answered with retransmissions,
// keyframe requests reach the publisher throttled, and reports flow both
// ways.
func TestRTCP(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	pub := joinPeer(t, srv, "rtcp", "Pub")
	sub := joinPeer(t, srv, "rtcp", "Sub")
	waitMedia(t, sub, 50, pub)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()

	// NACK three recent video packets: the SFU resends them from its cache.
	// (Audio negotiates no NACK, as in browsers.)
	s := sub.Stream(pub.ID(), "video")
	last := uint16(s.LastSeq.Load())
	if err := sub.SendRTCP(&rtcp.TransportLayerNack{MediaSSRC: s.SSRC.Load(),
		Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{last - 3, last - 2, last - 1})}); err != nil {
		t.Fatal(err)
	}
	if err := sub.Wait(ctx, func() bool { return s.Repeats.Load() >= 3 }); err != nil {
		t.Errorf("NACKed packets not retransmitted: %d repeats", s.Repeats.Load())
	}

	// A burst of PLIs becomes a few keyframe requests, not one per PLI.
	v := s
	before := pub.KeyframeRequests.Load()
	start := time.Now()
	for range 20 {
		if err := sub.SendRTCP(&rtcp.PictureLossIndication{MediaSSRC: v.SSRC.Load()}); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.Wait(ctx, func() bool { return pub.KeyframeRequests.Load() > before }); err != nil {
		t.Fatal("subscriber's PLI did not reach the publisher")
	}
	// Give any deferred request time to go out, then count: the bound
	// holds whatever the timing.
	settle := time.NewTimer(time.Second)
	<-settle.C
	got := pub.KeyframeRequests.Load() - before
	if limit := uint64(time.Since(start)/(300*time.Millisecond)) + 2; got > limit {
		t.Errorf("20 PLIs became %d keyframe requests, want at most %d", got, limit)
	}

	// Receiver reports reach the publisher; sender reports the subscriber.
	if err := pub.Wait(ctx, func() bool { return pub.ReceiverReports.Load() > 0 }); err != nil {
		t.Error("no receiver report reached the publisher")
	}
	// ... and they echo the publisher's sender reports, so its round-trip
	// time can be measured: the server reads them.
	if err := pub.Wait(ctx, func() bool { return pub.RoundTripReports.Load() > 0 }); err != nil {
		t.Error("no receiver report echoed the publisher's sender report (LSR)")
	}
	if err := sub.Wait(ctx, func() bool { return sub.SenderReports.Load() > 0 }); err != nil {
		t.Error("no sender report reached the subscriber")
	}
}
