package sfu

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
)

// TestAbsSendTimeValue: the value is the NTP-based 6.18 fixed-point send
// time, as pion computes it.
func TestAbsSendTimeValue(t *testing.T) {
	for _, at := range []time.Time{
		time.Unix(0, 0), time.Unix(63, 999_999_999), time.Unix(64, 0),
		time.Date(2026, 12, 3, 10, 30, 0, 123_456_789, time.UTC), time.Unix(1<<33, 500_000_000),
	} {
		want := uint32(rtp.NewAbsSendTimeExtension(at).Timestamp & 0xffffff)
		if got := absSendTime(at.UnixNano()); got != want {
			t.Errorf("%v: %#06x, want %#06x", at, got, want)
		}
	}
}

// TestAbsStampCombines: the send time joins an extension a header already
// has, or starts the one-byte form, and setting it allocates nothing.
func TestAbsStampCombines(t *testing.T) {
	var a absStamp
	at := time.Date(2026, 12, 3, 10, 30, 0, 0, time.UTC).UnixNano()
	v := absSendTime(at)
	want := []byte{byte(v >> 16), byte(v >> 8), byte(v)}

	h := rtp.Header{Version: 2, PayloadType: 96, SSRC: 1}
	a.set(&h, 3, at)
	if !h.Extension || h.ExtensionProfile != rtp.ExtensionProfileOneByte || !bytes.Equal(h.GetExtension(3), want) {
		t.Fatalf("alone: extension %v, profile %#x, value %x, want %x in the one-byte form", h.Extension, h.ExtensionProfile, h.GetExtension(3), want)
	}

	h = rtp.Header{Version: 2, PayloadType: 96, SSRC: 1}
	if err := h.SetExtension(1, []byte("0")); err != nil {
		t.Fatal(err)
	}
	h.Extensions = h.Extensions[:1:1] // full: adding must not grow it
	a.set(&h, 3, at)
	buf := make([]byte, 64)
	n, err := h.MarshalTo(buf)
	if err != nil {
		t.Fatal(err)
	}
	var back rtp.Header
	if _, err := back.Unmarshal(buf[:n]); err != nil {
		t.Fatal(err)
	}
	if string(back.GetExtension(1)) != "0" || !bytes.Equal(back.GetExtension(3), want) || len(back.GetExtensionIDs()) != 2 {
		t.Errorf("with another: ids %v, 1 = %q, 3 = %x; want 1 = \"0\" and 3 = %x", back.GetExtensionIDs(), back.GetExtension(1), back.GetExtension(3), want)
	}

	h = rtp.Header{Version: 2, PayloadType: 96, SSRC: 1}
	a.set(&h, 0, at)
	if h.Extension {
		t.Error("an extension added with no id negotiated")
	}

	if n := testing.AllocsPerRun(100, func() {
		h := rtp.Header{Version: 2, PayloadType: 96, SSRC: 1}
		a.set(&h, 3, at)
		if _, err := h.MarshalTo(buf); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("setting and writing the send time allocates %.1f times", n)
	}
}

// stampWriter keeps, of each packet written, its SSRC and its
// abs-send-time at id (the header's extensions are the writer's to copy).
type stampWriter struct {
	id   uint8
	pkts []stamped
}

type stamped struct {
	ssrc uint32
	ids  int
	abs  []byte
	size int // header and payload
}

func (w *stampWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.pkts = append(w.pkts, stamped{ssrc: h.SSRC, ids: len(h.GetExtensionIDs()), abs: bytes.Clone(h.GetExtension(w.id)), size: h.MarshalSize() + len(payload)})
	return len(payload), nil
}

// TestSendTimeOnEveryPath: forwarded video, its probe duplicates and its
// retransmissions (on RTX) all carry the send time at the subscriber's
// id: a forwarded packet the time its fan-out began, a resent one the
// time its NACK was taken.
func TestSendTimeOnEveryPath(t *testing.T) {
	w := &stampWriter{id: 7}
	pub, d := rtxVideo(t, w)
	d.bound.Store(&binding{ssrc: 1000, pt: 96, w: w, rtxSSRC: 2000, rtxPT: 97, absID: 7})
	d.sub.bw.probeLeft.Store(2 * int64(wireOverhead+2+1000))
	base := time.Date(2026, 12, 3, 10, 30, 0, 0, time.UTC).UnixNano()
	var sent []uint32
	for i := range 4 {
		p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: uint16(i + 1), Timestamp: uint32(i) * 3000, Marker: true, SSRC: 100},
			Payload: make([]byte, 1000)}
		p.Payload[0] = 0x10
		if i > 0 {
			p.Payload[1] = 0x01
		}
		at := base + int64(i)*int64(33*time.Millisecond)
		sent = append(sent, absSendTime(at))
		pub.fwdMu.Lock()
		pub.handleLocked(pub.layer(0), p, at)
		pub.fwdMu.Unlock()
	}
	// Four forwarded, the first two duplicated for the probe.
	wantFanout := []int{0, 0, 1, 1, 2, 3}
	wantSSRC := []uint32{1000, 2000, 1000, 2000, 1000, 1000}
	if len(w.pkts) != len(wantSSRC) {
		t.Fatalf("%d packets written, want %d", len(w.pkts), len(wantSSRC))
	}
	for i, p := range w.pkts {
		v := sent[wantFanout[i]]
		if want := []byte{byte(v >> 16), byte(v >> 8), byte(v)}; p.ssrc != wantSSRC[i] || !bytes.Equal(p.abs, want) || p.ids != 1 {
			t.Errorf("packet %d: SSRC %d, send time %x, %d extensions; want SSRC %d, %x alone", i, p.ssrc, p.abs, p.ids, wantSSRC[i], want)
		}
	}

	w.pkts = w.pkts[:0]
	before := absSendTime(time.Now().UnixNano())
	nack := &rtcp.TransportLayerNack{Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{d.lastSeq - 1, d.lastSeq})}
	if n := d.resend(nack, d.slot); n != 2 {
		t.Fatalf("%d resent, want 2", n)
	}
	span := (absSendTime(time.Now().UnixNano()) - before) & 0xffffff
	for i, p := range w.pkts {
		if len(p.abs) != 3 || p.ssrc != 2000 {
			t.Errorf("resent %d: SSRC %d, send time %x; want on RTX with one", i, p.ssrc, p.abs)
			continue
		}
		v := uint32(p.abs[0])<<16 | uint32(p.abs[1])<<8 | uint32(p.abs[2])
		if (v-before)&0xffffff > span {
			t.Errorf("resent %d: send time %#06x, not between %#06x and %#06x when it was resent", i, v, before, (before+span)&0xffffff)
		}
	}

	d.bound.Store(&binding{ssrc: 1000, pt: 96, w: &discardWriter{}, absID: 7})
	if a := forwardAllocs(pub, base); a != 0 {
		t.Errorf("forwarding with the send time allocates %.1f times a packet", a)
	}
}

