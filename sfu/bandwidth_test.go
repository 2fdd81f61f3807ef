package sfu

import (
	"slices"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// TestFitTiles: tiles start at what they want; while they do not fit, the
// least important that can go lower does, a layer at a time, skipping
// layers not sent; once all are at their lowest, the least important are
// paused.
func TestFitTiles(t *testing.T) {
	rates := []int{100, 300, 900}
	for _, c := range []struct {
		name   string
		budget int
		most   []int8 // by importance, most first
		rates  [][]int
		want   []int8
	}{
		{"all fit", 10000, []int8{2, 2, 2}, nil, []int8{2, 2, 2}},
		{"as wanted, below the top", 10000, []int8{1, 0, 2}, nil, []int8{1, 0, 2}},
		{"the least important steps down first", 2100, []int8{2, 2, 2}, nil, []int8{2, 2, 1}},
		{"to its lowest before the next", 1300, []int8{2, 2, 2}, nil, []int8{2, 1, 0}},
		{"then the most important", 500, []int8{2, 2, 2}, nil, []int8{1, 0, 0}},
		{"all at the lowest", 300, []int8{2, 2, 2}, nil, []int8{0, 0, 0}},
		{"then the least important is paused", 250, []int8{2, 2, 2}, nil, []int8{0, 0, layerNone}},
		{"and the next", 150, []int8{2, 2, 2}, nil, []int8{0, layerNone, layerNone}},
		{"nothing fits", 50, []int8{2, 2, 2}, nil, []int8{layerNone, layerNone, layerNone}},
		{"a layer not sent is skipped", 500, []int8{2}, [][]int{{100, 0, 900}}, []int8{0}},
	} {
		tiles := make([]tile, len(c.most))
		for i, m := range c.most {
			r := rates
			if c.rates != nil {
				r = c.rates[i]
			}
			tiles[i] = tile{rank: i, most: m, rates: slices.Clone(r)}
		}
		// Given in any order.
		slices.Reverse(tiles)
		fitTiles(tiles, c.budget)
		got := make([]int8, len(tiles))
		for _, tl := range tiles {
			got[tl.rank] = tl.layer
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: layers %v, want %v", c.name, got, c.want)
		}
	}
}

// TestResendShare: with an estimate, retransmissions may take a tenth of
// it (half a second's worth at once); without one, the sections' own
// budgets alone hold them. What is resent is counted for fitting.
func TestResendShare(t *testing.T) {
	var b bandwidth
	now := time.Now()
	for range 100 {
		if !b.resend(1200, now) {
			t.Fatal("a resend refused with no estimate")
		}
	}
	b.tick(now)
	b.report(960_000) // 12,000 bytes a second for resends
	n := 0
	for b.resend(1200, now) {
		n++
	}
	if n != 5 {
		t.Errorf("%d resent at once, want 5 (6,000 bytes)", n)
	}
	later := now.Add(time.Second)
	n = 0
	for b.resend(1200, later) {
		n++
	}
	if n != 5 {
		t.Errorf("%d resent a second later, want 5 (the burst, refilled)", n)
	}
	if got := b.tick(later); got != 10*1200*8 {
		t.Errorf("resent at %d bit/s, want %d", got, 10*1200*8)
	}

	// Once a fit has set what video may take: the share is of that.
	b.take(1_920_000)
	muchLater := later.Add(time.Second)
	n = 0
	for b.resend(1200, muchLater) {
		n++
	}
	if n != 10 {
		t.Errorf("%d resent at once with video let take twice the estimate, want 10 (12,000 bytes)", n)
	}
	b.take(600_000)
	n = 0
	for b.resend(1200, muchLater.Add(time.Second)) {
		n++
	}
	if n != 3 {
		t.Errorf("%d resent at once with video let take 600 kbit/s, want 3 (3,750 bytes)", n)
	}

	// However little video: a burst of three packets, refilled at 32
	// kbit/s.
	b.take(50_000)
	at := muchLater.Add(3 * time.Second)
	n = 0
	for b.resend(1200, at) {
		n++
	}
	if n != 3 {
		t.Errorf("%d resent at once with 50 kbit/s of video, want 3 (the least burst)", n)
	}
	n = 0
	for b.resend(1000, at.Add(500*time.Millisecond)) {
		n++
	}
	if n != 2 {
		t.Errorf("%d resent half a second later, want 2 (2,000 bytes at 32 kbit/s)", n)
	}
}

// TestRoundTrip: the round trip to a subscriber is what its report blocks
// say (the time since the sender report they name, less the delay they
// report), smoothed; blocks that name no sender report, or that give a
// round trip past 5 s, are not taken.
func TestRoundTrip(t *testing.T) {
	var b bandwidth
	now := time.Unix(1_800_000_000, 0)
	mid := func(t time.Time) uint32 { return uint32(ntpTime(t) >> 16) }
	units := func(d time.Duration) uint32 { return uint32(d * 65536 / time.Second) }
	near := func(got, want time.Duration) bool { return (got - want).Abs() < time.Millisecond }

	b.roundTrip(0, 0, now)
	b.roundTrip(mid(now.Add(-time.Hour)), 0, now)
	if got := b.rtt.Load(); got != 0 {
		t.Fatalf("round trip %v from blocks that name no sender report or one an hour old", time.Duration(got))
	}
	// The report left 300 ms ago; the subscriber held it 100 ms.
	b.reports([]rtcp.ReceptionReport{{LastSenderReport: mid(now.Add(-300 * time.Millisecond)), Delay: units(100 * time.Millisecond)}}, now)
	if got := time.Duration(b.rtt.Load()); !near(got, 200*time.Millisecond) {
		t.Errorf("round trip %v, want 200 ms", got)
	}
	b.roundTrip(mid(now.Add(-1000*time.Millisecond)), units(200*time.Millisecond), now)
	if got := time.Duration(b.rtt.Load()); !near(got, 275*time.Millisecond) {
		t.Errorf("round trip %v after one of 800 ms, want 275 ms (an eighth of the way)", got)
	}
}

// rates are what the server measures of a publisher's media, in bits per
// second: its audio, and each layer of its video.
// peakRates is the highest of each of pub's rates seen over d.
func peakRates(r *Router, pub string, d time.Duration) (audio int, video [maxLayers]int) {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		a, v := rates(r, pub)
		audio = max(audio, a)
		for i := range video {
			video[i] = max(video[i], v[i])
		}
	}
	return audio, video
}

