package sfu

import (
	"time"

	"github.com/pion/rtcp"
)

// rxStats is what a receiver report says about one incoming stream
// (RFC 3550 §6.4.1, Appendix A.1, A.3, A.8): the highest sequence number,
// loss overall and since the last report, interarrival jitter, and the
// echo of the publisher's last sender report from which it works out the
// round-trip time. Publishers act on these: browsers' Opus raises its
// in-band FEC with the loss they report, and their bandwidth estimate
// falls back on it. The server keeps them itself because media on the fast
// path never reaches pion's report interceptor. Guarded by the track's
// fwdMu.
type rxStats struct {
	started  bool
	base     uint32 // extended sequence number of the first packet
	cycles   uint32 // sequence number wraps, shifted left by 16
	maxSeq   uint16
	received uint32

	expectedPrior, receivedPrior uint32
	// What the last report's interval expected and lost (uplink.go).
	lastExpected, lastLost uint32

	clockRate uint32
	startedAt int64   // arrival of the first packet, unix ns
	transit   int64   // last packet's transit time, in clock units
	jitter    float64 // in clock units

	lastSR   uint32 // middle 32 bits of the last sender report's NTP time
	lastSRAt int64  // when it arrived, unix ns
}

// update accounts for one packet arriving at now (unix ns).
func (s *rxStats) update(seq uint16, ts uint32, now int64) {
	arrival := (now - s.startedAt) * int64(s.clockRate) / int64(time.Second)
	if !s.started {
		s.started, s.base, s.maxSeq, s.received = true, uint32(seq), seq, 1
		s.startedAt = now
		s.transit = -int64(ts)
		return
	}
	s.received++
	if d := seq - s.maxSeq; d != 0 && d < 0x8000 {
		if seq < s.maxSeq {
			s.cycles += 1 << 16
		}
		s.maxSeq = seq
	}
	// Transit times are compared modulo 2^32 of the RTP clock.
	transit := arrival - int64(ts)
	d := int64(int32(transit - s.transit))
	s.transit = transit
	if d < 0 {
		d = -d
	}
	s.jitter += (float64(d) - s.jitter) / 16
}

// senderReport records a sender report from the publisher, arrived at now.
func (s *rxStats) senderReport(ntp uint64, now int64) {
	s.lastSR = uint32(ntp >> 16)
	s.lastSRAt = now
}

// report returns the reception report for ssrc at now and starts the next
// interval; false before the first packet.
func (s *rxStats) report(ssrc uint32, now int64) (rtcp.ReceptionReport, bool) {
	if !s.started {
		return rtcp.ReceptionReport{}, false
	}
	extMax := s.cycles | uint32(s.maxSeq)
	expected := extMax - s.base + 1
	lost := int64(expected) - int64(s.received)
	// Duplicates can make it negative; the field is 24 bits.
	lost = max(0, min(lost, 0x7fffff))
	expInt := expected - s.expectedPrior
	recvInt := s.received - s.receivedPrior
	s.expectedPrior, s.receivedPrior = expected, s.received
	var fraction uint8
	s.lastExpected, s.lastLost = expInt, 0
	if lostInt := int64(expInt) - int64(recvInt); expInt != 0 && lostInt > 0 {
		fraction = uint8(min(lostInt<<8/int64(expInt), 255))
		s.lastLost = uint32(min(lostInt, int64(expInt)))
	}
	var delay uint32
	if s.lastSRAt != 0 {
		delay = uint32((now - s.lastSRAt) * 65536 / int64(time.Second))
	}
	return rtcp.ReceptionReport{
		SSRC:               ssrc,
		FractionLost:       fraction,
		TotalLost:          uint32(lost),
		LastSequenceNumber: extMax,
		Jitter:             uint32(s.jitter),
		LastSenderReport:   s.lastSR,
		Delay:              delay,
	}, true
}
