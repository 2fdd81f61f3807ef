package sfu

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Media sections are reused.
//
// Each subscription goes out on a media section (m-line) of the
// subscriber's connection, and a section once negotiated stays for the
// connection's life. Were a new one opened for every subscription, a drop-in
// group would grow every member's session description by a section (about
// 1.5 KB, and the server's transceiver, sender and parsed copies of both
// descriptions) for each person who ever came and went; after an evening of
// arrivals and departures the offers, sent to everyone on every change,
// would run to tens of kilobytes. So when a subscription ends, its sender
// stays, without a track, and the next subscription of the same kind takes
// it over: same section, same SSRC, a new stream id in the next offer.
//
// Two rules keep that safe and seamless:
//   - A section is reused only once the subscriber has taken in that it
//     carries nobody (sections.go): clients tell whose media a section
//     carries from the sections messages; until they have seen the
//     section emptied they would show the newcomer under the name of the
//     one who left.
//   - The new track continues the old one's RTP stream: sequence numbers
//     and timestamps go on from where it stopped (as if after a pause), and
//     so do the SRTP rollover counter and the sender report counts, as one
//     SSRC must.

// slot is a media section that carries subscriptions, one at a time.
type slot struct {
	kind   Kind
	sender *webrtc.RTPSender
	tr     *webrtc.RTPTransceiver
	// ph is what the sender sends while the section carries nobody
	// (sections.go): the section stays in the descriptions, SSRC and all.
	ph *placeholder
	// used says it has carried a subscription, reading that its RTCP
	// reader has started (video; addDownTrackLocked).
	used, reading bool
	// told says the client was told what it carries, and said what
	// (a stream id, "" for nobody); under the peer's negMu.
	told bool
	said string
	// For retransmissions, by its RTCP reader (history.go): the budget,
	// and the RTX stream's SSRC, sequence numbers and buffer.
	budget  resendBudget
	rtxSSRC uint32
	rtxSeq  uint16
	rtxBuf  []byte
	// cur is the subscription it carries now, nil while idle.
	cur atomic.Pointer[downTrack]

	// While idle, under the peer's negMu: the stream to continue (nil if
	// nothing was sent), and how many local descriptions had been set
	// when it went idle (or was made a spare).
	cont *continuation
	gen  int
}

// continuation is where a section's RTP stream stopped.
type continuation struct {
	seq             uint16 // last sequence number sent
	ts              uint32 // last timestamp sent
	at              int64  // when it was sent (unix ns)
	roc             rocTracker
	packets, octets uint32
}

// continuationLocked returns where d's stream stands; false if d sent
// nothing and continues nothing. Under d.pub.fwdMu.
func (d *downTrack) continuationLocked() (continuation, bool) {
	if d.forwarded == 0 {
		if d.cont != nil {
			return *d.cont, true
		}
		return continuation{}, false
	}
	ft := &d.fast
	return continuation{
		seq: d.lastSeq, ts: ft.lastTS, at: ft.lastAt, roc: ft.roc,
		packets: ft.packets, octets: ft.octets,
	}, true
}

// continueFrom makes d continue c (switchTo carries it on from the first
// packet). Before d is bound.
func (d *downTrack) continueFrom(c *continuation) {
	d.cont = c
	d.lastSeq = c.seq
	ft := &d.fast
	ft.roc = c.roc
	ft.packets, ft.octets, ft.lastTS, ft.lastAt = c.packets, c.octets, c.ts, c.at
}

// carries says whether the section has negotiated d's codec.
// toRTX turns h, a packet of b with payload, into the same packet on b's
// RTX stream (RFC 4588: the original sequence number, then the payload):
// h takes the RTX SSRC, payload type and next sequence number, and the
// payload returned is the slot's buffer. Under the track's fwdMu.
func (s *slot) toRTX(b *binding, h *rtp.Header, payload []byte) []byte {
	s.rtxBuf = binary.BigEndian.AppendUint16(s.rtxBuf[:0], h.SequenceNumber)
	s.rtxBuf = append(s.rtxBuf, payload...)
	h.SSRC, h.PayloadType, h.SequenceNumber = b.rtxSSRC, b.rtxPT, s.rtxSeq
	s.rtxSeq++
	return s.rtxBuf
}

