package sfu

import "sync/atomic"

// sendLogSize is how many of a subscriber's last packets its sendLog
// remembers: a power of two, two seconds of eight tiles at their best
// (about 1,000 packets a second), far more than feedback takes to come
// back.
const sendLogSize = 2048

// sendLog numbers the video packets sent to one subscriber with
// transport-wide sequence numbers (the transport-cc header extension),
// and remembers when each left and how large it was, for the feedback
// that tells when each arrived (delaybwe.go). Every publisher's reader and
// the subscriber's RTCP readers (retransmissions, probes) write to it at
// once, so each entry is one atomic word: the sequence number it is for,
// the size, and the send time in microseconds modulo 2^32 (71 minutes;
// only differences between packets a few seconds apart are used). It
// allocates nothing.
type sendLog struct {
	next    atomic.Uint32
	entries [sendLogSize]atomic.Uint64
}

// add numbers a packet of size bytes (as sent, RTP header and payload)
// that leaves at unixNs, and returns its sequence number.
func (s *sendLog) add(size int, unixNs int64) uint16 {
	seq := uint16(s.next.Add(1) - 1)
	us := uint32(unixNs / 1e3)
	s.entries[seq%sendLogSize].Store(uint64(seq)<<48 | uint64(min(size, 0xffff))<<32 | uint64(us))
	return seq
}

// lookup returns the send time (µs modulo 2^32) and size of the packet
// numbered seq, if it is still remembered.
func (s *sendLog) lookup(seq uint16) (sentUs uint32, size int, ok bool) {
	v := s.entries[seq%sendLogSize].Load()
	if v == 0 || uint16(v>>48) != seq {
		return 0, 0, false
	}
	return uint32(v), int(v >> 32 & 0xffff), true
}
