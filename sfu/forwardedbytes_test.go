package sfu

import (
	"testing"
	"time"

	"github.com/pion/rtp"
)

// sizeWriter adds up the RTP bytes written: header as marshalled, and
// payload.
type sizeWriter struct{ bytes, pkts int }

func (w *sizeWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.bytes += h.MarshalSize() + len(payload)
	w.pkts++
	return len(payload), nil
}

// TestForwardedBytesAsSent: the forwarded-bytes count is what the
// subscriber is sent: the publisher's own header extension stripped, and
// the send time added to video for a subscriber that negotiated it (8
// bytes: the one-byte extension header and the value), not for one that
// did not.
func TestForwardedBytesAsSent(t *testing.T) {
	for _, tc := range []struct {
		name  string
		absID uint8
		extra int
	}{{"send time", 7, 8}, {"no send time", 0, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			w := &sizeWriter{}
			pub, d := rtxVideo(t, w)
			d.bound.Store(&binding{ssrc: 1000, pt: 96, w: w, rtxSSRC: 2000, rtxPT: 97, absID: tc.absID})
			base := time.Date(2026, 12, 3, 10, 30, 0, 0, time.UTC).UnixNano()
			const n, payload = 5, 1000
			for i := range n {
				p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: uint16(i + 1),
					Timestamp: uint32(i) * 3000, Marker: true, SSRC: 100}, Payload: make([]byte, payload)}
				if err := p.SetExtension(3, []byte{1, 2}); err != nil { // the publisher's, stripped
					t.Fatal(err)
				}
				p.Payload[0] = 0x10
				if i > 0 {
					p.Payload[1] = 0x01
				}
				pub.fwdMu.Lock()
				pub.handleLocked(pub.layer(0), p, base+int64(i)*int64(33*time.Millisecond))
				pub.fwdMu.Unlock()
			}
			if w.pkts != n {
				t.Fatalf("%d packets written, want %d", w.pkts, n)
			}
			want := n * (12 + tc.extra + payload)
			if got := pub.stats.BytesForwarded.Load(); got != uint64(w.bytes) || w.bytes != want {
				t.Fatalf("forwarded bytes counted %d, written %d; want %d", got, w.bytes, want)
			}
			if got := pub.stats.PacketsForwarded.Load(); got != n {
				t.Fatalf("forwarded packets counted %d, want %d", got, n)
			}
		})
	}
}
