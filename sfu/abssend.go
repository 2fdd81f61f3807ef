package sfu

import (
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Send times.
//
// A subscriber's browser estimates its link from how packets' arrival
// spacing drifts from their send spacing. Without a send time in the
// packets, Chromium falls back to their RTP timestamps, which for
// forwarded video are capture times at the publisher, and its estimate
// (REMB) stays far below what arrives (PERFORMANCE.md, "Networks"). So
// every video packet sent to a subscriber that negotiated abs-send-time
// (http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time) carries
// the time it left: forwarded, resent or duplicated for a probe, on the
// fast path or pion's. The time is the wall clock, in seconds as 6.18
// fixed point modulo 64 s (the NTP epoch is a whole number of 64 s after
// the Unix one, so this is the NTP-based value); a forwarded packet takes
// the time its fan-out began (publishedTrack.fanoutAt), a resent one the
// time its NACK was read.

// absSendTime is the abs-send-time value of the instant unixNs.
func absSendTime(unixNs int64) uint32 {
	sec, ns := uint64(unixNs)/1e9, uint64(unixNs)%1e9
	return uint32((sec<<18 | ns<<18/1e9) & 0xffffff)
}

// absStamp backs the send-time header extension of the headers one
// subscription sends (abs-send-time, or the transport-wide sequence
// number where the subscriber negotiated transport-cc), so that setting
// it allocates nothing. Under the track's fwdMu, and used only until the
// header is written.
type absStamp struct {
	exts [4]rtp.Extension
	val  [3]byte
}

// stamp adds to h, a header about to go to the subscriber with payload
// bytes after it, the send time of the instant unixNs: where b
// negotiated transport-cc, a transport-wide sequence number from log,
// which notes the packet's size and send time for the feedback on it
// (delaybwe.go); else abs-send-time, if negotiated.
func (a *absStamp) stamp(h *rtp.Header, b *binding, log *sendLog, payload int, unixNs int64) {
	if b.twccID == 0 || log == nil {
		a.set(h, b.absID, unixNs)
		return
	}
	// a.val backs the extension: the number set below is the one sent.
	a.add(h, b.twccID, a.val[:2])
	seq := log.add(h.MarshalSize()+payload, unixNs)
	a.val[0], a.val[1] = byte(seq>>8), byte(seq)
}

// set adds the abs-send-time extension, with id (0: not negotiated, then
// nothing is added) and the value of the instant unixNs, to h, after any
// extension h already has; a header without one gets the one-byte form.
func (a *absStamp) set(h *rtp.Header, id uint8, unixNs int64) {
	if id == 0 {
		return
	}
	v := absSendTime(unixNs)
	a.val = [3]byte{byte(v >> 16), byte(v >> 8), byte(v)}
	a.add(h, id, a.val[:])
}

// add sets extension id to val in h, after any extension h already has;
// val must last until h is written.
func (a *absStamp) add(h *rtp.Header, id uint8, val []byte) {
	if !h.Extension {
		h.Extensions = a.exts[:0]
	} else if len(h.Extensions) == cap(h.Extensions) && len(h.Extensions) < len(a.exts) {
		// Room for one more without growing the caller's slice.
		h.Extensions = a.exts[:copy(a.exts[:], h.Extensions)]
	}
	// Fails only for an id the header's form cannot carry; the packet
	// then goes without it.
	_ = h.SetExtension(id, val)
}

// transportCCID is the id negotiated for the transport-wide sequence
// number among exts, 0 if it is not there.
func transportCCID(exts []webrtc.RTPHeaderExtensionParameter) uint8 {
	for _, e := range exts {
		if e.URI == sdp.TransportCCURI && e.ID > 0 && e.ID < 15 {
			return uint8(e.ID)
		}
	}
	return 0
}

// absSendTimeID is the id negotiated for abs-send-time among exts, 0 if
// it is not there.
func absSendTimeID(exts []webrtc.RTPHeaderExtensionParameter) uint8 {
	for _, e := range exts {
		if e.URI == sdp.ABSSendTimeURI && e.ID > 0 && e.ID < 15 {
			return uint8(e.ID)
		}
	}
	return 0
}