func rates(r *Router, pub string) (audio int, video [maxLayers]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range r.peers[pub].published {
		for i := range maxLayers {
			if l := t.layer(int8(i)); l != nil {
				if t.info.Kind == KindAudio {
					audio = int(l.rate.Load())
				} else {
					video[i] = int(l.rate.Load())
				}
			}
		}
	}
	return audio, video
}

// lastLayer is the layer of the last video packet sub received from pub,
// -1 if none.
func lastLayer(sub *testClient, pub string) int {
	p := videoFrom(sub, pub)
	if len(p) == 0 {
		return -1
	}
	return int(p[len(p)-1].layer)
}

// TestBandwidthSteps: a subscriber whose estimate (REMB, from a real pion
// peer) cannot carry both publishers' top layers gets the less important
// one's lower first; when even the lowest layers do not fit, the less
// important one's video pauses while both are heard, and the subscriber is
// told it is held back (OnVideoHeld); with room again, both come back to
// the top, and it is told so.
func TestBandwidthSteps(t *testing.T) {
	room := newTestRoom(t)
	room.router.probeGap = time.Hour // fitting alone; TestBandwidthProbe tries
	room.join("a", clientOpts{audio: true, rids: []string{"q", "h", "f"}})
	room.join("b", clientOpts{audio: true, rids: []string{"q", "h", "f"}})
	sub := room.join("s", clientOpts{})
	r := room.router
	if !r.SetImportance("s", []string{"a", "b"}) {
		t.Fatal("importance not set")
	}
	waitFor(t, "both at the top layer, every rate measured", func() bool {
		aa, av := rates(r, "a")
		ba, bv := rates(r, "b")
		return lastLayer(sub, "a") == 2 && lastLayer(sub, "b") == 2 && aa > 0 && ba > 0 && !slices.Contains(av[:], 0) && !slices.Contains(bv[:], 0)
	})
	// The budgets below are cut between the layers' rates: take each at
	// its peak over a few seconds, as a busy machine's sender may have
	// just fallen behind.
	aa, av := peakRates(r, "a", 3*time.Second)
	ba, bv := peakRates(r, "b", 3*time.Second)
	audio := aa + ba

	// Room for a's top and b's lowest, on a link losing 20 % (the
	// client's own receiver reports, saying 0, lower the mean taken).
	sub.lost.Store(52)
	sub.remb.Store(int64(audio + av[2] + bv[0] + (bv[1]-bv[0])/2))
	waitFor(t, "b down to layer 0", func() bool { return lastLayer(sub, "b") == 0 })
	n := len(videoFrom(sub, "a"))
	waitFor(t, "25 more packets of a", func() bool { return len(videoFrom(sub, "a")) >= n+25 })
	if l := layersIn(videoFrom(sub, "a")[n:]); !slices.Equal(l, []byte{2}) {
		na, nav := rates(r, "a")
		nb, nbv := rates(r, "b")
		t.Errorf("a, the more important, went to layers %v (peak rates a %d %v, b %d %v; now a %d %v, b %d %v; estimate %d)", l, aa, av, ba, bv, na, nav, nb, nbv, sub.remb.Load())
	}

	// Room for a's lowest alone: b's video pauses, both are heard. (Counted
	// at the server: the client may read one stream later than another.)
	// The loss (20 %) takes a tenth off what is sent each second until the
	// estimate is what holds (losscontrol.go).
	sub.remb.Store(int64(audio + av[0] + bv[0]/2))
	waitFor(t, "a down to layer 0, b paused", func() bool { return lastLayer(sub, "a") == 0 && wantOf(r, "s", "b") == layerNone })
	// b was paused at the end of its frame then under way (one packet
	// here).
	bVideo, aVideo := room.forwarded("s", "b", KindVideo), room.forwarded("s", "a", KindVideo)
	heard := [2]uint64{room.forwarded("s", "a", KindAudio), room.forwarded("s", "b", KindAudio)}
	waitFor(t, "both heard, 50 packets more each", func() bool {
		return room.forwarded("s", "a", KindAudio) >= heard[0]+50 && room.forwarded("s", "b", KindAudio) >= heard[1]+50
	})
	if got := room.forwarded("s", "b", KindVideo); got > bVideo+1 {
		t.Errorf("b's video went on: %d packets more", got-bVideo)
	}
	waitFor(t, "a's video flows", func() bool { return room.forwarded("s", "a", KindVideo) >= aVideo+25 })
	// The subscriber is told that b's video is held back, a's not.
	waitFor(t, "s told b's video is held back", func() bool { return room.heldNow()[[2]string{"s", "b"}] })
	if room.heldNow()[[2]string{"s", "a"}] {
		t.Error("s told a's video is held back, though it flows")
	}

	// Room again: both back at the top, b from a keyframe.
	sub.lost.Store(0)
	sub.remb.Store(10_000_000)
	waitFor(t, "both back at layer 2", func() bool { return lastLayer(sub, "a") == 2 && lastLayer(sub, "b") == 2 })
	if room.heldNow()[[2]string{"s", "b"}] {
		t.Error("b's video flows again, but s was not told it is no longer held back")
	}
	checkContinuous(t, "b", videoFrom(sub, "b"))
	checkContinuous(t, "a", videoFrom(sub, "a"))
}

