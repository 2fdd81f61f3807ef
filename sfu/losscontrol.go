package sfu

import "time"

// Loss-based control. What a subscriber reports lost says more of its
// link than its estimate does when it receives video over the server
// without the send-time header extensions a browser's delay-based
// estimate needs: Chromium's REMB was measured at 9 to 110 kbit/s while
// 1.3 Mbit/s arrived with nothing lost (web/network_test.go). So, as
// GCC's loss-based controller does, the rate a subscriber's video is
// given falls by half the fraction lost from lossyFraction on, and holds
// below that; the estimate still counts where it says more
// (bandwidth.go).
//
// It grows only by what a probe showed the link carries: while a tile is
// below what it would get without a limit and the subscriber loses under
// lossLow, the server duplicates enough of what it sends, for a second,
// to pay for the tile's next step (padding.go); if the subscriber still
// loses under lossLow, the rate becomes what was sent with the
// duplicates, and the tile may take its step at the next fit; the next
// probe may follow at once, so that a freed link is climbed a step a
// second. For stepTrial after a probe passed, loss of stepUndo or more
// (the step overran the link: its queue drops audio too) takes the rate
// back to what was sent before the probe. A probe or a step that meets
// loss, or loss of lossyFraction, makes the next probe wait, twice as
// long each time (up to probeDupMaxGap) until a step holds through its
// trial, so that a link that is full is overrun seldom.
const (
	// lossLow (of 256, about 2 %) is the loss under which the link is
	// taken to carry what it is sent, and may be probed.
	lossLow = 5
	// probeMargin: a probe pays for a step and a quarter (percent), for
	// the keyframe the step starts with and rates that wobble.
	probeMargin    = 125
	probeDupMaxGap = 8 * time.Second
	stepTrial      = 3 * time.Second
	stepUndo       = 13 // of 256, about 5 %
)

// lossControl is one subscriber's loss-based rate (bits per second of
// video) and its probes; only the report ticker's fitting uses it.
type lossControl struct {
	rate    int
	probing int // bits per second the last probe aimed to add, 0 if none
	// backoff is the wait after the link last proved full (a probe or a
	// step that met loss, or loss of lossyFraction), doubling each time;
	// it is kept while probes pass, and forgotten once a step has held
	// through its trial.
	backoff time.Duration
	next    time.Time // no probe before
	at      time.Time
	// After a probe passed: the rate sent before it, until trialEnd.
	before   int
	trialEnd time.Time
}

// full records that the link proved full at now: the next probe waits.
func (c *lossControl) full(now time.Time) {
	c.backoff = min(max(2*c.backoff, time.Second), probeDupMaxGap)
	c.next = now.Add(c.backoff)
}

// update takes the rate of the video sent (bits per second), the
// fraction (of 256) reported lost since the last update, the bytes a
// probe duplicated since, and now; it returns the rate the video may
// take, and of it what a probe has just shown the link carries (0 if
// none did).
func (c *lossControl) update(sent int, lost uint8, probed int64, now time.Time) (rate, proven int) {
	dt := 1.0
	if !c.at.IsZero() {
		dt = min(max(now.Sub(c.at).Seconds(), 0.5), 2)
	}
	c.at = now
	wasProbing := c.probing > 0
	c.probing = 0
	if !c.trialEnd.IsZero() {
		switch {
		case lost >= stepUndo:
			c.rate, c.trialEnd = min(c.rate, c.before), time.Time{}
			c.full(now)
			return c.rate, 0
		case !now.Before(c.trialEnd):
			c.trialEnd, c.backoff = time.Time{}, 0 // the step held
		}
	}
	switch {
	case lost >= lossyFraction:
		c.rate = sent * (512 - int(lost)) / 512
		c.full(now)
	case lost >= lossLow || c.rate == 0:
		c.rate = max(c.rate, sent*105/100)
		if wasProbing {
			c.full(now)
		}
	default:
		c.rate = max(c.rate, sent*105/100)
		if wasProbing && probed > 0 {
			proven = sent + int(float64(probed*8)/dt)
			c.before, c.trialEnd = sent, now.Add(stepTrial)
			c.rate = max(c.rate, proven)
		}
	}
	return c.rate, proven
}

// probe reports how many bits per second to duplicate for the next
// second to pay for a step of step bits per second, given the fraction
// last reported lost: 0 if no probe is due.
func (c *lossControl) probe(step int, lost uint8, now time.Time) int {
	if step <= 0 || lost >= lossLow || now.Before(c.next) {
		return 0
	}
	c.probing = step * probeMargin / 100
	return c.probing
}
