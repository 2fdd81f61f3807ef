package sfu

import (
	"slices"
	"testing"

	"github.com/pion/rtcp"
)

// TestNACKLog: what is asked for again is what did not arrive below the
// highest sequence number, oldest first, across a wrap; a late packet or
// a retransmission stops the asking; each is asked for at most
// maxNACKTries times; a jump past the window forgets what was before it.
func TestNACKLog(t *testing.T) {
	for _, c := range []struct {
		name    string
		arrived []uint16
		want    []uint16
	}{
		{"nothing yet", nil, nil},
		{"in order", []uint16{1, 2, 3}, nil},
		{"a gap", []uint16{1, 2, 5}, []uint16{3, 4}},
		{"across the wrap", []uint16{65534, 1}, []uint16{65535, 0}},
		{"late", []uint16{1, 2, 5, 3}, []uint16{4}},
		{"nothing before the first", []uint16{100, 102}, []uint16{101}},
		{"a late packet before the first", []uint16{100, 101, 99}, nil},
		{"a jump past the window", []uint16{1, 3, 3 + nackWindow + 10}, nil},
		{"a wide gap", []uint16{0, 50}, seqRange(1, 50)},
	} {
		t.Run(c.name, func(t *testing.T) {
			var n nackLog
			for _, s := range c.arrived {
				n.add(s)
			}
			if got := n.missing(nil); !slices.Equal(got, c.want) {
				t.Errorf("missing %v, want %v", got, c.want)
			}
		})
	}
	var n nackLog
	n.add(1)
	n.add(3)
	for i := range maxNACKTries {
		if got := n.missing(nil); !slices.Equal(got, []uint16{2}) {
			t.Fatalf("ask %d: %v, want [2]", i, got)
		}
	}
	if got := n.missing(nil); got != nil {
		t.Errorf("asked %d times, then %v; want nothing", maxNACKTries, got)
	}
	// Its slot, reused a window later, is asked for afresh.
	for s := uint16(4); s < 2+nackWindow; s++ {
		n.add(s)
	}
	n.add(2 + nackWindow + 1)
	if got := n.missing(nil); !slices.Equal(got, []uint16{2 + nackWindow}) {
		t.Errorf("after a window: %v, want [%d]", got, 2+nackWindow)
	}
	// However much is lost, one ask is bounded.
	var m nackLog
	m.add(0)
	m.add(nackWindow - 1)
	if got := m.missing(nil); len(got) != maxNACKsPerTick || got[0] != 1 {
		t.Errorf("asked for %d at once from %v, want %d from 1", len(got), got[:1], maxNACKsPerTick)
	}
}

func seqRange(from, to uint16) []uint16 {
	var out []uint16
	for s := from; s != to; s++ {
		out = append(out, s)
	}
	return out
}

// TestPutNACK: the NACK written by hand reads back, with pion, as the
// sequence numbers it was given.
func TestPutNACK(t *testing.T) {
	for _, seqs := range [][]uint16{
		{7},
		{1, 2, 3, 17, 18, 40},
		{65530, 65535, 0, 4, 30},
		seqRange(100, 100+maxNACKsPerTick),
	} {
		b := make([]byte, nackSize(seqs))
		if n := putNACK(b, 11, 22, seqs); n != len(b) {
			t.Fatalf("%v: wrote %d bytes, sized %d", seqs, n, len(b))
		}
		var p rtcp.TransportLayerNack
		if err := p.Unmarshal(b); err != nil {
			t.Fatalf("%v: %v", seqs, err)
		}
		var got []uint16
		for _, pair := range p.Nacks {
			got = append(got, pair.PacketList()...)
		}
		if p.SenderSSRC != 11 || p.MediaSSRC != 22 || !slices.Equal(got, seqs) {
			t.Errorf("%v: read back %d %d %v", seqs, p.SenderSSRC, p.MediaSSRC, got)
		}
	}
}
