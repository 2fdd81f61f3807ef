package sfu

import (
	"testing"
	"time"
)

// wantOf is the layer sub is to get of pub's video.
func wantOf(r *Router, sub, pub string) int8 {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, d := range r.peers[sub].downs {
		if d.pub.info.Publisher == pub && d.kind == KindVideo {
			return int8(d.want.Load())
		}
	}
	return -2
}

// TestBandwidthProbe: a single-layer camera paused for a subscriber whose
// estimate dropped is tried again after a while, although the estimate
// (made from what arrives) has no reason to rise by itself; when the
// estimate does not follow, the video pauses again and is tried again
// later, a's video never giving way; with room again it stays.
func TestBandwidthProbe(t *testing.T) {
	room := newTestRoom(t)
	room.router.probeGap = probeHold / 3
	room.join("a", clientOpts{audio: true, rids: []string{""}})
	room.join("b", clientOpts{audio: true, rids: []string{""}})
	sub := room.join("s", clientOpts{})
	r := room.router
	if !r.SetImportance("s", []string{"a", "b"}) {
		t.Fatal("importance not set")
	}
	waitFor(t, "both videos flowing, every rate measured", func() bool {
		aa, av := rates(r, "a")
		ba, bv := rates(r, "b")
		return wantOf(r, "s", "a") == 0 && wantOf(r, "s", "b") == 0 && aa > 0 && ba > 0 && av[0] > 0 && bv[0] > 0
	})
	aa, av := rates(r, "a")
	ba, bv := rates(r, "b")

	// Room for a's video alone, on a link losing 20 %: b's pauses.
	sub.lost.Store(52)
	sub.remb.Store(int64(aa + ba + av[0] + bv[0]/2))
	waitFor(t, "b paused", func() bool { return wantOf(r, "s", "b") == layerNone })
	for try := range 2 {
		before := room.forwarded("s", "b", KindVideo)
		waitFor(t, "b tried again", func() bool { return wantOf(r, "s", "b") == 0 })
		waitFor(t, "b's video during the try", func() bool { return room.forwarded("s", "b", KindVideo) > before })
		waitFor(t, "b paused again: the estimate did not follow", func() bool { return wantOf(r, "s", "b") == layerNone })
		t.Logf("try %d done", try+1)
		if wantOf(r, "s", "a") != 0 {
			t.Error("a gave way to b's try")
		}
	}

	// An estimate that follows keeps the video on.
	sub.lost.Store(0)
	sub.remb.Store(int64((aa + ba + av[0] + bv[0]) * 3 / 2))
	waitFor(t, "b back", func() bool { return wantOf(r, "s", "b") == 0 })
	n := room.forwarded("s", "b", KindVideo)
	waitFor(t, "b's video goes on", func() bool {
		return wantOf(r, "s", "b") == 0 && room.forwarded("s", "b", KindVideo) >= n+200
	})
	checkContinuous(t, "b", videoFrom(sub, "b"))
}

// TestBandwidthNotLosing: an estimate below what a subscriber receives,
// from a subscriber that reports nothing lost (as Firefox's does), does
// not pause anyone's video; the same estimate with loss does.
func TestBandwidthNotLosing(t *testing.T) {
	room := newTestRoom(t)
	room.router.probeGap = time.Hour
	room.join("a", clientOpts{audio: true, rids: []string{""}})
	room.join("b", clientOpts{audio: true, rids: []string{""}})
	sub := room.join("s", clientOpts{})
	r := room.router
	waitFor(t, "both videos flowing, every rate measured", func() bool {
		aa, av := rates(r, "a")
		ba, bv := rates(r, "b")
		return wantOf(r, "s", "a") == 0 && wantOf(r, "s", "b") == 0 && aa > 0 && ba > 0 && av[0] > 0 && bv[0] > 0
	})
	aa, av := rates(r, "a")
	ba, bv := rates(r, "b")
	sub.lost.Store(1) // reported, and under 10 %
	sub.remb.Store(int64(aa + ba + av[0] + bv[0]/2))
	n := room.forwarded("s", "b", KindVideo)
	waitFor(t, "b's video goes on", func() bool {
		if wantOf(r, "s", "b") != 0 || wantOf(r, "s", "a") != 0 {
			t.Fatal("a video paused for a subscriber that loses nothing")
		}
		return room.forwarded("s", "b", KindVideo) >= n+150
	})
	sub.lost.Store(52)
	waitFor(t, "b paused once the link loses", func() bool { return wantOf(r, "s", "b") == layerNone })
}

// TestProberClimbsAfterSuccess: a try whose tile kept its layer through
// the hold makes the next try come after the first gap, not a doubled
// one; a try whose tile went down again leaves the gap doubled.
func TestProberClimbsAfterSuccess(t *testing.T) {
	const first = 4 * time.Second
	var p prober
	now := time.Unix(1000, 0)
	if p.due(now, first) {
		t.Fatal("a try due at once; the first waits")
	}
	now = now.Add(first)
	if !p.due(now, first) {
		t.Fatal("no try due after the first gap")
	}
	kept := &downTrack{}
	kept.want.Store(1)
	p.start(kept, 1, now, 100_000)
	for range 3 { // three tries that hold: the gap would be 32 s by now
		now = now.Add(probeHold)
		if p.due(now, first) {
			t.Fatal("a try due right after the last one ended")
		}
		now = now.Add(first)
		if !p.due(now, first) {
			t.Fatalf("no try due %v after a try that held", first)
		}
		p.start(kept, 1, now, 100_000)
	}

	dropped := &downTrack{}
	dropped.want.Store(0) // taken down again by the fit
	p.start(dropped, 1, now, 100_000)
	now = now.Add(probeHold)
	p.due(now, first)
	now = now.Add(first)
	p.due(now, first)
	p.start(dropped, 1, now, 100_000)
	if p.gap <= first {
		t.Errorf("gap %v after a failed try, want it doubled", p.gap)
	}
}