// forwardAllocs is how many times forwarding one video packet of pub at
// unixNs allocates, once the history's buffers are made.
func forwardAllocs(pub *publishedTrack, unixNs int64) float64 {
	p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, Marker: true, SSRC: 100, SequenceNumber: 10}, Payload: make([]byte, 1000)}
	p.Payload[0], p.Payload[1] = 0x10, 0x01
	forward := func() {
		p.SequenceNumber++
		p.Timestamp += 3000
		pub.fwdMu.Lock()
		pub.handleLocked(pub.layer(0), p, unixNs)
		pub.fwdMu.Unlock()
	}
	for range historySize {
		forward() // the history's buffers are made on first use
	}
	return testing.AllocsPerRun(100, forward)
}

// sendTimeIDs are the ids the server's description gives abs-send-time in
// its video sections and in its audio ones.
func sendTimeIDs(t *testing.T, desc string) (video, audio []int) {
	t.Helper()
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(desc); err != nil {
		t.Fatal(err)
	}
	for _, m := range sd.MediaDescriptions {
		for _, a := range m.Attributes {
			if a.Key != "extmap" || !strings.Contains(a.Value, sdp.ABSSendTimeURI) {
				continue
			}
			var e sdp.ExtMap
			if err := e.Unmarshal("extmap:" + a.Value); err != nil {
				t.Fatal(err)
			}
			if m.MediaName.Media == "video" {
				video = append(video, e.Value)
			} else {
				audio = append(audio, e.Value)
			}
		}
	}
	return video, audio
}