func (s *slot) carries(d *downTrack) bool {
	return slices.ContainsFunc(s.sender.GetParameters().Codecs, func(c webrtc.RTPCodecParameters) bool {
		return sameCodec(c.RTPCodecCapability, d.codec)
	})
}

// readRTCP reads the subscriber's RTCP about a video section: keyframe
// requests become one throttled request to the publisher of what it
// carries now, what it reports lost is sent again (history.go), and its
// estimate of its bandwidth is kept (bandwidth.go), as is the feedback on
// when its packets arrived (delaybwe.go), which is about the whole
// connection (sub's). It ends when the sender stops.
func (s *slot) readRTCP(sub *Peer) {
	for {
		pkts, _, err := s.sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, pkt := range pkts {
			if fb, ok := pkt.(*rtcp.TransportLayerCC); ok {
				sub.router.engine.stats.TransportFeedback.Add(1)
				sub.bw.transportFeedback(fb, sub.sendLog, time.Now())
			}
		}
		d := s.cur.Load()
		if d == nil {
			continue
		}
		if wantsKeyframe(pkts) {
			d.requestKeyframe()
		}
		stats := d.pub.stats
		for _, pkt := range pkts {
			switch pkt := pkt.(type) {
			case *rtcp.TransportLayerNack:
				stats.NACKsReceived.Add(1)
				stats.Retransmitted.Add(uint64(d.resend(pkt, s)))
			case *rtcp.ReceiverEstimatedMaximumBitrate:
				// The subscriber's estimate of its link (bandwidth.go).
				d.sub.bw.report(int(pkt.Bitrate))
			case *rtcp.ReceiverReport:
				d.sub.bw.reports(pkt.Reports, time.Now())
			case *rtcp.SenderReport:
				// A subscriber that also sends reports on what it receives here.
				d.sub.bw.reports(pkt.Reports, time.Now())
			}
		}
	}
}

// addDownTrackLocked puts a subscription on a free section of its kind,
// or a new one; it reports whether an offer is needed (a new section).
// Under negMu.
func (p *Peer) addDownTrackLocked(d *downTrack) (offer bool, err error) {
	if p.link != linkNone {
		return p.addSectionLocked(d)
	}
	if s := p.takeIdleLocked(d); s != nil {
		// The client is told whose it is before a packet can go: until
		// the sender takes d, nothing is sent to it.
		p.nameLocked(s, d)
		// The sender has started: this binds d at once.
		if err := s.sender.ReplaceTrack(d); err != nil {
			s.cur.Store(nil)
			p.announceLocked([]*slot{s})
			p.dropSectionLocked(s)
			return true, fmt.Errorf("sfu: reuse section: %w", err)
		}
		return false, nil
	}
	if s := p.takeEmptiedLocked(d); s != nil {
		// Said to carry nobody, but the client has not yet answered an
		// offer since: it is named for d now (after the message that
		// emptied it), and d goes on it once the client has answered the
		// offer this asks for (startWaitingLocked).
		p.nameLocked(s, d)
		p.waiting = append(p.waiting, s)
		return true, nil
	}
	return p.addSectionLocked(d)
}

// addSectionLocked puts d on a new section. Under negMu.
func (p *Peer) addSectionLocked(d *downTrack) (offer bool, err error) {
	tr, err := p.pc.AddTransceiverFromTrack(d, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return false, fmt.Errorf("sfu: add transceiver: %w", err)
	}
	p.ownSections++
	s := &slot{kind: d.kind, sender: tr.Sender(), tr: tr, ph: p.newPlaceholder(d.kind), used: true}
	s.cur.Store(d)
	d.slot = s
	p.sections = append(p.sections, s)
	p.in.sending.Store(int32(len(p.sections)))
	p.startReadingLocked(s)
	p.addSparesLocked(d.kind)
	return true, nil
}

// nameLocked makes the section s, negotiated before, carry d from where
// its stream stopped, and tells the client whose it is. Under negMu.
func (p *Peer) nameLocked(s *slot, d *downTrack) {
	d.slot = s
	s.used = true
	if s.cont != nil {
		d.continueFrom(s.cont)
	}
	s.cur.Store(d)
	p.announceLocked([]*slot{s})
	p.startReadingLocked(s)
}

