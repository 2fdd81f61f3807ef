package sfu

import (
	"testing"
	"time"
)

// TestLossControl: the rate falls by half the fraction lost from a
// twentieth on (by all of it from a tenth), holds below that whatever is
// sent, and grows only by what a probe showed the link carry; a probe that
// meets loss makes the next wait longer, up to probeDupMaxGap, and one
// that passes makes it none; two reports losing nothing forget the wait.
// While nothing is lost after a probe that passed, probes pay for a
// quarter of the rate, up to what the tiles lack. A step a probe allowed
// is taken back if loss follows it.
func TestLossControl(t *testing.T) {
	var c lossControl
	now := time.Unix(1000, 0)
	tick := func(sent int, lost uint8, probed int64) (int, int) {
		now = now.Add(time.Second)
		return c.update(sent, lost, probed, now)
	}
	if r, _ := tick(600_000, 0, 0); r != 630_000 {
		t.Errorf("rate %d with nothing lost, want what is sent and 5 %%", r)
	}
	if r, _ := tick(600_000, 64, 0); r != 450_000 {
		t.Errorf("rate %d at 25 %% lost, want what was sent less all that was lost (a full queue drops the excess)", r)
	}
	if r, _ := tick(500_000, 8, 0); r != 450_000 {
		t.Errorf("rate %d at 3 %% lost, want it held", r)
	}
	c.rate = 525_000
	if r, _ := tick(525_000, 16, 0); r != 484_375 {
		t.Errorf("rate %d at 6 %% lost, want 3 %% less than was sent the second before (500 kbit/s)", r)
	}
	c.rate, c.backoff = 525_000, time.Second // as after the first loss
	if r, _ := tick(500_000, 8, 0); r != 525_000 {
		t.Errorf("rate %d at 3 %% lost, want it held", r)
	}
	// Held, whatever is sent: a tile tried a layer up does not raise it.
	if r, _ := tick(800_000, 8, 0); r != 525_000 {
		t.Errorf("rate %d at 3 %% lost with more sent, want it held", r)
	}
	if got := c.probe(150_000, 1_000_000, 16, now); got != 0 {
		t.Errorf("a probe of %d at 6 %% lost", got)
	}
	if got := c.probe(0, 1_000_000, 0, now); got != 0 {
		t.Errorf("a probe of %d with no step to pay for", got)
	}
	if got := c.probe(150_000, 1_000_000, 0, now); got != 187_500 {
		t.Fatalf("probe %d for a step of 150 kbit/s, want a quarter more", got)
	}
	// The link carried the duplicates: the rate is what went, and it is
	// proven.
	r, proven := tick(500_000, 0, 25_000)
	if proven != 700_000 || r != proven {
		t.Errorf("rate %d, proven %d after a probe that passed, want 700,000 both", r, proven)
	}
	// Nothing lost since it passed: the next pays for a quarter of the
	// rate, more than the step, but no more than the tiles lack.
	if got := c.probe(150_000, 1_000_000, 0, now); got != 700_000/4*probeMargin/100 {
		t.Errorf("probe %d right after one that passed with nothing lost, want a quarter of the rate and a quarter more", got)
	}
	if got := c.probe(150_000, 160_000, 0, now); got != 160_000*probeMargin/100 {
		t.Errorf("probe %d with 160 kbit/s lacking, want that and a quarter more", got)
	}
	if got := c.probe(150_000, 100_000, 0, now); got != 187_500 {
		t.Errorf("probe %d with 100 kbit/s lacking, want the step's", got)
	}
	// Loss made the wait 1 s; a step, then probes, that meet
	// loss make it 2, 4, 8, 8 s, kept across the probe that passed.
	for _, gap := range []time.Duration{2, 4, 8, 8} {
		gap *= time.Second
		if _, proven := tick(500_000, 30, 20_000); proven != 0 {
			t.Fatalf("proven %d by a probe that met loss", proven)
		}
		now = now.Add(gap - time.Millisecond)
		if got := c.probe(150_000, 1_000_000, 0, now); got != 0 {
			t.Fatalf("a probe due %v after one that failed, want %v", gap-time.Millisecond, gap)
		}
		now = now.Add(time.Millisecond)
		if got := c.probe(150_000, 1_000_000, 0, now); got == 0 {
			t.Fatalf("no probe due %v after one that failed", gap)
		}
		now = now.Add(-time.Second) // tick adds it back
	}

	// Backed off to 8 s: two reports losing nothing at all (the link was
	// freed) forget the wait.
	tick(500_000, 30, 20_000)
	if got := c.probe(150_000, 1_000_000, 0, now.Add(2*time.Second)); got != 0 {
		t.Fatal("a probe due 2 s after one that failed with an 8 s wait")
	}
	tick(500_000, 0, 0)
	if got := c.probe(150_000, 1_000_000, 0, now); got != 0 {
		t.Fatal("a probe due after one report losing nothing")
	}
	tick(500_000, 0, 0)
	if got := c.probe(150_000, 1_000_000, 0, now); got != 187_500 {
		t.Fatalf("probe %d after two reports losing nothing, want the step's (no probe passed since the loss)", got)
	}
	c.probing = 0

	// A probe passes; the step it allowed meets 6 % loss: undone.
	now = now.Add(10 * time.Second)
	c.update(500_000, 0, 0, now)
	if c.probe(150_000, 1_000_000, 0, now) == 0 {
		t.Fatal("no probe due")
	}
	if _, proven := tick(500_000, 0, 25_000); proven != 700_000 {
		t.Fatalf("proven %d, want 700,000", proven)
	}
	if r, _ := tick(650_000, 16, 0); r != 500_000 {
		t.Errorf("rate %d after the step met 6 %% loss, want 500,000: what went before it", r)
	}
	if got := c.probe(150_000, 1_000_000, 0, now); got != 0 {
		t.Error("a probe due right after a step was undone")
	}
}

