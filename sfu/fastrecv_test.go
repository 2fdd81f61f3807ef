package sfu

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// recordWriter keeps what a subscriber was sent.
type recordWriter struct {
	seqs     []uint16
	payloads [][]byte
}

func (w *recordWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.seqs = append(w.seqs, h.SequenceNumber)
	w.payloads = append(w.payloads, bytes.Clone(payload))
	return 12 + len(payload), nil
}

// fastRecvFixture is a published audio track with one subscriber, the
// publisher's SRTP context (pion's, as a browser's stack would encrypt)
// and the fast path's cipher for it.
func fastRecvFixture(t *testing.T, profile srtp.ProtectionProfile, opts ...srtp.ContextOption) (*publishedTrack, *recordWriter, *srtp.Context, *gcmSealer) {
	t.Helper()
	key, salt := testKeys(profile)
	tx, err := srtp.CreateContext(key, salt, profile, opts...)
	if err != nil {
		t.Fatal(err)
	}
	g, err := newGCMSealer(key, salt, profile)
	if err != nil {
		t.Fatal(err)
	}
	w := &recordWriter{}
	tr := benchTrack(1, func(int) rtpWriter { return w })
	tr.layer(0).rx.clockRate = 48000
	return tr, w, tx, g
}

// fastOf is tr's first layer as the fast path reads it, g opening it.
func fastOf(tr *publishedTrack, g *gcmSealer) (*fastStream, *fastIn) {
	return &fastStream{t: tr, l: tr.layer(0)}, &fastIn{open: g}
}

func sealed(t *testing.T, tx *srtp.Context, h rtp.Header, payload []byte) []byte {
	t.Helper()
	plain, err := (&rtp.Packet{Header: h, Payload: payload}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	enc, err := tx.EncryptRTP(nil, plain, nil)
	if err != nil {
		t.Fatal(err)
	}
	return enc
}

// TestReceiveSRTP: what a publisher's SRTP stack sends opens on the fast
// path and reaches the subscriber intact, across a sequence number wrap,
// with a late packet, CSRCs, header extensions and padding, with header
// extensions and CSRCs encrypted too (RFC 9335, cryptex) or not; a
// replayed, a tampered and a too-old packet reach nobody.
func TestReceiveSRTP(t *testing.T) {
	for _, c := range []struct {
		profile srtp.ProtectionProfile
		opts    []srtp.ContextOption
	}{
		{srtp.ProtectionProfileAeadAes128Gcm, nil},
		{srtp.ProtectionProfileAeadAes256Gcm, nil},
		{srtp.ProtectionProfileAeadAes128Gcm, []srtp.ContextOption{srtp.Cryptex(srtp.CryptexModeEnabled)}},
	} {
		profile := c.profile
		tr, w, tx, g := fastRecvFixture(t, profile, c.opts...)
		s, in := fastOf(tr, g)
		var pkt rtp.Packet
		now := time.Now().UnixNano()
		var want []uint16
		var replay, late []byte
		for i, seq := range []uint16{65533, 65534, 0, 65535, 1, 2} {
			h := rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: seq, Timestamp: uint32(960 * i), SSRC: 0xfeed}
			payload := bytes.Repeat([]byte{byte(seq)}, 60)
			switch i {
			case 1:
				h.CSRC = []uint32{7}
			case 2:
				if err := h.SetExtension(1, []byte{0x90}); err != nil {
					t.Fatal(err)
				}
				h.CSRC = []uint32{8, 9}
			case 4:
				h.Padding, h.PaddingSize = true, 4
			}
			enc := sealed(t, tx, h, payload)
			if i == 2 && c.opts != nil {
				if p := binary.BigEndian.Uint16(enc[12+8:]); p != rtp.CryptexProfileOneByte {
					t.Fatalf("cryptex context sent profile %#x", p)
				}
			}
			if i == 3 {
				late = enc
				continue
			}
			if i == 1 {
				replay = bytes.Clone(enc)
			}
			if !tr.receiveSRTP(s, in, enc, now, &pkt, nil) {
				t.Fatalf("%v: seq %d refused", profile, seq)
			}
			want = append(want, seq)
			if got := w.payloads[len(w.payloads)-1]; !bytes.Equal(got, payload) {
				t.Fatalf("%v: seq %d: payload %x, want %x", profile, seq, got, payload)
			}
			if i == 2 {
				if ext := pkt.GetExtension(1); !bytes.Equal(ext, []byte{0x90}) || len(pkt.CSRC) != 2 || pkt.CSRC[1] != 9 {
					t.Fatalf("%v: extension %x, CSRCs %v after opening", profile, ext, pkt.CSRC)
				}
			}
		}
		if !tr.receiveSRTP(s, in, late, now, &pkt, nil) {
			t.Fatalf("%v: late packet from before the wrap refused", profile)
		}
		want = append(want, 65535)
		if tr.receiveSRTP(s, in, replay, now, &pkt, nil) {
			t.Fatalf("%v: replayed packet accepted", profile)
		}
		bad := sealed(t, tx, rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: 3, SSRC: 0xfeed}, []byte("x"))
		bad[len(bad)-1] ^= 1
		if tr.receiveSRTP(s, in, bad, now, &pkt, nil) {
			t.Fatalf("%v: tampered packet accepted", profile)
		}
		// 100 packets later, one from before the window is refused.
		var old []byte
		for seq := uint16(3); seq < 103; seq++ {
			enc := sealed(t, tx, rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: seq, SSRC: 0xfeed}, []byte("y"))
			if seq == 3 {
				old = enc
				continue
			}
			if !tr.receiveSRTP(s, in, enc, now, &pkt, nil) {
				t.Fatalf("%v: seq %d refused", profile, seq)
			}
			want = append(want, seq)
		}
		if tr.receiveSRTP(s, in, old, now, &pkt, nil) {
			t.Fatalf("%v: packet 99 behind accepted", profile)
		}
		if len(w.seqs) != len(want) {
			t.Fatalf("%v: subscriber got %d packets, want %d", profile, len(w.seqs), len(want))
		}
		for i := range want {
			if w.seqs[i] != want[i] {
				t.Fatalf("%v: packet %d has seq %d, want %d", profile, i, w.seqs[i], want[i])
			}
		}
		if got := tr.layer(0).received.Load(); got != uint64(len(want)) {
			t.Fatalf("%v: received %d, want %d", profile, got, len(want))
		}
	}
}

