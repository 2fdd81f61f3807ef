package sfu

import (
	"bytes"
	"encoding/binary"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"
)

// lossyLink is a publisher's way out, in its interceptor chain beneath
// pion's NACK responder and transport-cc numbering: it drops, once, each
// media packet whose sequence number is a multiple of every (as a lossy
// uplink would), names the layer in each retransmission's header
// extensions (mid and repaired rid, as browsers do), and counts what the
// publisher hears back.
type lossyLink struct {
	interceptor.NoOp
	every uint16

	mu      sync.Mutex
	dropped map[uint32][]uint16 // by SSRC
	tags    map[uint32][2][]byte
	rrAbout map[uint32]bool // SSRCs receiver reports were about

	rtx, nacks, twccs atomic.Int64
}

func newLossyLink(every uint16) *lossyLink {
	return &lossyLink{every: every, dropped: map[uint32][]uint16{}, tags: map[uint32][2][]byte{}, rrAbout: map[uint32]bool{}}
}

func (l *lossyLink) NewInterceptor(string) (interceptor.Interceptor, error) { return l, nil }

func (l *lossyLink) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	var midID, ridID, rridID uint8
	for _, e := range info.RTPHeaderExtensions {
		switch e.URI {
		case sdp.SDESMidURI:
			midID = uint8(e.ID)
		case sdp.SDESRTPStreamIDURI:
			ridID = uint8(e.ID)
		case sdp.SDESRepairRTPStreamIDURI:
			rridID = uint8(e.ID)
		}
	}
	media, repair := info.SSRC, info.SSRCRetransmission
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		l.mu.Lock()
		switch {
		case h.SSRC == media && info.MimeType != webrtc.MimeTypeOpus:
			if mid, rid := h.GetExtension(midID), h.GetExtension(ridID); mid != nil && rid != nil {
				l.tags[media] = [2][]byte{slices.Clone(mid), slices.Clone(rid)}
			}
			if h.SequenceNumber%l.every == 0 && !slices.Contains(l.dropped[media], h.SequenceNumber) {
				l.dropped[media] = append(l.dropped[media], h.SequenceNumber)
				l.mu.Unlock()
				return len(payload), nil
			}
		case h.SSRC == repair && repair != 0:
			l.rtx.Add(1)
			if tag, ok := l.tags[media]; ok && rridID != 0 {
				_ = h.SetExtension(midID, tag[0])
				_ = h.SetExtension(rridID, tag[1])
			}
		}
		l.mu.Unlock()
		return w.Write(h, payload, a)
	})
}

func (l *lossyLink) BindRTCPReader(r interceptor.RTCPReader) interceptor.RTCPReader {
	return interceptor.RTCPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, a, err := r.Read(b, a)
		if err != nil {
			return n, a, err
		}
		pkts, uerr := rtcp.Unmarshal(b[:n])
		if uerr != nil {
			return n, a, err
		}
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.TransportLayerNack:
				l.nacks.Add(1)
			case *rtcp.TransportLayerCC:
				if p.PacketStatusCount > 0 {
					l.twccs.Add(1)
				}
			case *rtcp.ReceiverReport:
				l.mu.Lock()
				for _, rr := range p.Reports {
					l.rrAbout[rr.SSRC] = true
				}
				l.mu.Unlock()
			}
		}
		return n, a, err
	})
}

// droppedOf returns how many packets were dropped and whether receiver
// reports came about each SSRC they were dropped from.
func (l *lossyLink) droppedOf() (n int, reported bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	reported = len(l.dropped) > 0
	for ssrc, seqs := range l.dropped {
		n += len(seqs)
		reported = reported && l.rrAbout[ssrc]
	}
	return n, reported
}

