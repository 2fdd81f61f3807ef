package sfu

import "time"

// Probing. An estimate made from what a subscriber receives cannot rise
// far above it (bandwidth.go), so a tile stepped down or paused after a
// dip would stay there: less arrives, so less is estimated. While any tile
// of a subscriber is below what it would get without a limit, the one
// nextStep names (the most important paused, else the most important)
// is tried one layer up now and then, and kept there
// for probeHold whatever the estimate says, unless the estimate falls
// during it (then the link really is full). If the estimate follows, the
// tile stays up and the next try (of the next tile down) comes after
// the first gap again; if not, the next fit takes it down again, and the
// next try waits twice as long (up to probeMaxGap). So a subscriber whose
// link was freed climbs back a tile every few seconds, not after waits
// that doubled with each tile.
const (
	probeFirstGap = 4 * time.Second
	probeMaxGap   = 32 * time.Second
	probeHold     = 3 * time.Second
)

// prober is one subscriber's probing state; only the report ticker's
// fitting uses it.
type prober struct {
	d     *downTrack // the tile being tried, until until
	layer int8       // the layer it is tried at
	until time.Time
	est   int // the estimate when the try began
	next  time.Time
	gap   time.Duration
}

// settled records that every tile gets what it wants: the next dip is
// tried again soon.
func (p *prober) settled() {
	p.d, p.next, p.gap = nil, time.Time{}, 0
}

// holds reports whether d, being tried, keeps its layer at now though the
// estimate est does not carry it yet.
func (p *prober) holds(d *downTrack, now time.Time, est int) bool {
	return p.d == d && now.Before(p.until) && est*10 >= p.est*9
}

// due reports whether a try may begin at now, some tile being below what
// it wants; the first try waits first. A try that is over and whose
// tile kept its layer makes the next wait the first gap again.
func (p *prober) due(now time.Time, first time.Duration) bool {
	if p.d != nil && !now.Before(p.until) {
		if int8(p.d.want.Load()) >= p.layer {
			p.gap = first
			p.next = now.Add(first)
		}
		p.d = nil
	}
	if p.gap == 0 {
		p.gap = first
	}
	if p.next.IsZero() {
		p.next = now.Add(p.gap)
	}
	return !now.Before(p.next)
}

// start begins trying d at layer at now, with the estimate at est.
func (p *prober) start(d *downTrack, layer int8, now time.Time, est int) {
	p.d, p.layer, p.until, p.est = d, layer, now.Add(probeHold), est
	p.next = now.Add(p.gap)
	p.gap = min(2*p.gap, probeMaxGap)
}

// higher is the next layer above cur, up to the tile's most, that the
// publisher sends; layerNone if none.
func (t *tile) higher(cur int8) int8 {
	for l := cur + 1; l <= t.most; l++ {
		if t.rates[l] > 0 {
			return l
		}
	}
	return layerNone
}