// TestReceiveSRTPStartsAfterWrap: the fast path takes over a stream pion
// has been receiving; if pion already saw the sequence number wrap, the
// first packet still opens.
func TestReceiveSRTPStartsAfterWrap(t *testing.T) {
	tr, w, tx, g := fastRecvFixture(t, srtp.ProtectionProfileAeadAes128Gcm)
	s, in := fastOf(tr, g)
	h := rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: 65535, SSRC: 9}
	_ = sealed(t, tx, h, []byte("before"))
	var pkt rtp.Packet
	for seq := uint16(0); seq < 3; seq++ {
		h.SequenceNumber = seq
		if !tr.receiveSRTP(s, in, sealed(t, tx, h, []byte("after")), 0, &pkt, nil) {
			t.Fatalf("seq %d refused", seq)
		}
	}
	if len(w.seqs) != 3 || s.srtp.roc != 1 {
		t.Fatalf("forwarded %d, roc %d; want 3, 1", len(w.seqs), s.srtp.roc)
	}
}

func TestIsRTP(t *testing.T) {
	rtpPkt, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111}}).Marshal()
	for _, c := range []struct {
		name string
		b    []byte
		want bool
	}{
		{"rtp", rtpPkt, true},
		{"rtp marker pt 96", append([]byte{0x80, 0x80 | 96}, make([]byte, 10)...), true},
		{"rtcp sr", append([]byte{0x80, 200}, make([]byte, 26)...), false},
		{"rtcp rr", append([]byte{0x81, 201}, make([]byte, 30)...), false},
		{"stun", append([]byte{0x00, 0x01}, make([]byte, 18)...), false},
		{"dtls", append([]byte{22, 0xfe}, make([]byte, 20)...), false},
		{"short", []byte{0x80, 111}, false},
	} {
		if got := isRTP(c.b); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestLocalUfrag(t *testing.T) {
	sdp := "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\na=ice-ufrag:AbCd\r\na=ice-pwd:x\r\n"
	if got := localUfrag(sdp); got != "AbCd" {
		t.Fatalf("ufrag %q", got)
	}
	if got := localUfrag("v=0\r\n"); got != "" {
		t.Fatalf("ufrag %q from none", got)
	}
}

// TestReceiverReport: the report on a stream counts loss overall and since
// the last report, the extended highest sequence number across a wrap,
// jitter from uneven arrival, and echoes the last sender report.
func TestReceiverReport(t *testing.T) {
	s := rxStats{clockRate: 48000}
	if _, ok := s.report(1, 0); ok {
		t.Fatal("report before any packet")
	}
	t0 := time.Unix(1000, 0).UnixNano()
	const step = 20 * time.Millisecond
	// 100 packets on time from 65500, across the wrap, two of them lost.
	for i := range 100 {
		if i == 10 || i == 50 {
			continue
		}
		s.update(uint16(65500+i), uint32(960*i), t0+int64(i)*int64(step))
	}
	s.senderReport(0x0102030405060708, t0+int64(50*step))
	now := t0 + int64(100*step)
	r, ok := s.report(1, now)
	if !ok {
		t.Fatal("no report")
	}
	if r.TotalLost != 2 || r.FractionLost != 2*256/100 {
		t.Fatalf("lost %d, fraction %d; want 2, %d", r.TotalLost, r.FractionLost, 2*256/100)
	}
	if want := uint32(1<<16 | 63); r.LastSequenceNumber != want {
		t.Fatalf("highest %#x, want %#x", r.LastSequenceNumber, want)
	}
	if r.Jitter > 1 {
		t.Fatalf("jitter %d on a steady stream", r.Jitter)
	}
	if r.LastSenderReport != 0x03040506 || r.Delay != 65536 {
		t.Fatalf("LSR %#x DLSR %d, want 0x03040506 65536", r.LastSenderReport, r.Delay)
	}
	// Next interval: no loss, but every other packet 10 ms late.
	for i := 100; i < 200; i++ {
		at := t0 + int64(i)*int64(step)
		if i%2 == 1 {
			at += int64(10 * time.Millisecond)
		}
		s.update(uint16(65500+i), uint32(960*i), at)
	}
	r, _ = s.report(1, t0+int64(200*step))
	if r.TotalLost != 2 || r.FractionLost != 0 {
		t.Fatalf("lost %d, fraction %d; want 2, 0", r.TotalLost, r.FractionLost)
	}
	// 10 ms is 480 units at 48 kHz; the estimate converges toward it.
	if r.Jitter < 300 || r.Jitter > 480 {
		t.Fatalf("jitter %d, want about 480", r.Jitter)
	}
}

// BenchmarkReceiveSRTP measures the receive fast path for one audio packet
// with an audio level extension: authenticate and decrypt, replay check,
// parse, and fan out to 11 subscribers (pion's writer replaced by a
// counter); "+feedback" adds what video's packets cost besides: a
// transport-wide sequence number recorded for the publisher's feedback
// and the sequence number in the layer's NACK log. It must not allocate.
func BenchmarkReceiveSRTP(b *testing.B) {
	for _, c := range []struct {
		name     string
		opts     []srtp.ContextOption
		feedback bool
	}{
		{"gcm", nil, false},
		{"gcm+cryptex", []srtp.ContextOption{srtp.Cryptex(srtp.CryptexModeEnabled)}, false},
		{"gcm+feedback", nil, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			key, salt := testKeys(srtp.ProtectionProfileAeadAes256Gcm)
			tx, err := srtp.CreateContext(key, salt, srtp.ProtectionProfileAeadAes256Gcm, c.opts...)
			if err != nil {
				b.Fatal(err)
			}
			g, err := newGCMSealer(key, salt, srtp.ProtectionProfileAeadAes256Gcm)
			if err != nil {
				b.Fatal(err)
			}
			tr := benchTrack(11, func(int) rtpWriter { return &discardWriter{} })
			tr.layer(0).rx.clockRate = 48000
			s, in := fastOf(tr, g)
			if c.feedback {
				in.fb = newFeedback(time.Now())
				in.fb.extID.Store(2)
				tr.layer(0).nack = &nackLog{}
			}
			// Packets sealed ahead, so the loop measures the receive side.
			const n = 4096
			wire := make([][]byte, n)
			h := rtp.Header{Version: 2, PayloadType: 111, SSRC: 5}
			if err := h.SetExtension(1, []byte{0x90}); err != nil {
				b.Fatal(err)
			}
			payload := make([]byte, 80)
			for i := range wire {
				h.SequenceNumber = uint16(i)
				h.Timestamp = uint32(960 * i)
				if c.feedback {
					if err := h.SetExtension(2, binary.BigEndian.AppendUint16(nil, uint16(i))); err != nil {
						b.Fatal(err)
					}
				}
				plain, _ := (&rtp.Packet{Header: h, Payload: payload}).Marshal()
				if wire[i], err = tx.EncryptRTP(nil, plain, nil); err != nil {
					b.Fatal(err)
				}
			}
			buf := make([]byte, 1500)
			var pkt rtp.Packet
			now := time.Now().UnixNano()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if i > 0 && i%n == 0 {
					b.StopTimer() // a fresh stream: the sealed packets repeat
					s.srtp = srtpIn{}
					b.StartTimer()
				}
				if c.feedback && i%64 == 0 {
					b.StopTimer() // the feedback ticker's part
					in.fb.build()
					tr.layer(0).nack.missing(nil)
					b.StartTimer()
				}
				w := wire[i%n]
				if !tr.receiveSRTP(s, in, buf[:copy(buf, w)], now+int64(i)*20_000, &pkt, nil) {
					b.Fatalf("packet %d refused", i)
				}
			}
		})
	}
}