// TestLossControlFollowsCarried: a report tells of the second before
// it, so with little lost the rate follows what was sent only once it was
// sent at two updates in a row, and a fall for loss is from what was sent
// the second before; a fall is never a rise, though more was sent than
// the rate (a tile being tried).
func TestLossControlFollowsCarried(t *testing.T) {
	var c lossControl
	now := time.Unix(1000, 0)
	tick := func(sent int, lost uint8) int {
		now = now.Add(time.Second)
		r, _ := c.update(sent, lost, 0, now)
		return r
	}
	tick(400_000, 0)
	if r := tick(500_000, 2); r != 420_000 {
		t.Errorf("rate %d with more sent for the first time, want it held", r)
	}
	if r := tick(500_000, 2); r != 500_000 {
		t.Errorf("rate %d with 500 kbit/s sent twice and 1 %% lost, want that", r)
	}
	// The reports tell of the second before: the fall is from what was
	// sent then.
	if r := tick(600_000, 16); r != 484_375 {
		t.Errorf("rate %d at 6 %% lost, 500 kbit/s sent the second before, want 3 %% less than that", r)
	}
	if r := tick(300_000, 16); r != 484_375 {
		t.Errorf("rate %d at 6 %% lost, 600 kbit/s sent the second before, want it held (a fall is never a rise)", r)
	}
}

// TestLossControlRandomLoss: on a link that drops 3 % at random, a probe
// during which no more is lost passes, and one during which more is lost
// fails and makes the next wait.
func TestLossControlRandomLoss(t *testing.T) {
	var c lossControl
	now := time.Unix(1000, 0)
	tick := func(sent int, lost uint8, probed int64) (int, int) {
		now = now.Add(time.Second)
		return c.update(sent, lost, probed, now)
	}
	tick(400_000, 8, 0)
	if r, _ := tick(400_000, 8, 0); r != 420_000 {
		t.Fatalf("rate %d at 3 %% lost, want what was sent first and 5 %%", r)
	}
	if got := c.probe(100_000, 1_000_000, 8, now); got != 125_000 {
		t.Fatalf("probe %d at 3 %% lost, want a step and a quarter", got)
	}
	if _, proven := tick(400_000, 10, 15_000); proven != 520_000 {
		t.Errorf("proven %d by a probe during which 4 %% were lost, 3 %% before; want 520,000", proven)
	}
	c.trialEnd = time.Time{}
	tick(520_000, 8, 0)
	if got := c.probe(100_000, 1_000_000, 8, now); got == 0 {
		t.Fatal("no probe due")
	}
	if _, proven := tick(520_000, 12, 15_000); proven != 0 {
		t.Errorf("proven %d by a probe during which 5 %% were lost, 3 %% before", proven)
	}
	if got := c.probe(100_000, 1_000_000, 8, now); got != 0 {
		t.Errorf("a probe of %d right after one that failed", got)
	}
}

// TestLossControlQueued: the server's own estimate falling (a queue
// growing) takes a step being tried back to the rate before its probe,
// else takes the rate towards the estimate by at most GCC's fall, never
// up; either way the next probe waits.
func TestLossControlQueued(t *testing.T) {
	now := time.Unix(1000, 0)
	for _, tc := range []struct {
		name        string
		c           lossControl
		delay, want int
	}{
		{"a step tried", lossControl{rate: 600_000, before: 450_000, trialEnd: now.Add(time.Second)}, 300_000, 450_000},
		{"far below", lossControl{rate: 600_000}, 300_000, 510_000},
		{"a little below", lossControl{rate: 600_000}, 550_000, 550_000},
		{"above", lossControl{rate: 600_000}, 700_000, 600_000},
		{"no rate yet", lossControl{}, 300_000, 300_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			if got := c.queued(tc.delay, now); got != tc.want || c.rate != tc.want {
				t.Errorf("rate %d (returned %d), want %d", c.rate, got, tc.want)
			}
			if !c.trialEnd.IsZero() || c.passed {
				t.Error("the trial or the passed probe outlived the fall")
			}
			if c.probe(100_000, 100_000, 0, now) != 0 {
				t.Error("a probe at once after the fall")
			}
		})
	}
}