// TestBelieved: an estimate below what a subscriber is sent is not
// believed while it reports losing less than a twentieth (random loss on
// a noisy link): what is sent, and 5 %, is taken; from a twentieth on (a
// full link's queue dropping), what is sent less half the fraction lost,
// or the estimate if it says more.
func TestBelieved(t *testing.T) {
	for _, tc := range []struct {
		budget, sent int
		lost         uint8
		want         int
	}{
		{budget: 50_000, sent: 360_000, lost: 0, want: 378_000},
		{budget: 50_000, sent: 360_000, lost: 8, want: 378_000}, // 3 %
		{budget: 50_000, sent: 360_000, lost: 12, want: 378_000},
		{budget: 50_000, sent: 360_000, lost: 13, want: 350_859},  // 5 %
		{budget: 50_000, sent: 360_000, lost: 20, want: 345_937},  // 8 %
		{budget: 50_000, sent: 360_000, lost: 128, want: 180_000}, // 50 %: all of it
		{budget: 300_000, sent: 360_000, lost: 200, want: 300_000},
		{budget: 900_000, sent: 360_000, lost: 0, want: 900_000},
	} {
		var c lossControl
		rate, _ := c.update(tc.sent, tc.lost, 0, time.Unix(1000, 0))
		if got := max(tc.budget, rate); got != tc.want {
			t.Errorf("budget %d, sent %d, lost %d: took %d, want %d", tc.budget, tc.sent, tc.lost, got, tc.want)
		}
	}
}