// TestSendTimeForwarded: pion subscribers get the server's video with
// abs-send-time at the id negotiated in the server's offer, on the fast
// path and on pion's: every packet, its value between when the test began
// and when the packet was read, never going back. Audio carries none, and
// a subscriber that did not negotiate it gets video with no extension.
func TestSendTimeForwarded(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		fast int32
	}{
		{"fast path", Config{}, fastReady},
		{"pion's path", Config{DisableAudioFastPath: true}, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := absSendTime(time.Now().UnixNano())
			room := newTestRoomConfig(t, tc.cfg)
			room.join("pub", clientOpts{audio: true, rids: []string{""}})
			sub := room.join("sub", clientOpts{})
			plain := room.join("plain", clientOpts{noSendTime: true})
			for _, c := range []*testClient{sub, plain} {
				waitFor(t, c.id+" receives 50 video packets and some audio", func() bool {
					a := c.stream("pub", KindAudio)
					return len(videoFrom(c, "pub")) >= 50 && a != nil && len(a.packets()) > 0
				})
			}
			// What has arrived so far was sent before now.
			pkts := videoFrom(sub, "pub")
			end := absSendTime(time.Now().UnixNano())
			if f := sub.peer.fast; tc.fast == fastReady && (f == nil || f.state.Load() != fastReady) {
				t.Fatal("the subscriber is not on the fast path")
			} else if tc.fast < 0 && f != nil && f.state.Load() == fastReady {
				t.Fatal("the subscriber is on the fast path")
			}

			video, audio := sendTimeIDs(t, sub.pc.CurrentRemoteDescription().SDP)
			if len(video) == 0 || len(audio) != 0 {
				t.Fatalf("the server's offer gives abs-send-time ids %v for video and %v for audio, want some for video only", video, audio)
			}
			var got []int
			for _, x := range sub.pc.GetTransceivers() {
				for _, e := range x.Receiver().GetParameters().HeaderExtensions {
					if e.URI == sdp.ABSSendTimeURI {
						got = append(got, e.ID)
					}
				}
			}
			for _, id := range got {
				if id != video[0] {
					t.Errorf("the subscriber negotiated id %d, the server offered %v", id, video)
				}
			}

			span := (end - start) & 0xffffff
			var last uint32
			for i, p := range pkts {
				if !p.hasSendTime || p.extensions != 1 {
					t.Fatalf("video packet %d of %d: send time %v, %d extensions; want it alone", i, len(pkts), p.hasSendTime, p.extensions)
				}
				off := (p.sendTime - start) & 0xffffff
				if off > span {
					t.Fatalf("video packet %d: send time %#06x outside the test's %#06x to %#06x", i, p.sendTime, start, end)
				}
				if i > 0 && off < last {
					t.Fatalf("video packet %d: send time goes back from %#06x to %#06x", i, (start+last)&0xffffff, p.sendTime)
				}
				last = off
			}
			if first := (pkts[0].sendTime - start) & 0xffffff; last == first {
				t.Errorf("the send time stayed at %#06x over %d packets", pkts[0].sendTime, len(pkts))
			}
			for _, p := range sub.stream("pub", KindAudio).packets() {
				if p.extensions != 0 {
					t.Fatalf("audio packet with %d extensions", p.extensions)
				}
			}
			if video, _ := sendTimeIDs(t, plain.pc.CurrentLocalDescription().SDP); len(video) != 0 {
				t.Errorf("the client that does not know abs-send-time answered it with ids %v", video)
			}
			for _, p := range videoFrom(plain, "pub") {
				if p.extensions != 0 {
					t.Fatalf("video with %d extensions to a subscriber that negotiated none", p.extensions)
				}
			}
		})
	}
}
