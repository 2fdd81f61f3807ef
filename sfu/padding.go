package sfu

import (
	"github.com/pion/rtp"
)

// Probing with duplicates. To learn whether a subscriber's link carries
// more than it is sent, without sending it a tile that would cost a
// keyframe and freeze if the answer is no, the server sends, for about a
// second, some of the video packets it forwards a second time, on the
// section's RTX stream as if they were retransmissions (as libwebrtc and
// LiveKit pad with retransmissions of recent packets): the browser drops
// them as duplicates, but they cross the link. If the subscriber then
// reports losing no more than before, the link carried that much more
// (losscontrol.go). The bytes to duplicate are set by the report ticker
// for one second at a time (bandwidth.setProbe), and only while a tile is
// below what it would get without a limit.

// probeDup sends the packet just forwarded (header as sent, payload)
// again on the RTX stream, while the subscriber's probe has bytes left.
// Under the track's fwdMu, as retransmissions are. With no probe it
// costs one atomic load and allocates nothing.
func (d *downTrack) probeDup(b *binding, hdr *rtp.Header, payload []byte) {
	bw := &d.sub.bw
	if bw.probeLeft.Load() <= 0 || b.rtxSSRC == 0 || b.rtxPT == 0 || d.slot == nil {
		return
	}
	size := int64(wireOverhead + 2 + len(payload))
	if bw.probeLeft.Add(-size) < 0 {
		return
	}
	h := rtp.Header{Version: 2, Marker: hdr.Marker, SequenceNumber: hdr.SequenceNumber, Timestamp: hdr.Timestamp}
	buf := d.slot.toRTX(b, &h, payload)
	d.abs.stamp(&h, b, d.sub.sendLog, len(buf), d.pub.fanoutAt)
	if _, err := b.w.WriteRTP(&h, buf); err == nil {
		bw.probeSent.Add(size)
	}
}
