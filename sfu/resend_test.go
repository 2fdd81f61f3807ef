package sfu

import (
	"net"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// recordingWriter keeps what is written to it.
type recordingWriter struct {
	pkts []rtp.Packet
}

func (w *recordingWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.pkts = append(w.pkts, rtp.Packet{Header: *h, Payload: append([]byte(nil), payload...)})
	return len(payload), nil
}

// rtxVideo is a single-layer video track with one subscriber, bound with
// RTX, writing to w.
func rtxVideo(t *testing.T, w rtpWriter) (*publishedTrack, *downTrack) {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	pub := &publishedTrack{
		info:  TrackInfo{ID: "p-video-1", Publisher: "p", StreamID: "p", Kind: KindVideo, MimeType: "video/VP8"},
		codec: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
		stats: &Stats{},
		done:  make(chan struct{}),
	}
	if pub.home, err = newUDPBatcher(conn, pub.stats); err != nil {
		t.Fatal(err)
	}
	empty := []*downTrack{}
	pub.downs.Store(&empty)
	pub.layers[0].Store(pub.newLayer(0, "", nil, 100, nil))
	d := newDownTrack(pub, &Peer{id: "s"})
	d.slot = &slot{kind: KindVideo}
	d.bound.Store(&binding{ssrc: 1000, pt: 96, w: w, rtxSSRC: 2000, rtxPT: 97})
	d.want.Store(0)
	pub.addDown(d)
	return pub, d
}

// sendFrames forwards n one-packet frames of 1,000 bytes, the first a
// keyframe.
func sendFrames(pub *publishedTrack, n int, seq *uint16) {
	for i := range n {
		*seq++
		p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: *seq, Timestamp: uint32(*seq) * 3000, Marker: true, SSRC: 100},
			Payload: make([]byte, 1000)}
		p.Payload[0] = 0x10
		if i > 0 || *seq > 1 {
			p.Payload[1] = 0x01 // not a keyframe
		}
		pub.fwdMu.Lock()
		pub.handleLocked(pub.layer(0), p, 1)
		pub.fwdMu.Unlock()
	}
}

// TestPausedNotResent: NACKs for a video paused for its subscriber (not
// shown) are not answered: nothing is sent into its link for it; once it
// is on again, they are.
func TestPausedNotResent(t *testing.T) {
	w := &recordingWriter{}
	pub, d := rtxVideo(t, w)
	var seq uint16
	sendFrames(pub, 5, &seq)
	last := w.pkts[len(w.pkts)-1].SequenceNumber
	nack := &rtcp.TransportLayerNack{Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{last - 1, last})}
	d.setWant(layerNone)
	if n := d.resend(nack, d.slot); n != 0 {
		t.Errorf("%d packets resent for a paused video", n)
	}
	d.want.Store(0)
	if n := d.resend(nack, d.slot); n != 2 {
		t.Errorf("%d packets resent for a video shown, want 2", n)
	}
}

// TestResentAtMostThrice: a subscriber that asks for the same packet over
// and over (pion's NACK generator does, every 100 ms, blind to RTX) has
// it sent again at most three times, each at least 100 ms after the last,
// and, once the round trip to the subscriber is known, at least that: a
// NACK sooner was sent before the resend could arrive, so it asks for
// what is on its way.
func TestResentAtMostThrice(t *testing.T) {
	for _, tc := range []struct {
		rtt   time.Duration // 0: not known
		steps []time.Duration
		want  []int
	}{
		{0, []time.Duration{0, 50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, time.Second, 10 * time.Second}, []int{1, 0, 1, 1, 0, 0}},
		{250 * time.Millisecond, []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond, 250 * time.Millisecond, 400 * time.Millisecond, 500 * time.Millisecond}, []int{1, 0, 0, 1, 0, 1}},
	} {
		w := &recordingWriter{}
		pub, d := rtxVideo(t, w)
		d.sub.bw.rtt.Store(int64(tc.rtt))
		var seq uint16
		sendFrames(pub, 5, &seq)
		last := w.pkts[len(w.pkts)-1].SequenceNumber
		nack := &rtcp.TransportLayerNack{Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{last})}
		at := time.Unix(1000, 0)
		for i, step := range tc.steps {
			if n := d.resendAt(nack, d.slot, at.Add(step)); n != tc.want[i] {
				t.Errorf("round trip %v: NACK %d, %v after the first: %d packets resent, want %d", tc.rtt, i+1, step, n, tc.want[i])
			}
		}
		// A packet sent after the ring went round is a new one, resent anew.
		sendFrames(pub, historySize, &seq)
		last = w.pkts[len(w.pkts)-1].SequenceNumber
		nack = &rtcp.TransportLayerNack{Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{last})}
		if n := d.resendAt(nack, d.slot, at.Add(11*time.Second)); n != 1 {
			t.Errorf("round trip %v: %d packets resent for a packet never resent, want 1", tc.rtt, n)
		}
	}
}
