package sfu

import "time"

// Loss-based control. What a subscriber reports lost says more of its link
// than its estimate does: without send times in the video (abssend.go),
// Chromium's REMB was measured at 7 to 150 kbit/s while 1.3 Mbit/s arrived
// with nothing lost; with them, it climbs at most about 8 % a second, and
// was seen to stop at 517 kbit/s with 1.0 to 1.7 Mbit/s arriving
// (web/network_test.go, PERFORMANCE.md). So, as GCC's loss-based
// controller does, the rate a subscriber's video is given falls by half
// the fraction lost from lossHigh on (by all of it from lossFull), and
// holds below that; the estimate still counts where it says more
// (bandwidth.go). GCC falls from a tenth lost; here from a twentieth, as a
// home router's queue that is overrun by a tenth drops a tenth, audio as
// much as video, and audio is never what gives way.
//
// A report tells of the second or so before it: the rate falls from what
// was sent then (what is sent now already follows the last fall), and a
// fall is never a rise (more may be sent than the rate while a tile is
// tried a layer up). Below lossLow the rate follows what is sent, once it
// has been sent at two updates in a row. Otherwise it grows only by what a
// probe showed the link carries (holding means holding: what is sent
// rising, with a tile tried a layer up, does not raise it): while a tile
// is below what it would get without a limit and the subscriber loses
// under lossHigh, the server duplicates enough of what it sends, for a
// second, to pay for the next step of the tile nextStep names, a paused
// one first (bandwidth.go, padding.go). If the subscriber then loses under
// lossLow, or no more than probeRise above what it lost before the probe
// (a link that drops a few percent at random drops them whatever it is
// sent), the rate becomes what was sent with the duplicates, and the tiles
// may take the steps that fit in it at the next fit; the next probe may
// follow at once. While nothing at all is lost after a probe that passed,
// the next probes pay for a quarter of the rate, or the step if more, up
// to all that the tiles still lack, so that a freed link is climbed by a
// quarter a second, several steps at once. For stepTrial after a probe
// passed, loss of lossHigh or more (the step overran the link: its queue
// drops audio too) takes the rate back to what was sent before the probe
// (or the rate then, if less). A probe that fails, or loss of lossHigh,
// makes the next probe wait, twice as long each time (up to
// probeDupMaxGap) until a step holds through its trial, or until
// cleanForgive reports in a row lose nothing at all (the link was freed),
// so that a link that is full is overrun seldom.
const (
	// lossLow (of 256, about 2 %) is the loss under which the link is
	// taken to carry what it is sent.
	lossLow = 5
	// lossHigh (of 256, about 5 %) is the loss from which the rate falls.
	lossHigh = 13
	// lossFull (of 256, about 10 %) is the loss from which the rate falls
	// by all that is lost, not half.
	lossFull = 26
	// probeRise (of 256, about 1 %) is how much more than before a probe
	// may be lost during it for the probe to pass.
	probeRise = 3
	// probeMargin: a probe pays for a step and a quarter (percent), for
	// the keyframe the step starts with and rates that wobble.
	probeMargin    = 125
	probeDupMaxGap = 8 * time.Second
	stepTrial      = 3 * time.Second
	// cleanForgive is how many reports in a row with nothing lost forget
	// the wait after the link last proved full.
	cleanForgive = 2
	// probeGrowth: while nothing is lost, a probe pays for this part of the
	// rate (one in four), or for a step if that is more.
	probeGrowth = 4
)

