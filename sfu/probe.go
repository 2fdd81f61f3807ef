package sfu

import "time"

// Trying a layer higher than a subscriber's estimate allows (bandwidth.go):
// the estimate, made from what arrives, rises only once more arrives.

const (
	// probeEvery is the least time between two trials, and the time after
	// a trial that held; each trial that did not hold doubles it, up to
	// probeMaxEvery.
	probeEvery    = 5 * time.Second
	probeMaxEvery = 60 * time.Second
	// probeHold is how long a tried layer stays while the estimate does
	// not fall, time for the estimate to rise with what arrives.
	probeHold = 4 * time.Second
	// probeFall: an estimate below this share (percent) of the one the
	// trial started with says the link is full, and the trial ends.
	probeFall = 90
)

// probe is one subscriber's trials: at most one at a time. Only the
// report ticker touches it.
type probe struct {
	d     *downTrack // the tile tried, nil when none runs
	layer int8       // the layer it was given
	est   int        // the estimate when the trial started
	until time.Time  // the trial holds until then
	next  time.Time  // no trial starts before
	every time.Duration
}

// start records a trial of layer for d, at now, the estimate being est.
func (p *probe) start(d *downTrack, layer int8, est int, now time.Time) {
	if p.every == 0 {
		p.every = probeEvery
	}
	p.d, p.layer, p.est, p.until = d, layer, est, now.Add(probeHold)
	p.next = p.until.Add(p.every)
}

// holding reports whether the running trial holds its tile up at now: it
// has not run its time and the estimate did not fall.
func (p *probe) holding(now time.Time, est int) bool {
	if p.d == nil || !now.Before(p.until) {
		return false
	}
	if est < p.est*probeFall/100 {
		p.until = now // the link is full: fit as usual
		return false
	}
	return true
}

// settle judges a trial whose time is over, after the fit that followed
// it: held if its tile still has the layer tried (the next waits
// probeEvery), not held otherwise (the wait doubles).
func (p *probe) settle(now time.Time) {
	if p.d == nil || now.Before(p.until) {
		return
	}
	if int8(p.d.want.Load()) >= p.layer {
		p.every = probeEvery
	} else {
		p.every = min(2*max(p.every, probeEvery), probeMaxEvery)
	}
	p.next = now.Add(p.every)
	p.d = nil
}

// due reports whether a trial may start at now.
func (p *probe) due(now time.Time) bool { return p.d == nil && !now.Before(p.next) }

// idle notes that nothing is held back: the next trial, when one is
// needed, may start at once and waits probeEvery after.
func (p *probe) idle() {
	if p.d == nil {
		p.every, p.next = probeEvery, time.Time{}
	}
}

// tryHigher starts a trial when one is due: the most important tile held
// below what it would get without a limit, and not going up by itself
// (tiles by importance, each with the layer its estimate gives it with
// room to spare), goes one layer up from where it is.
func tryHigher(p *probe, tiles []tile, est int, now time.Time) {
	held := false
	for i := range tiles {
		t := &tiles[i]
		cur := int8(t.d.want.Load())
		if cur >= t.most || t.layer > cur {
			continue
		}
		held = true
		if !p.due(now) {
			return
		}
		up := cur + 1
		for up < t.most && t.rates[up] == 0 {
			up++
		}
		if t.rates[up] == 0 {
			continue
		}
		t.d.setWant(up)
		p.start(t.d, up, est, now)
		return
	}
	if !held {
		p.idle()
	}
}
