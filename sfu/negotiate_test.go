package sfu

import (
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// TestNegotiationBatch: when several people start publishing together,
// each of the others gets one offer for all of them rather than one each,
// and everyone still receives everyone. The batch is long here (5 s) so
// that the publications, within a few tens of milliseconds, fall into one
// batch however busy the machine; the first offer of each join goes at
// once regardless (the joins below would wait 5 s each otherwise).
// Without the batch, each gets 4 or 5 offers here (folded only while one
// is outstanding).
func TestNegotiationBatch(t *testing.T) {
	room := newTestRoomConfig(t, Config{NegotiationBatch: 5 * time.Second})
	const n = 5
	start := make(chan struct{})
	listener := room.join("listener", clientOpts{})
	var pubs []*testClient
	for i := range n {
		pubs = append(pubs, room.join(string(rune('a'+i)), clientOpts{audio: true, hold: start}))
	}
	all := append([]*testClient{listener}, pubs...)
	for _, c := range all {
		waitFor(t, c.id+" connected", func() bool {
			return c.pc.ConnectionState() == webrtc.PeerConnectionStateConnected
		})
	}
	// One offer each so far: the first, sent at once.
	for _, c := range all {
		if got := c.offers.Load(); got != 1 {
			t.Fatalf("%s: %d offers before anyone published, want 1", c.id, got)
		}
	}
	close(start)
	for _, c := range all {
		for _, p := range pubs {
			if p == c {
				continue
			}
			waitFor(t, c.id+" hears "+p.id, func() bool {
				s := c.stream(p.id, KindAudio)
				return s != nil && len(s.packets()) > 0
			})
		}
	}
	for _, c := range all {
		// The first offer, then one for the batch; a second for a
		// publication that came in after the batch's offer went.
		if got := c.offers.Load(); got > 3 {
			t.Errorf("%s: %d offers for %d publishers starting together, want at most 3", c.id, got, n)
		}
	}
}
