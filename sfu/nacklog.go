package sfu

import (
	"encoding/binary"

	"github.com/pion/rtcp"
)

// NACKs to publishers.
//
// Video negotiates generic NACK (RFC 4585): the server asks a publisher
// again for what did not arrive, and the publisher retransmits. pion's
// NACK generator did that while pion read the streams; with the fast path
// the server keeps, per video layer, which of its last nackWindow
// sequence numbers arrived (on either path, retransmissions included),
// and the feedback ticker (feedback.go) asks for the missing ones, each
// at most maxNACKTries times. Fixed arrays: nothing is allocated per
// packet, and a layer's log is the same size whatever a client sends.

const (
	// nackWindow is how many sequence numbers back a layer's log reaches:
	// a few seconds of a low layer, half a second of a high one, past
	// which a retransmission would come too late to be of use.
	nackWindow = 256
	// maxNACKTries: a packet is asked for once per feedbackInterval, at
	// most this many times.
	maxNACKTries = 8
	// maxNACKsPerTick bounds the sequence numbers asked for in one NACK.
	maxNACKsPerTick = 64
)

// nackLog is what arrived of one stream. Under the track's fwdMu.
type nackLog struct {
	started bool
	top     uint16 // the highest sequence number seen
	// span is how many sequence numbers up to and including top the log
	// covers: fewer than nackWindow just after the stream starts.
	span  uint16
	seen  [nackWindow / 64]uint64 // bit seq%nackWindow: arrived
	tries [nackWindow]uint8       // NACKs sent for seq%nackWindow
}

func (n *nackLog) mark(seq uint16) {
	i := seq % nackWindow
	n.seen[i/64] |= 1 << (i % 64)
}

func (n *nackLog) has(seq uint16) bool {
	i := seq % nackWindow
	return n.seen[i/64]&(1<<(i%64)) != 0
}

// reset forgets seq's slot, for a sequence number not yet seen.
func (n *nackLog) reset(seq uint16) {
	i := seq % nackWindow
	n.seen[i/64] &^= 1 << (i % 64)
	n.tries[i] = 0
}

// add records that seq arrived.
func (n *nackLog) add(seq uint16) {
	if !n.started {
		n.started, n.top, n.span = true, seq, 1
		n.mark(seq)
		return
	}
	d := seq - n.top
	switch {
	case d == 0:
	case d < 0x8000: // ahead of top
		if d >= nackWindow {
			// Too much lost to ask for: start afresh.
			n.seen, n.tries = [nackWindow / 64]uint64{}, [nackWindow]uint8{}
			n.span = 1
		} else {
			for s := n.top + 1; s != seq; s++ {
				n.reset(s)
			}
			n.reset(seq)
			n.span = min(n.span+d, nackWindow)
		}
		n.top = seq
		n.mark(seq)
	default: // behind: late, or a retransmission
		if n.top-seq < n.span {
			n.mark(seq)
		}
	}
}

// missing appends to dst, oldest first, the sequence numbers below top
// that have not arrived and may be asked for again, and counts the ask.
func (n *nackLog) missing(dst []uint16) []uint16 {
	if !n.started {
		return dst
	}
	for i := n.span - 1; i >= 1 && len(dst) < maxNACKsPerTick; i-- {
		seq := n.top - i
		if n.has(seq) || n.tries[seq%nackWindow] >= maxNACKTries {
			continue
		}
		n.tries[seq%nackWindow]++
		dst = append(dst, seq)
	}
	return dst
}

// nackSize is the size of a NACK for seqs.
func nackSize(seqs []uint16) int {
	return 12 + 4*nackPairs(seqs, nil)
}

// nackPairs counts the (PID, BLP) pairs that carry seqs, ascending, and
// writes them to b when it is not nil.
func nackPairs(seqs []uint16, b []byte) int {
	n := 0
	for i := 0; i < len(seqs); {
		pid := seqs[i]
		var blp uint16
		for i++; i < len(seqs) && seqs[i]-pid <= 16 && seqs[i] != pid; i++ {
			blp |= 1 << (seqs[i] - pid - 1)
		}
		if b != nil {
			binary.BigEndian.PutUint16(b[4*n:], pid)
			binary.BigEndian.PutUint16(b[4*n+2:], blp)
		}
		n++
	}
	return n
}

// putNACK writes a generic NACK (RFC 4585 §6.2.1) from sender about media
// for seqs, ascending, to b and returns its size (nackSize).
func putNACK(b []byte, sender, media uint32, seqs []uint16) int {
	pairs := nackPairs(seqs, b[12:])
	n := 12 + 4*pairs
	b[0] = 0x80 | rtcp.FormatTLN
	b[1] = byte(rtcp.TypeTransportSpecificFeedback)
	binary.BigEndian.PutUint16(b[2:], uint16(n/4-1))
	binary.BigEndian.PutUint32(b[4:], sender)
	binary.BigEndian.PutUint32(b[8:], media)
	return n
}
