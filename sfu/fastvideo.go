package sfu

import (
	"encoding/binary"
	"slices"
)

// Retransmissions on the fast path.
//
// A publisher answers the server's NACKs with retransmissions (RTX, RFC
// 4588) on an SSRC of their own, which pion, while it read the stream,
// turned back into the packets they repair. Once a layer is on the fast
// path its retransmissions must be too: pion's reader waits for media
// that no longer reaches it, and would never hand them over. A stream's
// retransmission SSRC is known when the publisher's description pairs
// it with the stream (a=ssrc-group:FID, as pion's clients send) or when
// pion has already seen it; a browser's simulcast layer names it only in
// its retransmissions' first packets, by the section's mid and the
// repaired rid. So the fast path keeps the layers still waiting for theirs
// (at most one each) and adopts an unknown SSRC whose packet names one of
// them and opens with the publisher's keys.

// mid is the media section t arrived on, "" if not known.
func (t *publishedTrack) mid() string {
	if t.pub == nil || t.pub.pc == nil {
		return ""
	}
	for _, tr := range t.pub.pc.GetTransceivers() {
		if tr.Receiver() == t.recv {
			return tr.Mid()
		}
	}
	return ""
}

// waitRepair notes that s, a simulcast layer's media, has no
// retransmission SSRC yet.
func (in *fastIn) waitRepair(s *fastStream) {
	in.mu.Lock()
	defer in.mu.Unlock()
	var next []*fastStream
	if old := in.repairs.Load(); old != nil {
		next = slices.Clone(*old)
	}
	next = append(next, s)
	in.repairs.Store(&next)
}

// forgetRepair drops what waits for layer l's retransmissions.
func (in *fastIn) forgetRepair(l *layer) {
	in.mu.Lock()
	defer in.mu.Unlock()
	old := in.repairs.Load()
	if old == nil {
		return
	}
	next := slices.DeleteFunc(slices.Clone(*old), func(s *fastStream) bool { return s.l == l })
	in.repairs.Store(&next)
}

// repairFor returns a stream for b, a packet on an SSRC the fast path does
// not know, if it is the first retransmission of a layer waiting for its
// SSRC; nil otherwise. The stream is the fast path's once a packet on it
// has opened (adoptRepair).
func (in *fastIn) repairFor(b []byte) *fastStream {
	waiting := in.repairs.Load()
	if waiting == nil || len(*waiting) == 0 || in.guard == nil {
		return nil
	}
	spec := in.guard.sim.Load()
	if spec == nil {
		return nil
	}
	mid, rid, repair, _, ok := spec.layerOf(b)
	if !ok || !repair {
		return nil
	}
	for _, s := range *waiting {
		if s.mid == string(mid) && s.l.rid == string(rid) {
			return &fastStream{t: s.t, l: s.l, rtx: true, pt: s.pt}
		}
	}
	return nil
}

// adoptRepair makes rtx, a layer's retransmissions on the SSRC of b, a
// packet that opened, the fast path's, unless the layer has one already.
func (in *fastIn) adoptRepair(rtx *fastStream, b []byte) {
	ssrc := binary.BigEndian.Uint32(b[8:12])
	in.mu.Lock()
	defer in.mu.Unlock()
	old := in.repairs.Load()
	if old == nil {
		return
	}
	i := slices.IndexFunc(*old, func(s *fastStream) bool { return s.l == rtx.l })
	if i < 0 {
		return
	}
	next := slices.Delete(slices.Clone(*old), i, i+1)
	in.repairs.Store(&next)
	streams := map[uint32]*fastStream{}
	for k, v := range *in.streams.Load() {
		streams[k] = v
	}
	streams[ssrc] = rtx
	in.streams.Store(&streams)
}
