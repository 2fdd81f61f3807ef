package app

import (
	"slices"
	"testing"
	"time"
)

// TestGCBurstSteps: the collector goes to Burst on the first interval that
// allocates MinBytes or more, stays
// there while allocation stays fast, and returns to Base, handing memory
// back, once it has been slow for Quiet.
func TestGCBurstSteps(t *testing.T) {
	const mib = 1 << 20
	var allocs uint64
	var set []int
	frees := 0
	g := NewGCBurst(GCBurstConfig{Base: 10, Burst: 100, Interval: time.Second, Quiet: 2 * time.Second, MinBytes: 2 * mib})
	g.read = func() uint64 { return allocs }
	g.set = func(p int) { set = append(set, p) }
	g.free = func() { frees++ }

	for i, c := range []struct {
		alloc     uint64 // allocated during the interval
		want      []int  // percents set so far
		bursting  bool
		wantFrees int
	}{
		{1 * mib, nil, false, 0},                 // steady: scrapes, a join
		{2*mib - 1, nil, false, 0},               // just under MinBytes
		{30 * mib, []int{100}, true, 0},          // a wave starts
		{50 * mib, []int{100}, true, 0},          // and goes on
		{1 * mib, []int{100}, true, 0},           // slow for 1 s
		{40 * mib, []int{100}, true, 0},          // fast again: the quiet starts over
		{1 * mib, []int{100}, true, 0},           // 1 s
		{1 * mib, []int{100, 10}, false, 1},      // 2 s: back, memory returned
		{1 * mib, []int{100, 10}, false, 1},      // steady
		{20 * mib, []int{100, 10, 100}, true, 1}, // the next wave
	} {
		allocs += c.alloc
		g.step()
		if !slices.Equal(set, c.want) || g.bursting != c.bursting || frees != c.wantFrees {
			t.Fatalf("step %d: set %v, bursting %v, %d frees; want %v, %v, %d", i, set, g.bursting, frees, c.want, c.bursting, c.wantFrees)
		}
	}

}

// TestGCBurstOff: with Burst not above Base, Run returns at once and sets
// nothing.
func TestGCBurstOff(t *testing.T) {
	g := NewGCBurst(GCBurstConfig{Base: 100, Burst: 50})
	g.set = func(int) { t.Error("the collector was set") }
	g.Run(t.Context())
}
