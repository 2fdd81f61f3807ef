package sfu

import (
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// Retransmission.
//
// A subscriber that misses a video packet asks for it again (a NACK), and
// the server sends it from what it keeps of the track. pion's NACK
// responder keeps that per subscriber: a copy of every packet sent, in a
// 1,024-packet buffer for each stream, about 1.5 MB per video subscription
// (10 MB per participant in a video group of eight) and a copy per packet
// per subscriber. The packets are the same for every subscriber, though;
// only their headers differ. So each published video track keeps its
// recent packets once (packetHistory), each subscription remembers which
// of them it sent under which sequence number (sentMap), and a NACK is
// answered by rewriting the header as it was sent.

// historySize is how many recent packets a video track keeps: 5 s at
// 500 kbit/s, over a second at 2 Mbit/s; NACKs that help come within a few
// round trips, and a packet resent later than that is too late to play.
const historySize = 256

// packetHistory is a published video track's recent packets. Written by
// the track's reader and read by retransmissions, both under the track's
// fwdMu.
type packetHistory struct {
	entries [historySize]historyEntry
}

type historyEntry struct {
	seq     uint16
	valid   bool
	marker  bool
	ts      uint32
	csrc    []uint32
	payload []byte // reused: once the ring has gone round, put allocates nothing
}

// historyPayload is the room each entry takes for its first payload: as
// much as a browser puts in one packet, so that an entry is allocated
// once, not again each time a larger packet lands on it.
const historyPayload = 1200

func (h *packetHistory) put(pkt *rtp.Packet) {
	e := &h.entries[pkt.SequenceNumber%historySize]
	e.seq, e.valid, e.marker, e.ts = pkt.SequenceNumber, true, pkt.Marker, pkt.Timestamp
	e.csrc = append(e.csrc[:0], pkt.CSRC...)
	if cap(e.payload) < len(pkt.Payload) {
		e.payload = make([]byte, 0, max(len(pkt.Payload), historyPayload))
	}
	e.payload = append(e.payload[:0], pkt.Payload...)
}

func (h *packetHistory) get(seq uint16) *historyEntry {
	e := &h.entries[seq%historySize]
	if !e.valid || e.seq != seq {
		return nil
	}
	return e
}

// sentMap records, for a video subscription, which of the publisher's
// packets went out under each recent sequence number of its own, from
// which layer, and with which timestamp: the gate, keyframe waits, padding
// and layer switches make the two drift apart.
type sentMap [historySize]sentEntry

type sentEntry struct {
	own, pub uint16
	set      bool
	layer    int8
	resends  uint8  // times sent again
	ts       uint32 // as sent
	resentAt int64  // unix ns of the last time it was sent again
}

func (m *sentMap) record(own, pub uint16, layer int8, ts uint32) {
	m[own%historySize] = sentEntry{own: own, pub: pub, set: true, layer: layer, ts: ts}
}

func (m *sentMap) lookup(own uint16) (*sentEntry, bool) {
	e := &m[own%historySize]
	if !e.set || e.own != own {
		return nil, false
	}
	return e, true
}

// A packet is sent again at most maxResends times, and not again within
// a round trip to the subscriber of the last (at least resendSpacing), as
// mediasoup does: a NACK that comes sooner was sent before the resend
// could have arrived, so it asks for what is already on its way. Browsers
// ask again after the round trip they assume (Chromium's receiver, which
// cannot measure it, assumes 100 ms; a full home router's queue makes it
// longer), and pion's NACK generator, blind to RTX, asks every 100 ms
// until the packet leaves its log. Without the limit, a subscriber asking
// for the same packets over and over would have them sent as often as
// the budget allows, into a link that is already losing them.
const (
	maxResends    = 3
	resendSpacing = 100 * time.Millisecond
)

// mayResend reports whether e may be sent again at now (unix ns), rtt
// being the round trip to the subscriber (ns; 0 if unknown).
func (e *sentEntry) mayResend(now, rtt int64) bool {
	return e.resends < maxResends && (e.resends == 0 || now-e.resentAt >= max(int64(resendSpacing), rtt))
}

// resent counts e as sent again at now (unix ns).
func (e *sentEntry) resent(now int64) {
	e.resends++
	e.resentAt = now
}

// retransmit bucket: a subscriber may have at most this many packets sent
// again at once, refilled at this rate, so that NACKs (a few bytes each,
// naming up to 17 packets) cannot turn the server into an amplifier.
const (
	resendBurst = 256
	resendRate  = 256 // per second
)

// resendBudget is a slot's token bucket, used by its RTCP reader only.
type resendBudget struct {
	tokens float64
	last   time.Time
}

func (b *resendBudget) take(now time.Time) bool {
	if b.last.IsZero() {
		b.tokens = resendBurst
	} else {
		b.tokens = min(resendBurst, b.tokens+now.Sub(b.last).Seconds()*resendRate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// resend sends again what a subscriber reports lost, as it was sent, from
// the publisher's history: in an RTX packet (RFC 4588) when the subscriber
// negotiated RTX, as browsers do, else as it was. Packets the server no
// longer has, never sent it, or beyond the budgets (the section's, and
// the subscriber's share of its bandwidth, bandwidth.go) are skipped. It returns
// how many it sent. On s's RTCP reader.
func (d *downTrack) resend(nack *rtcp.TransportLayerNack, s *slot) int {
	return d.resendAt(nack, s, time.Now())
}

// resendAt is resend at now.
func (d *downTrack) resendAt(nack *rtcp.TransportLayerNack, s *slot, now time.Time) int {
	b := d.bound.Load()
	if b == nil || d.sent == nil || int8(d.want.Load()) == layerNone {
		// A paused video is not shown: nothing is sent into its link
		// for it.
		return 0
	}
	t := d.pub
	n := 0
	t.fwdMu.Lock()
	defer t.fwdMu.Unlock()
	// Resent on the media stream's own SRTP state: the fast path's when
	// it carries the stream (RTX, a stream of its own, stays with pion).
	fast := d.sub.fast
	if fast != nil && fast.state.Load() != fastReady {
		fast = nil
	}
	t.home.cork()
	defer t.home.uncork()
	var hdr rtp.Header
	rtt := d.sub.bw.rtt.Load()
	for i := range nack.Nacks {
		nack.Nacks[i].Range(func(seq uint16) bool {
			sent, ok := d.sent.lookup(seq)
			if !ok {
				return true
			}
			l := t.layer(sent.layer)
			if l == nil || l.hist == nil {
				return true
			}
			e := l.hist.get(sent.pub)
			if e == nil {
				return true
			}
			if !sent.mayResend(now.UnixNano(), rtt) {
				return true
			}
			if !s.budget.take(now) || !d.sub.bw.resend(wireOverhead+len(e.payload), now) {
				return false
			}
			sent.resent(now.UnixNano())
			hdr = rtp.Header{Version: 2, Marker: e.marker, PayloadType: b.pt, SequenceNumber: seq,
				Timestamp: sent.ts, SSRC: b.ssrc, CSRC: e.csrc}
			payload := e.payload
			if b.rtxSSRC != 0 && b.rtxPT != 0 {
				payload = s.toRTX(b, &hdr, e.payload)
			}
			d.abs.stamp(&hdr, b, d.sub.sendLog, len(payload), now.UnixNano())
			var err error
			if fast != nil && hdr.SSRC == b.ssrc {
				err = d.writeFast(fast, t.home, &hdr, payload, t.fastBuf[:])
			} else {
				_, err = b.w.WriteRTP(&hdr, payload)
			}
			if err == nil {
				n++
			}
			return true
		})
	}
	return n
}
