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

// absStamp backs the abs-send-time extension of the headers one
// subscription sends, so that setting it allocates nothing. Under the
// track's fwdMu, and used only until the header is written.
type absStamp struct {
	exts [4]rtp.Extension
	val  [3]byte
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
	if !h.Extension {
		h.Extensions = a.exts[:0]
	} else if len(h.Extensions) == cap(h.Extensions) && len(h.Extensions) < len(a.exts) {
		// Room for one more without growing the caller's slice.
		h.Extensions = a.exts[:copy(a.exts[:], h.Extensions)]
	}
	// Fails only for an id the header's form cannot carry; the packet
	// then goes without it.
	_ = h.SetExtension(id, a.val[:])
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