// startReadingLocked starts the RTCP reader of a video section, once.
// Nothing a subscriber says about audio needs an answer (buffers.go): no
// reader. Under negMu.
func (p *Peer) startReadingLocked(s *slot) {
	if s.kind == KindAudio || s.reading {
		return
	}
	s.reading = true
	for _, enc := range s.sender.GetParameters().Encodings {
		p.bufs.read(uint32(enc.SSRC))
		s.rtxSSRC = uint32(enc.RTX.SSRC)
	}
	s.rtxSeq = uint16(rand.Uint32())
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		s.readRTCP(p)
	}()
}

// dropSectionLocked ends a section for good. Under negMu.
func (p *Peer) dropSectionLocked(s *slot) {
	p.sections = slices.DeleteFunc(p.sections, func(x *slot) bool { return x == s })
	p.in.sending.Store(int32(len(p.sections)))
	if err := p.pc.RemoveTrack(s.sender); err != nil {
		p.log.Debug("remove track", "err", err)
	}
}

// takeIdleLocked returns an idle section that can carry d, if there is
// one the subscriber has seen carry nobody: our offer made after it went
// idle (or that brought it) has been answered. Under negMu.
func (p *Peer) takeIdleLocked(d *downTrack) *slot {
	// One that has carried before first (a video section's reader is
	// running), so that spares stay untouched as long as they can.
	for _, used := range []bool{true, false} {
		for i, s := range slices.Backward(p.idle) {
			if s.used == used && s.kind == d.kind && s.gen < p.answeredGen && s.carries(d) {
				p.idle = slices.Delete(p.idle, i, i+1)
				return s
			}
		}
	}
	return nil
}

// takeEmptiedLocked returns an idle section that can carry d and that
// the subscriber has not yet seen carry nobody. Under negMu.
func (p *Peer) takeEmptiedLocked(d *downTrack) *slot {
	for i, s := range slices.Backward(p.idle) {
		if s.kind == d.kind && s.gen >= p.answeredGen && s.carries(d) {
			p.idle = slices.Delete(p.idle, i, i+1)
			return s
		}
	}
	return nil
}

// startWaitingLocked puts the subscriptions waiting for their sections
// (takeEmptiedLocked) on them, once the subscriber has answered an offer
// made after the sections were emptied. Under negMu.
func (p *Peer) startWaitingLocked() {
	p.waiting = slices.DeleteFunc(p.waiting, func(s *slot) bool {
		if s.gen >= p.answeredGen {
			return false
		}
		if d := s.cur.Load(); d != nil {
			if err := s.sender.ReplaceTrack(d); err != nil {
				p.log.Warn("start subscription", "track", d.id, "err", err)
			}
		}
		return true
	})
}

// removeDownTrackLocked ends a subscription; its section goes idle for the
// next one, and the client is told it carries nobody. It reports whether
// an offer is needed (the section ended for good). Under negMu; d is no
// longer among its track's subscribers.
func (p *Peer) removeDownTrackLocked(d *downTrack) (offer bool) {
	s := d.slot
	if s == nil || p.closed {
		return false
	}
	// Wait out a fan-out that may still hold d, then note where its stream
	// stands: nothing more is sent to it.
	d.pub.fwdMu.Lock()
	s.cur.Store(nil)
	cont, sent := d.continuationLocked()
	started := d.bound.Load() != nil
	d.pub.fwdMu.Unlock()
	p.waiting = slices.DeleteFunc(p.waiting, func(x *slot) bool { return x == s })
	if p.link != linkNone {
		// Its end ends the track at the far end.
		p.dropSectionLocked(s)
		return true
	}
	p.announceLocked([]*slot{s})
	// The placeholder keeps the section, and its SSRC, in the
	// descriptions: the next subscription takes it over without an offer.
	// (A sender not yet started takes it as its track.)
	if err := s.sender.ReplaceTrack(s.ph); err != nil {
		p.dropSectionLocked(s)
		return true
	}
	s.cont = nil
	if sent && started {
		s.cont = &cont
	}
	s.gen = p.localGen
	p.idle = append(p.idle, s)
	return false
}
