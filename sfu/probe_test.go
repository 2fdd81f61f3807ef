package sfu

import (
	"testing"
	"time"
)

// TestProbe: a subscriber held below what it wants is tried one layer up,
// the most important tile first, no sooner than probeEvery apart; the
// tried layer holds for probeHold unless the estimate falls; a trial that
// did not hold doubles the wait up to probeMaxEvery, one that held resets
// it; with nothing held back the next trial may start at once.
func TestProbe(t *testing.T) {
	a, b := &downTrack{}, &downTrack{}
	a.want.Store(int32(layerNone))
	b.want.Store(0)
	rates := []int{100, 300, 900}
	// a is more important (first), paused; b at 0 of 2.
	tiles := func() []tile {
		return []tile{{d: a, rates: rates, most: 2, layer: layerNone}, {d: b, rates: rates, most: 2, layer: 0}}
	}
	var p probe
	t0 := time.Unix(1000, 0)
	tryHigher(&p, tiles(), 1000, t0)
	if got := int8(a.want.Load()); got != 0 || p.d != a {
		t.Fatalf("a tried at layer %d (probe on %p, a %p), want 0", got, p.d, a)
	}
	if !p.holding(t0.Add(probeHold/2), 1000) {
		t.Error("the trial does not hold while the estimate stands")
	}
	if p.holding(t0.Add(probeHold/2), 800) {
		t.Error("the trial holds though the estimate fell")
	}
	// It did not hold: the fit took a back down.
	a.want.Store(int32(layerNone))
	end := t0.Add(probeHold)
	p.settle(end)
	if p.d != nil || p.every != 2*probeEvery {
		t.Errorf("after a trial that did not hold: wait %v, want %v", p.every, 2*probeEvery)
	}
	tryHigher(&p, tiles(), 1000, end.Add(probeEvery))
	if a.want.Load() != int32(layerNone) || p.d != nil {
		t.Error("a trial started before its wait was over")
	}
	at := end.Add(2 * probeEvery)
	tryHigher(&p, tiles(), 1000, at)
	if p.d != a || a.want.Load() != 0 {
		t.Fatal("no trial once the wait was over")
	}
	// This one held: the wait goes back to probeEvery, and the next tile
	// held back (b) is tried next.
	p.settle(at.Add(probeHold))
	if p.every != probeEvery {
		t.Errorf("after a trial that held: wait %v, want %v", p.every, probeEvery)
	}
	next := at.Add(probeHold + probeEvery)
	tryHigher(&p, []tile{{d: a, rates: rates, most: 0, layer: 0}, {d: b, rates: rates, most: 2, layer: 0}}, 1000, next)
	if p.d != b || b.want.Load() != 1 {
		t.Errorf("b not tried one layer up: want %d", b.want.Load())
	}
	// Failures double the wait up to probeMaxEvery.
	for range 10 {
		p.d, p.layer, p.until = b, 2, next
		p.settle(next)
	}
	if p.every != probeMaxEvery {
		t.Errorf("wait %v after many failures, want %v", p.every, probeMaxEvery)
	}
	// Nothing held back: the next trial may start at once.
	tryHigher(&p, []tile{{d: b, rates: rates, most: 1, layer: 1}}, 1000, next)
	if !p.due(next) || p.every != probeEvery {
		t.Error("with nothing held back, the next trial still waits")
	}
}
