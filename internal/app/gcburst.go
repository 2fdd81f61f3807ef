package app

import (
	"context"
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// GCBurst lets the heap grow while the server allocates fast, as during a
// wave of joins, and keeps it tight otherwise.
//
// A tight heap (a low GC percent) saves memory per participant, and
// forwarding media allocates next to nothing, so in steady state the
// collector hardly runs. But every join leaves about a megabyte of
// garbage (session descriptions, handshakes), and the collector's work per
// byte allocated grows as the percent shrinks: at 10 %, a wave of joins
// makes it run several times a second over the whole heap and every
// goroutine's stack, most of a join's CPU and latency for everyone. So
// from the first interval that allocates MinBytes or more, the collector
// runs at Burst percent; after Quiet without such an interval it goes back
// to Base and the memory the burst took is returned to the system.
//
// Lifecycle: NewGCBurst → Run (until ctx ends; it restores Base).
type GCBurst struct {
	base, burst int
	quiet       time.Duration
	interval    time.Duration
	minBytes    uint64
	log         *slog.Logger
	read        func() (allocs uint64)
	set         func(percent int)
	free        func()

	bursting  bool
	lastAlloc uint64
	calm      time.Duration // how long allocation has been slow, while bursting
}

// GCBurstConfig sets a GCBurst up. Zero values take the defaults.
type GCBurstConfig struct {
	// Base is the collector's percent in steady state; Burst while the
	// server allocates fast (100, Go's default, if zero).
	Base, Burst int
	// Interval is how often allocation is read (250 ms); Quiet how long
	// it must stay slow before the heap is tightened again (2 s).
	Interval, Quiet time.Duration
	// MinBytes is the least allocation in one interval that counts as
	// fast (2 MiB: a join allocates about one).
	MinBytes uint64
	Logger   *slog.Logger
}

// NewGCBurst returns a governor of the process's collector (it sets the
// runtime's GC percent, which is process-wide: run at most one).
func NewGCBurst(cfg GCBurstConfig) *GCBurst {
	if cfg.Burst <= 0 {
		cfg.Burst = 100
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 250 * time.Millisecond
	}
	if cfg.Quiet <= 0 {
		cfg.Quiet = 2 * time.Second
	}
	if cfg.MinBytes == 0 {
		cfg.MinBytes = 2 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	samples := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	return &GCBurst{
		base: cfg.Base, burst: cfg.Burst, quiet: cfg.Quiet, interval: cfg.Interval, minBytes: cfg.MinBytes,
		log: cfg.Logger,
		read: func() uint64 {
			metrics.Read(samples)
			return sampleUint(samples[0])
		},
		set:  func(p int) { debug.SetGCPercent(p) },
		free: debug.FreeOSMemory,
	}
}

func sampleUint(s metrics.Sample) uint64 {
	if s.Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s.Value.Uint64()
}

// Run governs the collector until ctx ends, then leaves it at Base.
func (g *GCBurst) Run(ctx context.Context) {
	if g.burst <= g.base {
		return
	}
	g.lastAlloc = g.read()
	t := time.NewTicker(g.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if g.bursting {
				g.set(g.base)
			}
			return
		case <-t.C:
			g.step()
		}
	}
}

// step reads what was allocated since the last step and moves between
// steady state and burst.
func (g *GCBurst) step() {
	allocs := g.read()
	fast := allocs-g.lastAlloc >= g.minBytes
	g.lastAlloc = allocs
	switch {
	case fast && !g.bursting:
		g.bursting, g.calm = true, 0
		g.set(g.burst)
		g.log.Debug("collector: allocating fast", "gc_percent", g.burst)
	case fast:
		g.calm = 0
	case g.bursting:
		g.calm += g.interval
		if g.calm >= g.quiet {
			g.bursting = false
			g.set(g.base)
			g.free()
			g.log.Debug("collector: quiet", "gc_percent", g.base)
		}
	}
}
