package sfu

import (
	"bytes"
	"encoding/binary"
	"maps"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pion/rtp"
)

// The receive fast path.
//
// Through pion, a packet from a publisher crosses four goroutines before
// the track's reader sees it (the socket's reader, the ICE agent's, the
// DTLS/SRTP demultiplexer's and the SRTP session's), each hand-off a
// wake-up and a copy, then the interceptor chain: about a quarter of the
// server's CPU in an audio-only load, and as much of it with video. Once a
// publisher's SRTP keys are known (the same DTLS exporter the send side
// uses, fastpath.go), the socket's reader decrypts its audio and video
// itself and fans them out on the spot. pion reads each stream's first
// packets (they name a simulcast layer by rid, and make pion's track);
// from the next one on, the stream's SSRC is the fast path's.
//
// What pion did for those packets is done here instead: authentication,
// the rollover counter and replay protection (srtpIn, per stream), the
// receiver reports publishers act on (rxStats, sent by Engine.sendReports),
// and for video the NACKs for what was lost on the way in (nackLog), the
// retransmissions that answer them (RTX, a stream of its own: fastvideo.go)
// and transport-wide congestion control feedback, which browsers base
// their send bandwidth on (feedback.go). Audio negotiates no NACK and, with
// the fast path on, no transport-wide feedback. Everything else on the
// socket (ICE, DTLS, RTCP, unknown SSRCs, peers whose keys are not known)
// takes pion's path as before.

// fastIn is the publisher side of a peer's fast path: the cipher for what
// it sends and its streams by SSRC.
type fastIn struct {
	open *gcmSealer

	mu      sync.Mutex // serializes changes to streams and repairs
	streams atomic.Pointer[map[uint32]*fastStream]
	// repairs are the simulcast layers on the fast path whose
	// retransmissions' SSRC is not known yet (fastvideo.go).
	repairs atomic.Pointer[[]*fastStream]
	// fb, when set, records transport-wide sequence numbers (feedback.go);
	// guard reads what names a simulcast layer (ingresslayers.go).
	fb    *feedback
	guard *ingress
}

// fastStream is one SSRC on the fast path: a layer's media, or its
// retransmissions.
type fastStream struct {
	t   *publishedTrack
	l   *layer
	rtx bool
	// pt is the layer's payload type: what its media must carry to be
	// read here, and what a retransmission takes back.
	pt uint8
	// mid names the layer's media section, for its retransmissions'
	// first packets.
	mid string
	// srtp is the stream's decryption state, under t.fwdMu.
	srtp srtpIn
}

// startReceiving moves layer l of t, a track of f's peer, to the fast
// path if the peer's keys are known. It reports whether l is done with
// (moved, or never will be).
func (f *peerFast) startReceiving(t *publishedTrack, l *layer) bool {
	switch f.state.Load() {
	case fastOff:
		return true
	case fastPending:
		return false
	}
	in := f.in.Load()
	if in == nil {
		return true // an AES-CM peer: pion keeps its media
	}
	s := &fastStream{t: t, l: l}
	var rtx *fastStream
	if l.remote != nil {
		s.pt = uint8(l.remote.PayloadType())
		if ssrc := uint32(l.remote.RtxSSRC()); ssrc != 0 && t.info.Kind == KindVideo {
			rtx = &fastStream{t: t, l: l, rtx: true, pt: s.pt}
			in.edit(func(m map[uint32]*fastStream) { m[ssrc] = rtx })
		}
	}
	if rtx == nil && t.info.Kind == KindVideo && l.rid != "" {
		s.mid = t.mid()
		in.waitRepair(s)
	}
	ssrc := l.ssrc
	in.edit(func(m map[uint32]*fastStream) { m[ssrc] = s })
	return true
}

// stopReceiving takes layer l of t off the fast path, when its reader
// ends. f may be nil.
func (f *peerFast) stopReceiving(t *publishedTrack, l *layer) {
	if f == nil {
		return
	}
	in := f.in.Load()
	if in == nil {
		return
	}
	in.edit(func(m map[uint32]*fastStream) {
		maps.DeleteFunc(m, func(_ uint32, s *fastStream) bool { return s.l == l })
	})
	in.forgetRepair(l)
}

// edit replaces the streams by SSRC with a copy that fn changed: the
// socket's readers look them up without a lock.
func (in *fastIn) edit(fn func(map[uint32]*fastStream)) {
	in.mu.Lock()
	defer in.mu.Unlock()
	next := map[uint32]*fastStream{}
	if old := in.streams.Load(); old != nil {
		maps.Copy(next, *old)
	}
	fn(next)
	in.streams.Store(&next)
}

// receive handles a datagram from f's peer on the socket's reader. It
// reports false for anything that is not SRTP for one of its streams on
// the fast path, which then takes pion's path. pkt is the reader's
// scratch; out, the socket it read from, which the fan-out writes to.
func (f *peerFast) receive(b []byte, now int64, pkt *rtp.Packet, stats *Stats, out *udpBatcher) bool {
	in := f.in.Load()
	if in == nil || !isRTP(b) {
		return false
	}
	m := in.streams.Load()
	if m == nil {
		return false
	}
	s := (*m)[binary.BigEndian.Uint32(b[8:12])]
	if s == nil {
		// Perhaps a layer's first retransmission (fastvideo.go): a packet
		// that does not open goes on to pion, as an unknown SSRC's would.
		if s = in.repairFor(b); s == nil {
			return false
		}
		if !s.t.receiveSRTP(s, in, b, now, pkt, out) {
			return false
		}
		in.adoptRepair(s, b)
		stats.FastReceived.Add(1)
		return true
	}
	if !s.rtx && b[1]&0x7f != s.pt {
		// Another codec, or one never negotiated: pion's reader, still
		// waiting on the stream, switches the track's codec or drops and
		// counts the packet (publishedTrack.run).
		return false
	}
	if s.t.receiveSRTP(s, in, b, now, pkt, out) {
		stats.FastReceived.Add(1)
	} else {
		stats.FastRejected.Add(1)
	}
	return true
}