// lossControl is one subscriber's loss-based rate (bits per second of
// video) and its probes; only the report ticker's fitting uses it.
type lossControl struct {
	rate    int
	probing int // bits per second the last probe aimed to add, 0 if none
	// backoff is the wait after the link last proved full (a probe that
	// failed, or loss of lossHigh), doubling each time;
	// it is kept while probes pass, and forgotten once a step has held
	// through its trial.
	backoff time.Duration
	next    time.Time // no probe before
	at      time.Time
	// After a probe passed: the rate sent before it, until trialEnd.
	before   int
	trialEnd time.Time
	// clean counts the reports in a row that lost nothing; passed says
	// the last probe passed and nothing was lost since; quiet is what the
	// last report that was not of a probe lost.
	clean  int
	passed bool
	quiet  uint8
	sent   int // what the last update was told was sent
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
	defer func() { c.sent = sent }()
	wasProbing := c.probing > 0
	c.probing = 0
	if lost == 0 {
		c.clean++
	} else {
		c.clean, c.passed = 0, false
	}
	if c.clean >= cleanForgive && c.trialEnd.IsZero() && c.backoff > 0 {
		c.backoff, c.next = 0, now
	}
	base := c.quiet
	if !wasProbing {
		c.quiet = lost
	}
	if !c.trialEnd.IsZero() {
		switch {
		case lost >= lossHigh:
			c.rate, c.trialEnd = min(c.rate, c.before), time.Time{}
			c.full(now)
			return c.rate, 0
		case !now.Before(c.trialEnd):
			c.trialEnd, c.backoff = time.Time{}, 0 // the step held
		}
	}
	switch {
	case lost >= lossHigh:
		// A fall from what was sent over the second the reports tell of,
		// the one before this update (what is sent now already follows
		// the last fall); never a rise, when more is sent than the rate
		// (a tile being tried a layer up). From lossFull on, the link is
		// taken to carry what was sent less all that was lost, as a full
		// queue drops what does not fit: so an overrun of several times
		// the link is left within seconds.
		told := c.sent
		if told == 0 {
			told = sent
		}
		keep := 512 - int(lost) // of 512
		if lost >= lossFull {
			keep = 512 - 2*int(lost)
		}
		if fall := told * max(keep, 0) / 512; c.rate == 0 || fall < c.rate {
			c.rate = fall
		}
		c.full(now)
		return c.rate, 0
	case c.rate == 0:
		c.rate = sent * 105 / 100
	case lost < lossLow:
		// What the link carried: a report tells of the second or so
		// before it, so what is sent now was carried only if it was
		// sent at the last update too.
		c.rate = max(c.rate, min(sent, c.sent))
	}
	if !wasProbing {
		return c.rate, 0
	}
	if probed <= 0 || lost >= lossLow && int(lost) > int(base)+probeRise {
		c.full(now)
		return c.rate, 0
	}
	proven = sent + int(float64(probed*8)/dt)
	c.before, c.trialEnd = min(sent, c.rate), now.Add(stepTrial)
	c.rate = max(c.rate, proven)
	c.passed = lost == 0
	return c.rate, proven
}

// queued takes the delay-based rate just after it fell, at now, and
// returns the loss-based rate: a queue was growing on the way, so the
// link is full whatever is lost. A step being tried goes back to the rate
// before its probe; otherwise the rate falls to the delay-based one, but
// by no more than GCC's fall (to 85 %) at once, since what arrives, which
// that was taken from, wobbles from one second to the next. The next
// probe waits, as after loss.
func (c *lossControl) queued(rate int, now time.Time) int {
	switch {
	case !c.trialEnd.IsZero():
		c.rate = min(c.rate, c.before)
	case c.rate == 0:
		c.rate = rate
	default:
		c.rate = min(c.rate, max(rate, c.rate*85/100))
	}
	c.trialEnd, c.passed = time.Time{}, false
	c.full(now)
	return c.rate
}

// probe reports how many bits per second to duplicate for the next
// second to pay for a step of step bits per second, of lack that the
// tiles lack in all, given the fraction last reported lost: 0 if no probe
// is due.
func (c *lossControl) probe(step, lack int, lost uint8, now time.Time) int {
	if step <= 0 || lost >= lossHigh || now.Before(c.next) {
		return 0
	}
	if c.passed {
		step = max(step, min(c.rate/probeGrowth, lack))
	}
	c.probing = step * probeMargin / 100
	return c.probing
}
