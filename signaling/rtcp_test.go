package signaling_test

import (
	"context"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// TestRTCP: NACKs from a subscriber are answered with retransmissions,
// keyframe requests reach the publisher throttled, and reports flow both
// ways.
func TestRTCP(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	pub := joinPeer(t, srv, "rtcp", "Pub")
	sub := joinPeer(t, srv, "rtcp", "Sub")
	waitMedia(t, sub, 50, pub)
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()

	// NACK three recent video packets: the SFU resends them from its cache.
	// (Audio negotiates no NACK, as in browsers.)
	s := sub.Stream(pub.ID(), "video")
	last := nackRecent(ctx, t, sub, s)
	if err := waitMetric(ctx, srv, "hearth_sfu_retransmitted_packets_total", func(v float64) bool { return v >= 3 }); err != nil {
		t.Errorf("retransmissions not counted: %v", err)
	}
	// Packets never sent (ahead of the stream) are not made up: of these
	// two NACKs, read in order, only the second's one packet is sent.
	r0, err := hearthtest.Metric(ctx, srv.URL+"/metrics", "hearth_sfu_retransmitted_packets_total")
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.SendRTCP(&rtcp.TransportLayerNack{MediaSSRC: s.SSRC.Load(),
		Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{last + 5000, last + 5001})}); err != nil {
		t.Fatal(err)
	}
	if err := sub.SendRTCP(&rtcp.TransportLayerNack{MediaSSRC: s.SSRC.Load(),
		Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{last - 4})}); err != nil {
		t.Fatal(err)
	}
	if err := waitMetric(ctx, srv, "hearth_sfu_retransmitted_packets_total", func(v float64) bool { return v >= r0+1 }); err != nil {
		t.Fatal(err)
	}
	if r1, err := hearthtest.Metric(ctx, srv.URL+"/metrics", "hearth_sfu_retransmitted_packets_total"); err != nil || r1 != r0+1 {
		t.Errorf("%v packets retransmitted for one that was sent and two that never were (%v)", r1-r0, err)
	}

	// A flood of NACKs naming hundreds of packets each is answered within
	// a budget, not packet for packet, and each packet at most once in
	// 100 ms: NACKs must not make the server an amplifier. The stream
	// carries on.
	var seqs []uint16
	for i := range uint16(400) {
		seqs = append(seqs, uint16(s.LastSeq.Load())-400+i)
	}
	sent0, err := hearthtest.Metric(ctx, srv.URL+"/metrics", "hearth_sfu_retransmitted_packets_total")
	if err != nil {
		t.Fatal(err)
	}
	flood := time.Now()
	for range 20 {
		if err := sub.SendRTCP(&rtcp.TransportLayerNack{MediaSSRC: s.SSRC.Load(),
			Nacks: rtcp.NackPairsFromSequenceNumbers(seqs)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := waitMetric(ctx, srv, "hearth_sfu_retransmitted_packets_total", func(v float64) bool { return v > sent0 }); err != nil {
		t.Errorf("a NACK flood was not answered at all: %v", err)
	}
	quiet := time.NewTimer(500 * time.Millisecond)
	<-quiet.C
	sent1, err := hearthtest.Metric(ctx, srv.URL+"/metrics", "hearth_sfu_retransmitted_packets_total")
	if err != nil {
		t.Fatal(err)
	}
	// Thousands of packets asked for; the budget allows 256 at once and
	// 256 a second after.
	if got, limit := sent1-sent0, 256+256*time.Since(flood).Seconds()+1; got > limit {
		t.Errorf("20 NACKs for 400 packets each brought %.0f retransmissions, want at most %.0f", got, limit)
	}
	waitMedia(t, sub, s.Packets.Load()+20, pub)

	// Asked for the same recent packets over and over, 120 ms apart (as
	// a client blind to the retransmissions would), the server sends each
	// again at most three times. A second first, for the budget to fill.
	refill := time.NewTimer(time.Second)
	<-refill.C
	recent := uint16(s.LastSeq.Load())
	var again []uint16
	for i := range uint16(10) {
		again = append(again, recent-10+i)
	}
	sent2, err := hearthtest.Metric(ctx, srv.URL+"/metrics", "hearth_sfu_retransmitted_packets_total")
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if err := sub.SendRTCP(&rtcp.TransportLayerNack{MediaSSRC: s.SSRC.Load(),
			Nacks: rtcp.NackPairsFromSequenceNumbers(again)}); err != nil {
			t.Fatal(err)
		}
		gap := time.NewTimer(120 * time.Millisecond)
		<-gap.C
	}
	if err := waitMetric(ctx, srv, "hearth_sfu_retransmitted_packets_total", func(v float64) bool { return v >= sent2+10 }); err != nil {
		t.Errorf("10 recent packets asked for were not sent again: %v", err)
	}
	settled := time.NewTimer(500 * time.Millisecond)
	<-settled.C
	if sent3, err := hearthtest.Metric(ctx, srv.URL+"/metrics", "hearth_sfu_retransmitted_packets_total"); err != nil || sent3-sent2 > 30 {
		t.Errorf("10 packets asked for 10 times brought %.0f retransmissions, want at most 30 (%v)", sent3-sent2, err)
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
	// Sender reports for both of its streams: video goes out through pion,
	// audio on the fast path; the server reports both itself.
	for _, kind := range []string{"audio", "video"} {
		s := sub.Stream(pub.ID(), kind)
		if err := sub.Wait(ctx, func() bool { return s.SenderReports.Load() > 0 }); err != nil {
			t.Errorf("no sender report about the %s reached the subscriber", kind)
		}
	}
}

// TestAudioFastPathReports: a publisher's audio is taken off pion's path by
// the socket's reader (the receive fast path), still reaches its
// subscriber, and the receiver reports the publisher gets about it say how
// much of it was lost on the way and echo its sender reports.
func TestAudioFastPathReports(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	pub := joinPeer(t, srv, "rtcp-fast", "Pub")
	sub := joinPeer(t, srv, "rtcp-fast", "Sub")
	waitMedia(t, sub, 50, pub)
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()

	if err := waitMetric(ctx, srv, "hearth_sfu_fast_received_packets_total", func(v float64) bool { return v >= 50 }); err != nil {
		t.Fatalf("audio not taken by the receive fast path: %v", err)
	}
	s := sub.Stream(pub.ID(), "audio")
	before := s.Packets.Load()
	if err := sub.Wait(ctx, func() bool { return s.Packets.Load() >= before+50 }); err != nil {
		t.Fatalf("audio stopped reaching the subscriber: %d packets", s.Packets.Load()-before)
	}
	if v, err := hearthtest.Metric(ctx, srv.URL+"/metrics", "hearth_sfu_fast_rejected_packets_total"); err != nil || v != 0 {
		t.Errorf("fast path refused %v packets (%v)", v, err)
	}

	// One audio packet in ten lost: the reports say about 10 % (25 of 256).
	pub.AudioLoss.Store(10)
	lossy := func() bool {
		r := pub.AudioReport.Load()
		return r != nil && r.FractionLost >= 15 && r.FractionLost <= 40 && r.TotalLost > 0
	}
	if err := pub.Wait(ctx, lossy); err != nil {
		t.Fatalf("no receiver report shows the loss: last %+v", pub.AudioReport.Load())
	}
	if r := pub.AudioReport.Load(); r.LastSenderReport == 0 {
		t.Errorf("audio report does not echo a sender report: %+v", r)
	}
	pub.AudioLoss.Store(0)
	if err := pub.Wait(ctx, func() bool {
		r := pub.AudioReport.Load()
		return r != nil && r.FractionLost == 0
	}); err != nil {
		t.Fatalf("loss still reported after it stopped: last %+v", pub.AudioReport.Load())
	}
}

// TestAudioFastPathAfterICERestart: when a publisher restarts ICE (new
// credentials on both sides, so a new conn on the server's mux), its audio
// stays on the receive fast path and keeps reaching its subscriber.
func TestAudioFastPathAfterICERestart(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	pub := joinPeer(t, srv, "ice-restart", "Pub")
	// The subscriber publishes nothing: all fast-path audio is the
	// publisher's.
	sub := dial(t, srv, client.Options{Room: "ice-restart", Name: "Sub"})
	if err := sub.Join(); err != nil {
		t.Fatal(err)
	}
	waitMedia(t, sub, 50, pub)
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	if err := waitMetric(ctx, srv, "hearth_sfu_fast_received_packets_total", func(v float64) bool { return v >= 50 }); err != nil {
		t.Fatalf("audio not on the receive fast path: %v", err)
	}

	pc := pub.PC()
	before := pc.LocalDescription().SDP
	sendOffer(t, pub, &webrtc.OfferOptions{ICERestart: true})
	// The restart is done when the server's answer is in and ICE is up
	// again with the new credentials.
	if err := pub.Wait(ctx, func() bool {
		r := pc.RemoteDescription()
		return pc.SignalingState() == webrtc.SignalingStateStable && r != nil && r.Type == webrtc.SDPTypeAnswer &&
			pc.ICEConnectionState() == webrtc.ICEConnectionStateConnected
	}); err != nil {
		t.Fatalf("ICE restart did not complete: %s, ICE %s", pc.SignalingState(), pc.ICEConnectionState())
	}
	if pc.LocalDescription().SDP == before {
		t.Fatal("the offer did not change the client's credentials")
	}

	// Audio keeps arriving, and keeps taking the fast path: its count
	// grows by a second's worth beyond what was already under way.
	s := sub.Stream(pub.ID(), "audio")
	got := s.Packets.Load()
	if err := sub.Wait(ctx, func() bool { return s.Packets.Load() >= got+100 }); err != nil {
		t.Fatalf("audio stopped after the ICE restart: %d packets", s.Packets.Load()-got)
	}
	v0, err := hearthtest.Metric(ctx, srv.URL+"/metrics", "hearth_sfu_fast_received_packets_total")
	if err != nil {
		t.Fatal(err)
	}
	if err := waitMetric(ctx, srv, "hearth_sfu_fast_received_packets_total", func(v float64) bool { return v >= v0+100 }); err != nil {
		t.Fatalf("audio left the receive fast path after the ICE restart: %v", err)
	}
}

// TestVideoFastPath: video, like audio, is encrypted and sent by the
// server's fast path, and a subscriber that did not negotiate RTX gets
// what it reports lost again on the same stream, under the same SRTP
// state (so it decrypts).
func TestVideoFastPath(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	pub := joinPeer(t, srv, "video-fast", "Pub")

	// A subscriber without RTX, which takes a packet it already has
	// (replay protection off), so that a retransmission shows.
	m := &webrtc.MediaEngine{}
	for _, c := range []struct {
		p webrtc.RTPCodecParameters
		k webrtc.RTPCodecType
	}{
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, PayloadType: 111}, webrtc.RTPCodecTypeAudio},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000,
			RTCPFeedback: []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}}}, PayloadType: 96}, webrtc.RTPCodecTypeVideo},
	} {
		if err := m.RegisterCodec(c.p, c.k); err != nil {
			t.Fatal(err)
		}
	}
	se := client.LoopbackSettings()
	se.DisableSRTPReplayProtection(true)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se))
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	sub, err := client.Dial(ctx, api, client.Options{URL: srv.WSURL, Room: "video-fast", Name: "Sub"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sub.Close)
	if err := sub.Join(); err != nil {
		t.Fatal(err)
	}
	waitMedia(t, sub, 50, pub)

	// Once the subscriber's connection is up, everything forwarded to it,
	// audio and video, takes the fast path. Until then pion's path may
	// carry the first packets, the more the slower the machine, so what
	// must hold is that it then carries none: 200 forwarded packets go by
	// with none of them off the fast path. (A scrape reads one counter
	// after the other and may be off by what was forwarded in between; a
	// window that sees the count move starts again.)
	var all0, slow0, all, fast float64
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for started := false; ; {
		v, err := hearthtest.Metrics(ctx, srv.URL+"/metrics", "hearth_sfu_forwarded_packets_total", "hearth_sfu_fast_forwarded_packets_total")
		if err != nil {
			t.Fatal(err)
		}
		all, fast = v[0], v[1]
		if !started || all-fast != slow0 {
			all0, slow0, started = all, all-fast, true
		} else if all >= all0+200 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("forwarded packets keep taking pion's path: %v of the %v forwarded so far took the fast path", fast, all)
		case <-tick.C:
		}
	}

	s := sub.Stream(pub.ID(), "video")
	nackRecent(ctx, t, sub, s)
	waitMedia(t, sub, s.Packets.Load()+20, pub)
}

// nackRecent has sub NACK the three packets of s before the last it got,
// and waits until they arrive again. It returns that last sequence number.
func nackRecent(ctx context.Context, t *testing.T, sub *client.Client, s *client.Stream) uint16 {
	t.Helper()
	last := uint16(s.LastSeq.Load())
	repeats := s.Repeats.Load()
	if err := sub.SendRTCP(&rtcp.TransportLayerNack{MediaSSRC: s.SSRC.Load(),
		Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{last - 3, last - 2, last - 1})}); err != nil {
		t.Fatal(err)
	}
	if err := sub.Wait(ctx, func() bool { return s.Repeats.Load() >= repeats+3 }); err != nil {
		t.Errorf("NACKed packets not retransmitted: %d repeats", s.Repeats.Load()-repeats)
	}
	return last
}
