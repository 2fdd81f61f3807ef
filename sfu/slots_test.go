package sfu

import (
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// TestContinuation: a subscription on a reused section carries on the RTP
// stream of the one before: the next sequence number (across a wrap), a
// timestamp as far on as wall time has gone, the same rollover counter and
// sender report counts.
func TestContinuation(t *testing.T) {
	pub := &publishedTrack{}
	old := &downTrack{pub: pub, codec: webrtc.RTPCodecCapability{ClockRate: 48000}}
	old.forwarded = 3
	old.lastSeq = 0xffff
	old.fast.roc = rocTracker{started: true, last: 0xffff, roc: 7}
	start := time.Now().UnixNano()
	old.fast.sent(1000, 100, start)
	old.fast.packets = 50
	c, ok := old.continuationLocked()
	if !ok {
		t.Fatal("a stream that sent nothing to continue")
	}

	d := &downTrack{pub: pub, codec: webrtc.RTPCodecCapability{ClockRate: 48000}, tsLayer: layerNone}
	d.continueFrom(&c)
	pub.fanoutAt = start + int64(20*time.Millisecond)
	pkt := &rtp.Packet{Header: rtp.Header{SequenceNumber: 777, Timestamp: 123456}}
	d.switchTo(&layer{}, pkt)
	if seq := pkt.SequenceNumber - d.seqOffset; seq != 0 {
		t.Errorf("first sequence number %d, want 0 (after 65535)", seq)
	}
	if ts := pkt.Timestamp - d.tsOffset; ts != 1000+960 {
		t.Errorf("first timestamp %d, want %d (20 ms on at 48 kHz)", ts, 1000+960)
	}
	if roc := d.fast.roc.next(0); roc != 8 {
		t.Errorf("rollover counter %d after the wrap, want 8", roc)
	}
	if d.fast.packets != 50 || d.fast.octets != 100 {
		t.Errorf("sender report counts %d/%d, want 50/100 carried on", d.fast.packets, d.fast.octets)
	}

	// One that never sent passes on what it was given; a fresh one that
	// never sent has nothing to continue.
	if got, ok := d.continuationLocked(); !ok || got.seq != c.seq {
		t.Errorf("unsent continuation: %+v %v", got, ok)
	}
	if _, ok := (&downTrack{pub: pub}).continuationLocked(); ok {
		t.Error("a fresh subscription that sent nothing has a stream to continue")
	}
}
