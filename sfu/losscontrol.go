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
// duplicates, and the tile may take its step at the next fit. A probe
// that meets loss makes the next wait twice as long (probeDupMaxGap at
// most), so that a link that is full is not overrun every second; one
// that passes makes it none.
const (
	// lossLow (of 256, about 2 %) is the loss under which the link is
	// taken to carry what it is sent, and may be probed.
	lossLow = 5
	// probeMargin: a probe pays for a step and a quarter (percent), for
	// the keyframe the step starts with and rates that wobble.
	probeMargin    = 125
	probeDupMaxGap = 8 * time.Second
)

// lossControl is one subscriber's loss-based rate (bits per second of
// video) and its probes; only the report ticker's fitting uses it.
type lossControl struct {
	rate    int
	probing int // bits per second the last probe aimed to add, 0 if none
	gap     time.Duration
	next    time.Time
	at      time.Time
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
	switch {
	case lost >= lossyFraction:
		c.rate = sent * (512 - int(lost)) / 512
	case lost >= lossLow || c.rate == 0:
		c.rate = max(c.rate, sent*105/100)
	default:
		c.rate = max(c.rate, sent*105/100)
		if wasProbing && probed > 0 {
			proven = sent + int(float64(probed*8)/dt)
			c.rate = max(c.rate, proven)
		}
	}
	if wasProbing {
		if lost < lossLow {
			c.gap = 0
		} else {
			c.gap = min(max(2*c.gap, time.Second), probeDupMaxGap)
		}
		c.next = now.Add(c.gap)
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
