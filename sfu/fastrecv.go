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

// The audio receive fast path.
//
// Through pion, a packet from a publisher crosses four goroutines before
// the track's reader sees it (the socket's reader, the ICE agent's, the
// DTLS/SRTP demultiplexer's and the SRTP session's), each hand-off a
// wake-up and a copy, then the interceptor chain: about a quarter of the
// server's CPU in an audio-only load. Once a publisher's SRTP keys are
// known (the same DTLS exporter the send side uses, fastpath.go), the
// socket's reader decrypts its audio itself and fans it out on the spot.
//
// What pion did for those packets is done here instead: authentication,
// the rollover counter and replay protection (srtpIn), the receiver
// reports publishers act on (rxStats, sent by Engine.sendReports). Audio
// negotiates no NACK and, with the fast path on, no transport-wide
// congestion control feedback (newAPI), so nothing else is owed.
// Everything else on the socket (ICE, DTLS, RTCP, video, unknown SSRCs,
// peers whose keys are not known) takes pion's path as before.

// fastIn is the publisher side of a peer's fast path: the cipher for what
// it sends and its audio tracks by SSRC.
type fastIn struct {
	open *gcmSealer

	mu     sync.Mutex // serializes changes to tracks
	tracks atomic.Pointer[map[uint32]*publishedTrack]
}

// startReceiving moves t, an audio track of f's peer, to the fast path if
// the peer's keys are known; l is its layer (audio has one). It reports
// whether t is done with (moved, or never will be).
func (f *peerFast) startReceiving(t *publishedTrack, l *layer) bool {
	switch f.state.Load() {
	case fastOff:
		return true
	case fastPending:
		return false
	}
	in := f.in.Load()
	if in == nil {
		return true // an AES-CM peer: pion keeps its audio
	}
	ssrc := l.ssrc
	in.edit(func(m map[uint32]*publishedTrack) { m[ssrc] = t })
	return true
}

// stopReceiving takes t off the fast path, when the reader of its layer l
// ends. f may be nil.
func (f *peerFast) stopReceiving(t *publishedTrack, l *layer) {
	if f == nil {
		return
	}
	in := f.in.Load()
	if in == nil {
		return
	}
	ssrc := l.ssrc
	in.edit(func(m map[uint32]*publishedTrack) {
		if m[ssrc] == t {
			delete(m, ssrc)
		}
	})
}

// edit replaces the tracks by SSRC with a copy that fn changed: the
// socket's readers look them up without a lock.
func (in *fastIn) edit(fn func(map[uint32]*publishedTrack)) {
	in.mu.Lock()
	defer in.mu.Unlock()
	next := map[uint32]*publishedTrack{}
	if old := in.tracks.Load(); old != nil {
		maps.Copy(next, *old)
	}
	fn(next)
	in.tracks.Store(&next)
}

// receive handles a datagram from f's peer on the socket's reader. It
// reports false for anything that is not SRTP for one of its tracks on the
// fast path, which then takes pion's path. pkt is the reader's scratch;
// out, the socket it read from, which the fan-out writes to.
func (f *peerFast) receive(b []byte, now int64, pkt *rtp.Packet, stats *Stats, out *udpBatcher) bool {
	in := f.in.Load()
	if in == nil || !isRTP(b) {
		return false
	}
	m := in.tracks.Load()
	if m == nil {
		return false
	}
	t := (*m)[binary.BigEndian.Uint32(b[8:12])]
	if t == nil {
		return false
	}
	if t.receiveSRTP(in.open, b, now, pkt, out) {
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

// receiveSRTP authenticates and decrypts one SRTP packet of t, an audio
// track (one layer), in place and fans it out; false if it was not
// authentic, a replay or malformed.
func (t *publishedTrack) receiveSRTP(g *gcmSealer, b []byte, now int64, pkt *rtp.Packet, out *udpBatcher) bool {
	l := t.layers[0].Load()
	if l == nil {
		return false
	}
	t.fwdMu.Lock()
	defer t.fwdMu.Unlock()
	hl, err := pkt.Header.Unmarshal(b)
	if err != nil {
		return false
	}
	seq := pkt.SequenceNumber
	roc, ok := t.srtp.guess(seq)
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
	if !t.srtp.started {
		// The first packet here may follow a wrap pion already saw; a
		// failed open wipes the buffer, so the second try needs a copy.
		retry = bytes.Clone(b)
	}
	plain, ok := g.open(b, aad, pkt.SSRC, roc, seq, &t.iv)
	if !ok && retry != nil {
		roc++
		plain, ok = g.open(retry, aad, pkt.SSRC, roc, seq, &t.iv)
	}
	if !ok {
		return false
	}
	t.srtp.accept(seq, roc)
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
	payload := plain[hl:]
	if pkt.Padding {
		if len(payload) == 0 || int(payload[len(payload)-1]) > len(payload) {
			return false
		}
		pkt.PaddingSize = payload[len(payload)-1]
		payload = payload[:len(payload)-int(pkt.PaddingSize)]
	}
	pkt.Payload = payload
	t.batch = out
	t.handleLocked(l, pkt, now)
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
