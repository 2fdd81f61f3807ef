package sfu

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/pion/rtcp"
)

// Reports.
//
// Each second the server sends every peer a sender report for each stream
// it sends it and a receiver report on what it publishes (RFC 3550 §6.4).
// They replace pion's report interceptors, which fast-path media never
// passes: one ticker for the server rather than goroutines per connection.
// Where a peer's fast path is up with AES-GCM, its reports take the fast
// path too: written by hand into the ticker's buffer, sealed as SRTCP
// under the server's own index and sent to the media socket, allocating
// nothing (through pion, a peer's reports made a dozen allocations a
// second, most of what an audio node allocated once everyone had joined).
// Other peers' go through pion.

// reportInterval is how often streams are reported, as pion's report
// interceptors do.
const reportInterval = time.Second

// maxCompound bounds the RTCP in one report datagram, before SRTCP adds
// srtcpTrailer, below common path MTUs: a subscriber of many streams gets
// several.
const maxCompound = 1200

// RTCP sizes (RFC 3550 §6.4): a sender report without report blocks, a
// receiver report's header, one report block.
const (
	srSize      = 28
	rrSize      = 8
	rrBlockSize = 24
	// maxBlocks is what a report's 5-bit count holds.
	maxBlocks = 31
)

// reporter is the report ticker's scratch, reused from peer to peer.
type reporter struct {
	peers   []*Peer
	downs   []*downTrack
	tracks  []*publishedTrack
	srs     []srInfo
	blocks  []rtcp.ReceptionReport
	pkts    []rtcp.Packet // pion's path
	nacks   []nackFor     // feedback.go
	seqs    []uint16
	quality []SendingQuality // changes found by collect (uplink.go)
	buf     [maxCompound + srtcpTrailer]byte
	iv, aad [12]byte
}

// srInfo is one sender report: the stream and what was sent on it.
type srInfo struct {
	ssrc, rtpTime, packets, octets uint32
}

// sendReports reports to each peer, each second until ctx ends, and with
// the video fast path sends publishers their feedback every
// feedbackInterval (feedback.go).
func (e *Engine) sendReports(ctx context.Context) {
	interval, every := reportInterval, 1
	if e.fastVideo {
		interval, every = feedbackInterval, int(reportInterval/feedbackInterval)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	r := &reporter{}
	for tick := 1; ; tick++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		e.peersMu.Lock()
		for p := range e.peers {
			r.peers = append(r.peers, p)
		}
		e.peersMu.Unlock()
		for _, p := range r.peers {
			r.sendFeedback(p)
			if tick%every != 0 {
				continue
			}
			now := time.Now()
			r.report(p, now)
			p.router.tellQuality(r.quality)
			clear(r.quality)
			r.quality = r.quality[:0]
			// The ticker also fits each subscriber's video into its
			// bandwidth and follows the layers publishers send
			// (bandwidth.go, layers.go).
			r.downs = p.router.fit(p, now, r.downs)
			clear(r.downs)
			r.downs = r.downs[:0]
			p.router.reportLayers()
		}
		// Let go of peers that leave before the next round.
		clear(r.peers)
		r.peers = r.peers[:0]
	}
}

// report sends p its reports.
func (r *reporter) report(p *Peer, now time.Time) {
	r.collect(p, now)
	if len(r.srs) == 0 && len(r.blocks) == 0 {
		return
	}
	ntp := ntpTime(now)
	if f := p.fast; f != nil && f.state.Load() == fastReady && f.rtcp != nil {
		r.sendFast(f, p.rtcpSSRC, ntp, p.router.engine.batch)
		return
	}
	r.pkts = r.pkts[:0]
	for _, s := range r.srs {
		r.pkts = append(r.pkts, &rtcp.SenderReport{SSRC: s.ssrc, NTPTime: ntp, RTPTime: s.rtpTime,
			PacketCount: s.packets, OctetCount: s.octets})
	}
	if len(r.blocks) > 0 {
		r.pkts = append(r.pkts, &rtcp.ReceiverReport{SSRC: p.rtcpSSRC, Reports: append([]rtcp.ReceptionReport(nil), r.blocks...)})
	}
	_ = p.pc.WriteRTCP(r.pkts)
	clear(r.pkts)
}

