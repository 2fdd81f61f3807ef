package sfu

import (
	"testing"
	"time"

	"github.com/pion/rtp"
)

func TestPacketHistory(t *testing.T) {
	var h packetHistory
	put := func(seq uint16, payload byte) {
		h.put(&rtp.Packet{Header: rtp.Header{SequenceNumber: seq, Timestamp: uint32(seq) * 3000, Marker: seq%2 == 0},
			Payload: []byte{payload, payload}})
	}
	for seq := uint16(65500); seq != 100; seq++ {
		put(seq, byte(seq))
	}
	if e := h.get(65535); e == nil || e.ts != 65535*3000 || e.payload[0] != 0xff || e.marker {
		t.Fatalf("packet 65535: %+v", e)
	}
	if e := h.get(98); e == nil || !e.marker || e.payload[1] != 98 {
		t.Fatalf("packet 98 after the wrap: %+v", e)
	}
	if e := h.get(100); e != nil {
		t.Fatal("a packet that never came")
	}
	// Gone round: the oldest are overwritten.
	for seq := uint16(100); seq != 100+historySize; seq++ {
		put(seq, 1)
	}
	if h.get(99) != nil {
		t.Error("packet 99 still there a whole ring later")
	}
	if a := testing.AllocsPerRun(1000, func() { put(700, 7) }); a != 0 {
		t.Errorf("put allocates %.1f times once the ring has gone round", a)
	}
	// Video's packets vary in size all the time: entries that held small
	// packets have room for a browser's largest, so a larger packet on
	// them allocates nothing either.
	for i := range h.entries {
		if c := cap(h.entries[i].payload); c < historyPayload {
			t.Fatalf("entry %d holds %d bytes: a larger packet would allocate again", i, c)
		}
	}
}

func TestSentMap(t *testing.T) {
	var m sentMap
	if _, ok := m.lookup(0); ok {
		t.Error("sequence number 0 found before anything was sent")
	}
	m.record(0, 40000, 2, 1234)
	m.record(65535, 39999, 0, 99)
	if e, ok := m.lookup(0); !ok || e.pub != 40000 || e.layer != 2 || e.ts != 1234 {
		t.Errorf("lookup(0) = %+v, %v", e, ok)
	}
	if e, ok := m.lookup(65535); !ok || e.pub != 39999 || e.layer != 0 || e.ts != 99 {
		t.Errorf("lookup(65535) = %+v, %v", e, ok)
	}
	m.record(historySize, 1, 0, 0)
	if _, ok := m.lookup(0); ok {
		t.Error("an overwritten entry still found")
	}
}

func TestResendBudget(t *testing.T) {
	var b resendBudget
	now := time.Now()
	n := 0
	for b.take(now) {
		n++
	}
	if n != resendBurst {
		t.Fatalf("burst of %d, want %d", n, resendBurst)
	}
	n = 0
	later := now.Add(100 * time.Millisecond)
	for b.take(later) {
		n++
	}
	if want := resendRate / 10; n < want-1 || n > want+1 {
		t.Errorf("%d more after 100 ms, want about %d", n, want)
	}
}