// isRTP tells RTP from what else shares the socket (RFC 7983: first byte
// 128-191; RFC 5761: RTCP packet types 192-223 in the second).
func isRTP(b []byte) bool {
	return len(b) >= 12 && b[0]>>6 == 2 && (b[1] < 192 || b[1] > 223)
}

// receiveSRTP authenticates and decrypts one SRTP packet of s, a stream of
// t, in place and fans it out; false if it was not authentic, a replay or
// malformed. A retransmission goes out as the packet it repairs; one
// without a packet in it (a publisher probing its bandwidth) only counts
// for the feedback.
func (t *publishedTrack) receiveSRTP(s *fastStream, in *fastIn, b []byte, now int64, pkt *rtp.Packet, out *udpBatcher) bool {
	t.fwdMu.Lock()
	defer t.fwdMu.Unlock()
	hl, err := pkt.Header.Unmarshal(b)
	if err != nil {
		return false
	}
	seq := pkt.SequenceNumber
	roc, ok := s.srtp.guess(seq)
	if !ok {
		return false
	}
	// The associated data is the header, or with RFC 9335 (cryptex, which
	// pion negotiates with pion) its fixed part and the extension's first
	// four bytes: CSRCs and extensions are encrypted with the payload.
	aad := hl
	cryptex := pkt.Extension && (pkt.ExtensionProfile == rtp.CryptexProfileOneByte || pkt.ExtensionProfile == rtp.CryptexProfileTwoByte)
	if cryptex {
		extBeforeCSRCs(b, len(pkt.CSRC))
		aad = 16
	}
	var retry []byte
	if !s.srtp.started {
		// The first packet here may follow a wrap pion already saw; a
		// failed open wipes the buffer, so the second try needs a copy.
		retry = bytes.Clone(b)
	}
	plain, ok := in.open.open(b, aad, pkt.SSRC, roc, seq, &t.iv)
	if !ok && retry != nil {
		roc++
		plain, ok = in.open.open(retry, aad, pkt.SSRC, roc, seq, &t.iv)
	}
	if !ok {
		return false
	}
	s.srtp.accept(seq, roc)
	if cryptex {
		csrcsBeforeExt(plain, len(pkt.CSRC))
		profile := uint16(rtp.ExtensionProfileOneByte)
		if pkt.ExtensionProfile == rtp.CryptexProfileTwoByte {
			profile = rtp.ExtensionProfileTwoByte
		}
		binary.BigEndian.PutUint16(plain[12+4*len(pkt.CSRC):], profile)
		if n, err := pkt.Header.Unmarshal(plain); err != nil || n != hl {
			return false
		}
	}
	if in.fb != nil {
		in.fb.recordHeader(&pkt.Header, now)
	}
	payload := plain[hl:]
	if pkt.Padding {
		if len(payload) == 0 || int(payload[len(payload)-1]) > len(payload) {
			return false
		}
		pkt.PaddingSize = payload[len(payload)-1]
		payload = payload[:len(payload)-int(pkt.PaddingSize)]
	}
	if s.rtx {
		if len(payload) < 2 {
			return true // padding only: a bandwidth probe
		}
		// RFC 4588 §4: the original sequence number, then the payload.
		pkt.SequenceNumber = binary.BigEndian.Uint16(payload)
		pkt.SSRC, pkt.PayloadType = s.l.ssrc, s.pt
		payload = payload[2:]
	}
	pkt.Payload = payload
	t.batch = out
	t.handleLocked(s.l, pkt, now)
	return true
}

// extBeforeCSRCs moves a cryptex packet's 4-byte extension header in front
// of its cc CSRCs, making the associated data contiguous (RFC 9335 §6.1);
// csrcsBeforeExt puts it back.
func extBeforeCSRCs(b []byte, cc int) {
	if cc == 0 {
		return
	}
	var ext [4]byte
	copy(ext[:], b[12+4*cc:])
	copy(b[16:], b[12:12+4*cc])
	copy(b[12:], ext[:])
}

func csrcsBeforeExt(b []byte, cc int) {
	if cc == 0 {
		return
	}
	var ext [4]byte
	copy(ext[:], b[12:16])
	copy(b[12:], b[16:16+4*cc])
	copy(b[12+4*cc:], ext[:])
}

// localUfrag finds the ICE username fragment in a session description.
func localUfrag(sdp string) string {
	const attr = "a=ice-ufrag:"
	i := strings.Index(sdp, attr)
	if i < 0 {
		return ""
	}
	s := sdp[i+len(attr):]
	if j := strings.IndexAny(s, "\r\n"); j >= 0 {
		s = s[:j]
	}
	return strings.TrimSpace(s)
}
