package sfu

import (
	"encoding/binary"
	"testing"

	"github.com/pion/rtp"
)

// TestProbeDuplicates: while a subscriber's link is probed, packets
// forwarded to it go again on its RTX stream, as retransmissions of what
// it was just sent, until the probe's bytes are spent; with no probe,
// nothing more is sent, and forwarding allocates nothing.
func TestProbeDuplicates(t *testing.T) {
	w := &recordingWriter{}
	pub, d := rtxVideo(t, w)
	var seq uint16
	sendFrames(pub, 5, &seq)
	if len(w.pkts) != 5 {
		t.Fatalf("%d packets written with no probe, want the 5 forwarded", len(w.pkts))
	}
	size := int64(wireOverhead + 2 + 1000)
	d.sub.bw.probeLeft.Store(3 * size)
	w.pkts = w.pkts[:0]
	sendFrames(pub, 5, &seq)
	var media, dups []rtp.Packet
	for _, p := range w.pkts {
		if p.SSRC == 2000 {
			dups = append(dups, p)
		} else {
			media = append(media, p)
		}
	}
	if len(media) != 5 || len(dups) != 3 {
		t.Fatalf("%d forwarded and %d duplicated, want 5 and the probe's 3", len(media), len(dups))
	}
	for i, p := range dups {
		if p.PayloadType != 97 || binary.BigEndian.Uint16(p.Payload) != media[i].SequenceNumber || len(p.Payload) != 1002 {
			t.Errorf("duplicate %d: pt %d, original %d (want %d), %d bytes", i, p.PayloadType, binary.BigEndian.Uint16(p.Payload), media[i].SequenceNumber, len(p.Payload))
		}
		if i > 0 && p.SequenceNumber != dups[i-1].SequenceNumber+1 {
			t.Errorf("the RTX stream's sequence numbers jump from %d to %d", dups[i-1].SequenceNumber, p.SequenceNumber)
		}
	}
	if got := d.sub.bw.probeSent.Load(); got != 3*size {
		t.Errorf("probe counted %d bytes, want %d", got, 3*size)
	}

	d.bound.Store(&binding{ssrc: 1000, pt: 96, w: &discardWriter{}, rtxSSRC: 2000, rtxPT: 97})
	p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, Marker: true, SSRC: 100}, Payload: make([]byte, 1000)}
	p.Payload[0], p.Payload[1] = 0x10, 0x01
	l := pub.layer(0)
	if a := testing.AllocsPerRun(100, func() {
		p.SequenceNumber++
		p.Timestamp += 3000
		pub.fwdMu.Lock()
		pub.handleLocked(l, p, 1)
		pub.fwdMu.Unlock()
	}); a != 0 {
		t.Errorf("forwarding with no probe allocates %.1f times a packet", a)
	}
}