// TestTakeLoss: what a subscriber reported lost is the mean of its
// reports since the last look, so that random loss over short reports
// (0, then 15 %) reads as what it is; a look with no report since keeps
// the last mean.
func TestTakeLoss(t *testing.T) {
	var b bandwidth
	if _, seen := b.takeLoss(); seen {
		t.Error("loss seen before any report")
	}
	for _, f := range []uint8{0, 38, 0, 0} {
		b.lost(f)
	}
	if frac, seen := b.takeLoss(); !seen || frac != 9 {
		t.Errorf("takeLoss() = %d, %v; want 9 (the mean), true", frac, seen)
	}
	if frac, seen := b.takeLoss(); !seen || frac != 9 {
		t.Errorf("takeLoss() with no report since = %d, %v; want the last mean, 9, true", frac, seen)
	}
	b.lost(30)
	if frac, _ := b.takeLoss(); frac != 30 {
		t.Errorf("takeLoss() = %d after one report of 30", frac)
	}
}

// TestNextStep: the link is tried first for the most important paused
// tile (a face before a sharper face), then for the most important tile
// below its best layer.
func TestNextStep(t *testing.T) {
	at := func(want, most int8) tile {
		d := &downTrack{}
		d.want.Store(int32(want))
		return tile{d: d, most: most}
	}
	for _, tc := range []struct {
		name  string
		tiles []tile
		want  int
	}{
		{"every tile at its best", []tile{at(1, 1), at(2, 2)}, -1},
		{"one below its best", []tile{at(1, 1), at(0, 1), at(0, 2)}, 1},
		{"one paused", []tile{at(0, 1), at(0, 1), at(layerNone, 1), at(layerNone, 1)}, 2},
	} {
		if got := nextStep(tc.tiles); got != tc.want {
			t.Errorf("%s: nextStep = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestVideoBudget: a subscriber's tiles get what its video may take less
// what was resent: the estimate less its audio, or, once it reports what
// it loses, the loss-based rate where that says more, set by all the video
// sent, resends included; resends are then held to a tenth of what its
// video may take.
func TestVideoBudget(t *testing.T) {
	now := time.Unix(1000, 0)
	var b bandwidth
	b.report(1_000_000)
	budget, up, _, seen := b.videoBudget(1_000_000, 400_000, 500_000, 50_000, now)
	if seen || budget != 550_000 || up != 550_000*upHeadroom/100 {
		t.Errorf("budget %d, up %d, loss seen %v; want 550,000 (the estimate less audio and resends), 85 %% of it, false", budget, up, seen)
	}
	n := 0
	for b.resend(1200, now) {
		n++
	}
	if n != 3 {
		t.Errorf("%d resent at once, want 3 (half a second of a tenth of 600 kbit/s: 3,750 bytes)", n)
	}

	// A low estimate, and little lost: the loss-based rate, from the
	// video sent with its resends (and 5 %), less the resends.
	var c bandwidth
	c.report(300_000)
	c.lost(2)
	budget, _, _, seen = c.videoBudget(300_000, 400_000, 500_000, 100_000, now)
	if !seen || budget != 530_000 {
		t.Errorf("budget %d, loss seen %v; want 530,000 (630,000 less 100,000 resent), true", budget, seen)
	}

	// The server's own estimate fell (a queue): the loss-based rate falls
	// towards it, by at most 15 %, and so does the video.
	c.delay.overused = true
	c.lost(2)
	now = now.Add(time.Second)
	budget, up, _, _ = c.videoBudget(700_000, 400_000, 600_000, 0, now)
	if want := 630_000 * 85 / 100; budget != want || up != want*upHeadroom/100 {
		t.Errorf("after a fall: budget %d, up %d; want %d and 85 %% of it", budget, up, want)
	}
	if c.fell() {
		t.Error("one fall counted twice")
	}
}