// lossyAPI is a browser-like publisher's API: VP8 with retransmissions
// (RTX), NACK and transport-cc negotiated, pion's NACK responder and
// transport-wide numbering, and link beneath them.
func lossyAPI(t *testing.T, link *lossyLink) *webrtc.API {
	t.Helper()
	m := &webrtc.MediaEngine{}
	fb := []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: webrtc.TypeRTCPFBTransportCC}}
	for _, c := range []struct {
		p    webrtc.RTPCodecParameters
		kind webrtc.RTPCodecType
	}{
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, PayloadType: 111}, webrtc.RTPCodecTypeAudio},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: fb}, PayloadType: 96}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeRTX, ClockRate: 90000, SDPFmtpLine: "apt=96"}, PayloadType: 97}, webrtc.RTPCodecTypeVideo},
	} {
		if err := m.RegisterCodec(c.p, c.kind); err != nil {
			t.Fatal(err)
		}
	}
	if err := webrtc.ConfigureSimulcastExtensionHeaders(m); err != nil {
		t.Fatal(err)
	}
	if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.TransportCCURI}, webrtc.RTPCodecTypeVideo); err != nil {
		t.Fatal(err)
	}
	responder, err := nack.NewResponderInterceptor()
	if err != nil {
		t.Fatal(err)
	}
	numbers, err := twcc.NewHeaderExtensionInterceptor()
	if err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	ir.Add(link) // innermost: nearest the wire
	ir.Add(numbers)
	ir.Add(responder)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(loopbackSettings()), webrtc.WithInterceptorRegistry(ir))
}

// TestVideoLossRecovered: a publisher sends VP8 in three simulcast layers
// (or one stream) over a link that loses one packet in ten. The server
// asks for each lost packet again (NACK), the publisher retransmits it on
// its RTX stream (named, for a simulcast layer, only by its first
// packets' repaired rid), and the subscriber receives every packet of the
// layer it gets; the publisher gets transport-cc feedback for its
// bandwidth estimate and receiver reports about each stream. The same
// holds with video on the receive fast path (what it reads there, RTX
// included) and on pion's.
func TestVideoLossRecovered(t *testing.T) {
	for _, c := range []struct {
		name string
		rids []string
		cfg  Config
	}{
		{"simulcast/fast", []string{"q", "h", "f"}, Config{}},
		{"single/fast", []string{""}, Config{}},
		{"simulcast/pion", []string{"q", "h", "f"}, Config{DisableVideoFastPath: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			room := newTestRoomConfig(t, c.cfg)
			link := newLossyLink(10)
			pub := room.join("pub", clientOpts{rids: c.rids, api: lossyAPI(t, link)})
			sub := room.join("sub", clientOpts{})
			top := byte(len(c.rids) - 1)
			waitFor(t, "sub receives the top layer", func() bool { return lastLayerIs(sub, "pub", top) })
			start := len(videoFrom(sub, "pub"))
			waitFor(t, "sub receives 150 packets more", func() bool { return len(videoFrom(sub, "pub")) >= start+150 })
			waitFor(t, "losses, NACKs, retransmissions and feedback", func() bool {
				n, reported := link.droppedOf()
				return n >= 10 && reported && link.nacks.Load() > 0 && link.rtx.Load() > 0 && link.twccs.Load() > 0
			})
			// Feedback goes on about what arrives now, not only about a
			// stream's first packets.
			fb := link.twccs.Load()
			waitFor(t, "more transport-cc feedback", func() bool { return link.twccs.Load() >= fb+5 })
			// Every packet of the top layer from start to near the end
			// arrived, the lost ones retransmitted.
			var seqs []uint16
			for _, p := range videoFrom(sub, "pub")[start:] {
				if p.layer == top {
					seqs = append(seqs, p.seq)
				}
			}
			slices.Sort(seqs)
			seqs = slices.Compact(seqs)
			if len(seqs) < 100 {
				t.Fatalf("sub received %d packets of layer %d", len(seqs), top)
			}
			// The newest few may still be on their way back.
			const tail = 20
			first, last := seqs[0], seqs[len(seqs)-1]-tail
			var missing []uint16
			for s := first; s != last; s++ {
				if _, ok := slices.BinarySearch(seqs, s); !ok {
					missing = append(missing, s)
				}
			}
			if len(missing) > 0 {
				t.Errorf("sub is missing %d packets of %d: %v", len(missing), last-first, missing)
			}
			stats := room.engine.Stats()
			in := pub.peer.fast.in.Load()
			if c.cfg.DisableVideoFastPath {
				if n := stats.FastReceived.Load(); n != 0 {
					t.Errorf("%d packets on the fast path, want none", n)
				}
				return
			}
			if n := stats.FastReceived.Load(); n < 100 {
				t.Errorf("%d packets on the fast path, want video there", n)
			}
			var media, rtx int
			for _, s := range *in.streams.Load() {
				if s.rtx {
					rtx++
				} else {
					media++
				}
			}
			if media != len(c.rids) || rtx == 0 {
				t.Errorf("the fast path reads %d media and %d RTX streams, want %d and some", media, rtx, len(c.rids))
			}
		})
	}
}