// collect gathers what p's reports say: a sender report per stream p has
// been sent, and a report block per stream it publishes.
func (r *reporter) collect(p *Peer, now time.Time) {
	p.router.mu.Lock()
	for _, d := range p.downs {
		r.downs = append(r.downs, d)
	}
	for _, t := range p.published {
		r.tracks = append(r.tracks, t)
	}
	p.router.mu.Unlock()
	r.srs = r.srs[:0]
	for _, d := range r.downs {
		b := d.bound.Load()
		if b == nil {
			continue
		}
		// The counts are the reader's, kept under its lock: a lock a
		// second here rather than atomics on every packet there.
		d.pub.fwdMu.Lock()
		ft := &d.fast
		n, octets, lastTS, lastAt := ft.packets, ft.octets, ft.lastTS, ft.lastAt
		d.pub.fwdMu.Unlock()
		if n == 0 {
			continue
		}
		// The RTP time now, extrapolated from the last packet sent.
		since := now.UnixNano() - lastAt
		rtpNow := lastTS + uint32(since*int64(d.codec.ClockRate)/int64(time.Second))
		r.srs = append(r.srs, srInfo{ssrc: b.ssrc, rtpTime: rtpNow, packets: n, octets: octets})
	}
	r.blocks = r.blocks[:0]
	for _, t := range r.tracks {
		t.fwdMu.Lock()
		for i := range t.layers {
			l := t.layers[i].Load()
			if l == nil {
				continue
			}
			l.measureLocked(now.UnixNano())
			if len(r.blocks) == maxBlocks {
				continue
			}
			if rep, ok := l.rx.report(l.ssrc, now.UnixNano()); ok {
				r.blocks = append(r.blocks, rep)
				if t.info.Kind == KindAudio && !t.info.Screen {
					if changed, loss := t.up.add(l.rx.lastExpected, l.rx.lastLost); changed {
						r.quality = append(r.quality, SendingQuality{Publisher: p.id, Peer: p, Poor: t.up.poor, Lost: loss})
					}
				}
			}
		}
		t.fwdMu.Unlock()
	}
	clear(r.downs)
	clear(r.tracks)
	r.downs, r.tracks = r.downs[:0], r.tracks[:0]
}

// sendFast sends the collected reports on f's fast path, from the server's
// own SSRC: each datagram a compound that starts with the server's
// receiver report (its blocks in the first), sender reports filling the
// rest, sealed under the next SRTCP index.
func (r *reporter) sendFast(f *peerFast, ssrc uint32, ntp uint64, out *udpBatcher) {
	blocks, srs := r.blocks, r.srs
	for first := true; first || len(srs) > 0; first = false {
		n := putRR(r.buf[:], ssrc, blocks)
		blocks = nil
		for len(srs) > 0 && n+srSize <= maxCompound {
			n += putSR(r.buf[n:], ntp, srs[0])
			srs = srs[1:]
		}
		wire := f.rtcp.sealRTCP(r.buf[:], n, f.rtcpIndex, &r.iv, &r.aad)
		f.rtcpIndex++
		_, _ = out.WriteToAddrPort(wire, *f.addr.Load())
	}
}

// putRR writes a receiver report from ssrc with blocks (at most
// maxBlocks) to b and returns its size.
func putRR(b []byte, ssrc uint32, blocks []rtcp.ReceptionReport) int {
	b[0] = 0x80 | byte(len(blocks)) // version 2, report count
	b[1] = byte(rtcp.TypeReceiverReport)
	binary.BigEndian.PutUint16(b[2:], uint16((rrSize+rrBlockSize*len(blocks))/4-1))
	binary.BigEndian.PutUint32(b[4:], ssrc)
	n := rrSize
	for i := range blocks {
		rb := &blocks[i]
		binary.BigEndian.PutUint32(b[n:], rb.SSRC)
		binary.BigEndian.PutUint32(b[n+4:], uint32(rb.FractionLost)<<24|rb.TotalLost&0xffffff)
		binary.BigEndian.PutUint32(b[n+8:], rb.LastSequenceNumber)
		binary.BigEndian.PutUint32(b[n+12:], rb.Jitter)
		binary.BigEndian.PutUint32(b[n+16:], rb.LastSenderReport)
		binary.BigEndian.PutUint32(b[n+20:], rb.Delay)
		n += rrBlockSize
	}
	return n
}

// putSR writes a sender report without report blocks to b.
func putSR(b []byte, ntp uint64, s srInfo) int {
	b[0] = 0x80
	b[1] = byte(rtcp.TypeSenderReport)
	binary.BigEndian.PutUint16(b[2:], srSize/4-1)
	binary.BigEndian.PutUint32(b[4:], s.ssrc)
	binary.BigEndian.PutUint64(b[8:], ntp)
	binary.BigEndian.PutUint32(b[16:], s.rtpTime)
	binary.BigEndian.PutUint32(b[20:], s.packets)
	binary.BigEndian.PutUint32(b[24:], s.octets)
	return srSize
}

// ntpTime is now in the 64-bit NTP format (seconds since 1900, fraction).
func ntpTime(t time.Time) uint64 {
	const ntpEpochOffset = 2208988800
	s := uint64(t.Unix()) + ntpEpochOffset
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return s<<32 | frac
}
