package netsim

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Impairment is what one direction of a Relay does to the datagrams it
// carries. What it models, and what not:
//
//   - Loss drops each datagram independently with this probability
//     (Bernoulli, from a seeded generator): random loss, as on a noisy
//     radio link, not the bursts of a full queue (tbf makes those).
//   - Delay holds every datagram this long; Jitter adds to each a further
//     delay drawn uniformly from [0, Jitter). A datagram never overtakes
//     the one before it (its release is at least the previous one's), so
//     jitter shows as bunching, never as reordering.
//   - Loss 1 is an outage: nothing passes.
//
// The zero value passes everything at once.
type Impairment struct {
	Loss   float64
	Delay  time.Duration
	Jitter time.Duration
}

// LinkStats count what one direction did.
type LinkStats struct {
	// Packets arrived, of which Lost were dropped by the impairment and
	// Overflow because the queue was full; the rest were sent on.
	Packets, Lost, Overflow uint64
}

// queueLength bounds the datagrams one direction holds: far more than a
// second of a few Mbit/s, so only a test's mistake fills it.
const queueLength = 4096

// link is one direction: it decides each datagram's fate on arrival and
// sends it on at its release time, in order.
//
// Lifecycle: newLink → push from any goroutine, run in one → run ends with
// its context.
type link struct {
	queue chan held

	mu   sync.Mutex
	imp  Impairment
	rng  *rand.Rand
	last time.Time // the latest release time given

	packets, lost, overflow atomic.Uint64
}

// held is a datagram waiting for its release.
type held struct {
	b  []byte
	at time.Time
	// out sends it on.
	out func([]byte)
}

func newLink(imp Impairment, seed uint64) *link {
	return &link{queue: make(chan held, queueLength), imp: imp, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// set changes the impairment for the datagrams that arrive from now on.
func (l *link) set(imp Impairment) {
	l.mu.Lock()
	l.imp = imp
	l.mu.Unlock()
}

// push takes a datagram that arrived at now; b is kept.
func (l *link) push(b []byte, now time.Time, out func([]byte)) {
	l.packets.Add(1)
	l.mu.Lock()
	imp := l.imp
	drop := imp.Loss > 0 && l.rng.Float64() < imp.Loss
	var at time.Time
	if !drop {
		d := imp.Delay
		if imp.Jitter > 0 {
			d += time.Duration(l.rng.Int64N(int64(imp.Jitter)))
		}
		at = now.Add(d)
		if at.Before(l.last) {
			at = l.last
		}
		l.last = at
	}
	l.mu.Unlock()
	if drop {
		l.lost.Add(1)
		return
	}
	select {
	case l.queue <- held{b: b, at: at, out: out}:
	default:
		l.overflow.Add(1)
	}
}

// run sends each datagram on at its release time until ctx ends.
func (l *link) run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var h held
		select {
		case <-ctx.Done():
			return
		case h = <-l.queue:
		}
		if wait := time.Until(h.at); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		}
		h.out(h.b)
	}
}

func (l *link) stats() LinkStats {
	return LinkStats{Packets: l.packets.Load(), Lost: l.lost.Load(), Overflow: l.overflow.Load()}
}