// TestReceiveRTX: on the fast path a retransmission opens with its own
// stream's SRTP state and goes out as the packet it repairs; a replayed or
// tampered one reaches nobody, and a padding-only one (a bandwidth probe)
// is taken but not forwarded. A layer's retransmission SSRC, not known
// beforehand, is adopted from the first packet that names the layer by
// its repaired rid and opens with the publisher's keys; a forged one is
// not.
func TestReceiveRTX(t *testing.T) {
	tr, w, tx, g := fastRecvFixture(t, srtp.ProtectionProfileAeadAes128Gcm)
	l := tr.layer(0)
	l.rid = "q"
	media := &fastStream{t: tr, l: l, pt: 111, mid: "0"}
	in := &fastIn{open: g, guard: &ingress{}}
	in.guard.sim.Store(&simulcastSpec{midID: 1, ridID: 2, rridID: 3, rids: 1,
		sections: []simulcastSection{{mid: "0", rids: []string{"q"}}}})
	in.edit(func(m map[uint32]*fastStream) { m[l.ssrc] = media })
	in.waitRepair(media)
	f := &peerFast{}
	f.in.Store(in)
	stats := &Stats{}
	var pkt rtp.Packet
	now := time.Now().UnixNano()

	rtx := func(seq, osn uint16, body string, named bool) []byte {
		h := rtp.Header{Version: 2, PayloadType: 97, SequenceNumber: seq, Timestamp: 9000, SSRC: 0xbeef}
		if named {
			_ = h.SetExtension(1, []byte("0"))
			_ = h.SetExtension(3, []byte("q"))
		}
		payload := binary.BigEndian.AppendUint16(nil, osn)
		return sealed(t, tx, h, append(payload, body...))
	}
	// Forged: named, but not sealed with the publisher's keys.
	forged := rtx(1, 7, "forged", true)
	forged[len(forged)-1] ^= 1
	if f.receive(forged, now, &pkt, stats, nil) {
		t.Fatal("a forged retransmission was taken")
	}
	if s := (*in.streams.Load())[0xbeef]; s != nil {
		t.Fatal("a forged retransmission's SSRC was adopted")
	}
	first := rtx(2, 7, "seven", true)
	replay := bytes.Clone(first)
	if !f.receive(first, now, &pkt, stats, nil) {
		t.Fatal("the first retransmission was not taken")
	}
	if s := (*in.streams.Load())[0xbeef]; s == nil || !s.rtx || s.l != l {
		t.Fatalf("the retransmission SSRC was not adopted as layer q's: %+v", s)
	}
	if len(*in.repairs.Load()) != 0 {
		t.Error("layer q still waits for its retransmissions")
	}
	// Unnamed, as later ones are.
	if !f.receive(rtx(3, 8, "eight", false), now, &pkt, stats, nil) {
		t.Fatal("a later retransmission was not taken")
	}
	f.receive(replay, now, &pkt, stats, nil)
	bad := rtx(4, 9, "nine", false)
	bad[20] ^= 0xff
	f.receive(bad, now, &pkt, stats, nil)
	probe, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 97, SequenceNumber: 5, Timestamp: 9000,
		SSRC: 0xbeef, Padding: true}, PaddingSize: 200}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if probe, err = tx.EncryptRTP(nil, probe, nil); err != nil {
		t.Fatal(err)
	}
	received := stats.FastReceived.Load()
	if !f.receive(probe, now, &pkt, stats, nil) || stats.FastReceived.Load() != received+1 {
		t.Error("a probe was not taken")
	}
	if !slices.Equal(w.seqs, []uint16{7, 8}) || string(w.payloads[0]) != "seven" || string(w.payloads[1]) != "eight" {
		t.Errorf("forwarded %v %q, want the repaired packets 7 and 8", w.seqs, w.payloads)
	}
	if n := stats.FastRejected.Load(); n != 2 {
		t.Errorf("%d refused, want the replay and the tampered one", n)
	}
}
