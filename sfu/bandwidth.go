package sfu

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
)

// Bandwidth.
//
// What a subscriber's link carries is estimated by the server itself
// where the subscriber negotiated transport-cc, as browsers do: every
// video packet it is sent carries a transport-wide sequence number, and
// from its feedback on when each arrived the server runs GCC's
// delay-based estimate (delaybwe.go), on the RTCP reader, with one atomic
// store per packet sent. pion/interceptor's GCC would do the same, but it
// records each packet sent with a departure time from its own clock in a
// linked list: two allocations (128 bytes) and 0.3 to 2 µs a packet
// (BenchmarkPionGCCPerPacket); with the transport-cc numbering, about four
// allocations and 0.5 to 1 µs per packet forwarded
// (BenchmarkForwardSimulcastGCC), several times the SFU's own work per
// packet and subscriber, on a path that allocates nothing. A subscriber
// without transport-cc is judged by its own estimate, which it reports
// (REMB, "goog-remb"; Chromium sends one about every second) in the RTCP
// the server reads for each video section anyway.
//
// An estimate made from what arrives cannot rise far above it (GCC's, the
// server's as Chromium's, stays under one and a half times what arrives,
// plus 10 kbit/s), and it rises at most about 8 % a second; Chromium's
// REMB, even with the send times the server writes (abssend.go), at
// times stops far below what arrives (losscontrol.go). So what a subscriber
// reports lost sets a rate of its own, which a probe of duplicated
// packets raises when the link is free again (losscontrol.go,
// padding.go), and a tile is also tried a layer up now and then
// (probe.go).
//
// An estimate below what the subscriber receives while it reports
// losing less than a twentieth is not believed: some receivers (Firefox)
// report a cautious figure that does not follow what they get, and
// Chromium's falls far below what arrives on a link that drops a few
// percent at random (measured: from 320 to 48 kbit/s at 3 %, with 360
// kbit/s arriving; web/network_test.go). Video is given the higher of
// the reported estimate and a loss-based rate, which holds between 2 and
// 5 % lost and falls by half the fraction lost from 5 % (losscontrol.go):
// a link that is full loses more than that (its queue drops the excess),
// as GCC's loss-based controller also assumes (it holds between 2 and
// 10 %). The server's own estimate is also told by delay: when it falls
// (a queue is growing on the way, so the link is full whatever is lost),
// the loss-based rate falls towards it, a step being tried goes back, and
// the next probe waits.
//
// A paused tile that fits again comes back alone in its fit, at its
// lowest layer; the next fits step it up if it still fits.
//
// Once a second (the engine's report ticker) each subscriber's video is
// fitted into its estimate, less what its audio and its retransmissions
// take (audio never gives way): every tile starts at the layer it would
// get without a limit (layers.go), and while they do not fit, the least
// important tile that can go a layer lower does; when every tile is at
// its lowest, the least important is paused, and so on. Importance is an
// ordering of publishers the room's owner sets per subscriber
// (SetImportance); publishers it does not name come after, the latest
// arrival last. A subscriber with no estimate gets every tile unlimited.
//
// Retransmissions count against what the subscriber's video may take:
// its tiles get that less what was resent over the last second, and the
// loss-based rate is set by all the video sent, resent packets included.
// Once its video rate is known, they are also held to a tenth of it
// (resendShare; at least a burst of three packets and 32 kbit/s),
// besides the packet budget of each section and the spacing of a
// packet's resends by a round trip (history.go): a link that is losing
// packets because it is full is not sent more.

// resendShare is the part of a subscriber's video rate (or, before that
// is known, of its estimate) retransmissions may take; resendFloor (bits
// per second) and resendLeast (bytes) are the least they may take
// however little video it receives, so that a few packets lost from one
// low-rate video can still be repaired: a burst of three full packets,
// refilled at 32 kbit/s.
const (
	resendShare = 10 // one tenth
	resendFloor = 32_000
	resendLeast = 3 * 1200
)

// SetImportance orders publishers by how much subscriber needs to see
// them, most first: when its bandwidth cannot carry every tile, the last
// give way first. It reports false if the subscriber is not in the
// router.
func (r *Router) SetImportance(subscriber string, publishers []string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	sub := r.peers[subscriber]
	if sub == nil {
		return false
	}
	// Bounded by the router's peers and tracks, not by what is given.
	order := make([]string, 0, min(len(publishers), len(r.peers)+len(r.tracks)))
	var far map[string]bool // publishers on other nodes (link.go)
	if r.linksIn > 0 {
		far = map[string]bool{}
		for _, t := range r.tracks {
			if t.pub.link == linkIn {
				far[t.info.Publisher] = true
			}
		}
	}
	for _, id := range publishers {
		if (r.peers[id] != nil || far[id]) && id != subscriber && !slices.Contains(order, id) {
			order = append(order, id)
		}
	}
	sub.importance = order
	return true
}

// VideoHeld says that a video a subscriber is to be shown is held back
// for its bandwidth (Held), or no longer is.
type VideoHeld struct {
	Subscriber string
	Track      TrackInfo
	Held       bool
}

// tile is one video subscription as fitting sees it.
type tile struct {
	d     *downTrack
	rank  int   // importance: lower matters more
	rates []int // bits per second of each layer, 0 where not sent
	most  int8  // the layer it gets without a limit
	layer int8  // the layer it is given
}

// fitTiles gives each tile a layer so that their rates fit within budget
// (bits per second), as the package comment says. tiles are in any order.
func fitTiles(tiles []tile, budget int) {
	slices.SortStableFunc(tiles, func(a, b tile) int { return cmp.Compare(a.rank, b.rank) })
	cost := 0
	for i := range tiles {
		t := &tiles[i]
		t.layer = t.most
		cost += t.rate()
	}
	for cost > budget {
		// The least important tile that can go a layer lower does.
		stepped := false
		for i := len(tiles) - 1; i >= 0 && !stepped; i-- {
			t := &tiles[i]
			if lower := t.lower(); lower != layerNone {
				cost += t.rateOf(lower) - t.rate()
				t.layer, stepped = lower, true
			}
		}
		if stepped {
			continue
		}
		// Every tile at its lowest: the least important still shown is
		// paused.
		for i := len(tiles) - 1; i >= 0 && !stepped; i-- {
			t := &tiles[i]
			if t.layer != layerNone {
				cost -= t.rate()
				t.layer, stepped = layerNone, true
			}
		}
		if !stepped {
			return
		}
	}
}

func (t *tile) rateOf(l int8) int {
	if l == layerNone {
		return 0
	}
	return t.rates[l]
}

func (t *tile) rate() int { return t.rateOf(t.layer) }

// lower is the next layer below the tile's that the publisher sends, or
// layerNone.
func (t *tile) lower() int8 {
	if t.layer == layerNone {
		return layerNone
	}
	for l := t.layer - 1; l >= 0; l-- {
		if t.rates[l] > 0 {
			return l
		}
	}
	return layerNone
}

// bandwidth is a subscriber's estimate and what its retransmissions take.
type bandwidth struct {
	mu       sync.Mutex
	estimate int // bits per second, 0 if unknown
	// own says the estimate is the server's, of the video alone, from
	// the subscriber's transport-wide feedback (delay); until then it is
	// the subscriber's REMB, of all it receives.
	own   bool
	delay delayEstimate
	// numbered is the sendLog's count at the debug log's last look.
	numbered uint32
	// video is what the last fit let the subscriber's video take,
	// retransmissions included (bits per second; 0 before a fit with an
	// estimate).
	video int
	// rtt is the round trip to the subscriber, smoothed (ns; 0 until its
	// reports tell it): read by its readers of RTCP, so atomic.
	rtt atomic.Int64
	// Retransmissions: a token bucket of bytes at resendShare of the
	// video rate, and the bytes resent since the ticker last looked.
	tokens float64
	last   time.Time
	resent int
	// refused counts the resends refused since the ticker last looked,
	// for the debug log.
	refused int
	rate    int         // bits per second resent over the ticker's last second
	ticked  time.Time   // the ticker's last look
	probe   prober      // the ticker's only (probe.go)
	loss    lossControl // the ticker's only (losscontrol.go)
	// probeLeft is what the current probe may still duplicate, probeSent
	// what it did since the ticker last looked (bytes; padding.go): read
	// and written by the publishers' readers, so atomic.
	probeLeft, probeSent atomic.Int64
	// What the subscriber reported lost (RTCP fraction lost, of 256) of
	// its videos since the ticker last looked: the sum and the number of
	// reports. The mean, not the most: each report covers a fraction of a
	// second, a few dozen packets, so a few percent lost at random reads
	// as 0 in one report and 15 % in the next. A second without a
	// report keeps the last mean (lossLast, lossKnown): the next report
	// may be late.
	lossSum, lossReports int
	lossLast             uint8
	lossKnown            bool
}

// reports takes a subscriber's report blocks about its videos, received
// at now.
func (b *bandwidth) reports(blocks []rtcp.ReceptionReport, now time.Time) {
	for _, rr := range blocks {
		b.lost(rr.FractionLost)
		b.roundTrip(rr.LastSenderReport, rr.Delay, now)
	}
}

// lost takes a fraction lost (of 256) the subscriber reports of a video
// it receives.
func (b *bandwidth) lost(fraction uint8) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lossSum += int(fraction)
	b.lossReports++
}

// takeLoss returns the mean fraction reported lost since the last call
// (or the last mean, if nothing was reported since), and whether anything
// was ever reported.
func (b *bandwidth) takeLoss() (uint8, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n := b.lossReports; n > 0 {
		b.lossLast, b.lossKnown = uint8(b.lossSum/n), true
		b.lossSum, b.lossReports = 0, 0
	}
	return b.lossLast, b.lossKnown
}

// report takes a subscriber's estimate (bits per second), unless the
// server has its own.
func (b *bandwidth) report(bps int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.own {
		b.estimate = bps
	}
}

// transportFeedback takes the subscriber's transport-wide feedback,
// received at now, on the video log numbered.
func (b *bandwidth) transportFeedback(fb *rtcp.TransportLayerCC, log *sendLog, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if bps := b.delay.feedback(fb, log, now); bps > 0 {
		b.estimate, b.own = bps, true
	}
}

// debugCounts returns, for the debug log, how many video packets log
// numbered and how many the subscriber's feedback told of since the last
// call, what the feedback says arrives (bits per second), and how many
// times the server's own estimate fell.
func (b *bandwidth) debugCounts(log *sendLog) (numbered, told, acked, falls int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := log.next.Load()
	numbered, b.numbered = int(n-b.numbered), n
	return numbered, b.delay.takeTold(), int(b.delay.acked), b.delay.falls
}

// fell says whether the server's own estimate fell since the last call.
func (b *bandwidth) fell() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.delay.takeOveruse()
}

// take records what fitting let video take (bits per second).
func (b *bandwidth) take(bps int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.video = bps
}

// roundTrip takes a report block's last sender report and delay since
// (RFC 3550, 6.4.1: the middle 32 bits of an NTP time, and 1/65536 s)
// received at now, and folds the round trip they give into rtt (an eighth
// of each new one, as TCP smooths its own).
func (b *bandwidth) roundTrip(lsr, delay uint32, now time.Time) {
	if lsr == 0 {
		return // no sender report reached the subscriber yet
	}
	units := uint32(ntpTime(now)>>16) - lsr - delay
	if units > 5<<16 {
		return // more than 5 s, or negative: clocks or a stale report
	}
	sample := int64(units) * int64(time.Second) >> 16
	if old := b.rtt.Load(); old > 0 {
		sample = old + (sample-old)/8
	}
	b.rtt.Store(sample)
}

// current returns the estimate, 0 if there is none, and whether it is the
// server's own (of the video alone). The last one holds until the next: a
// subscriber whose video is all paused receives little to estimate from,
// and may report seldom.
func (b *bandwidth) current() (int, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.estimate, b.own
}

// resend reports whether size more bytes may be resent now, and counts
// them if so.
func (b *bandwidth) resend(size int, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.estimate > 0 {
		share := b.video
		if share <= 0 {
			share = b.estimate
		}
		rate := max(float64(share)/resendShare, resendFloor) / 8 // bytes per second
		// A burst of half a second's share, refilled at the share.
		burst := max(rate/2, resendLeast)
		if b.last.IsZero() {
			b.tokens = burst
		} else {
			b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*rate)
		}
		b.last = now
		if b.tokens < float64(size) {
			b.refused++
			return false
		}
		b.tokens -= float64(size)
	}
	b.resent += size
	return true
}

// takeRefused returns how many resends were refused since it was last
// called.
func (b *bandwidth) takeRefused() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := b.refused
	b.refused = 0
	return n
}

// tick turns the bytes resent since the last tick into a rate, and
// returns it.
func (b *bandwidth) tick(now time.Time) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if dt := now.Sub(b.ticked); !b.ticked.IsZero() && dt > 0 {
		b.rate = int(float64(b.resent*8) / dt.Seconds())
	}
	b.resent, b.ticked = 0, now
	return b.rate
}

// upHeadroom: a tile goes up a layer only if the tiles would fit in this
// share of the budget (percent), so that rates wobbling about the
// estimate do not switch layers, and ask for keyframes, every second.
const upHeadroom = 85

// fit chooses the layers of sub's video within its estimate at now; with
// no estimate, each tile gets what it wants (chooseLayer). downs is
// scratch, returned for reuse.
func (r *Router) fit(sub *Peer, now time.Time, downs []*downTrack) []*downTrack {
	if sub.link != linkNone {
		return downs // a link carries every layer, whatever its estimate
	}
	ns := now.UnixNano()
	est, own := sub.bw.current()
	resent := sub.bw.tick(now)
	downs = downs[:0]
	r.mu.Lock()
	for _, d := range sub.downs {
		downs = append(downs, d)
	}
	var ranks map[string]int
	if est > 0 {
		order := sub.importance
		ranks = make(map[string]int, len(downs))
		for _, d := range downs {
			rank := slices.Index(order, d.pub.info.Publisher)
			if rank < 0 {
				// After those named, the latest arrival last.
				rank = len(order) + d.pub.pub.joined
			}
			ranks[d.pub.info.Publisher] = rank
		}
	}
	r.mu.Unlock()
	if est == 0 {
		for _, d := range downs {
			if d.kind == KindVideo {
				d.choose(ns)
				r.hold(d, false)
			}
		}
		return downs
	}
	audio := 0
	var tiles []tile
	for _, d := range downs {
		if !d.allowed() {
			continue
		}
		if d.kind == KindAudio {
			if l := d.pub.layer(0); l != nil {
				audio += int(l.rate.Load())
			}
			continue
		}
		most := d.pub.chooseLayer(int8(d.pref.Load()), ns)
		if most == layerNone {
			continue
		}
		t := tile{d: d, rank: ranks[d.pub.info.Publisher], most: most, rates: make([]int, maxLayers)}
		for i := range maxLayers {
			if l := d.pub.layer(int8(i)); l != nil && l.sending(ns) {
				t.rates[i] = max(int(l.rate.Load()), 1)
			}
		}
		tiles = append(tiles, t)
	}
	if own {
		est += audio // the server's own estimate is of the video alone
	}
	sent := 0
	for i := range tiles {
		sent += tiles[i].rateOf(int8(tiles[i].d.want.Load()))
	}
	budget, up, frac, seen := sub.bw.videoBudget(est, audio, sent, resent, now)
	if seen && sub.log.Enabled(context.Background(), slog.LevelDebug) {
		numbered, told, acked, falls := sub.bw.debugCounts(sub.sendLog)
		sub.log.Debug("bandwidth", "own", own, "numbered", numbered, "told", told, "acked", acked, "falls", falls, "reported", est, "sent", sent, "resent", resent, "refused", sub.bw.takeRefused(),
			"rtt", time.Duration(sub.bw.rtt.Load()), "lost256", frac, "budget", budget)
	}
	fitTiles(tiles, budget)
	down := make([]int8, len(tiles))
	for i := range tiles {
		down[i] = tiles[i].layer
	}
	fitTiles(tiles, up)
	pb := &sub.bw.probe
	resumed := false
	for i := range tiles {
		t := &tiles[i]
		switch cur := int8(t.d.want.Load()); {
		case cur > down[i] && t.rates[cur] > 0 && pb.holds(t.d, now, est) && frac < lossHigh:
			// Being tried: the estimate has not had time to follow (and
			// the link does not lose as one that is full does).
		case cur > down[i]:
			t.d.setWant(down[i]) // must come down
		case t.layer > cur && cur == layerNone:
			// Paused tiles come back one a fit, at their lowest layer:
			// each brings a keyframe, and the next fit sees what it cost.
			if !resumed {
				t.d.setWant(t.higher(layerNone))
				resumed = true
			}
		case t.layer > cur:
			t.d.setWant(t.layer) // may go up, with room to spare
		case cur != layerNone && t.rates[cur] == 0:
			t.d.setWant(down[i]) // its layer is no longer sent
		}
	}
	// A probe for the next step of the tile nextStep names, if one is due
	// (losscontrol.go).
	below := nextStep(tiles)
	step, lack := 0, 0
	if below >= 0 && seen {
		t := &tiles[below]
		cur := int8(t.d.want.Load())
		if next := t.higher(cur); next != layerNone {
			step = t.rates[next] - t.rateOf(cur)
		}
		for i := range tiles {
			t := &tiles[i]
			lack += max(t.rateOf(t.most)-t.rateOf(int8(t.d.want.Load())), 0)
		}
	}
	sub.bw.probeLeft.Store(int64(sub.bw.loss.probe(step, lack, frac, now) / 8))
	if below < 0 {
		pb.settled()
	} else if t := &tiles[below]; pb.due(now, r.probeGap) {
		if up := t.higher(int8(t.d.want.Load())); up != layerNone {
			t.d.setWant(up)
			pb.start(t.d, up, now, est)
		}
	}
	for _, d := range downs {
		if d.kind == KindVideo && !slices.ContainsFunc(tiles, func(t tile) bool { return t.d == d }) {
			// Not weighed (not shown, not allowed): not held back for
			// bandwidth either.
			d.choose(ns)
			r.hold(d, false)
		}
	}
	for i := range tiles {
		r.hold(tiles[i].d, int8(tiles[i].d.want.Load()) == layerNone)
	}
	return downs
}

// videoBudget returns what a subscriber's tiles may take at now (bits per
// second), and what they may take to step up (upHeadroom of it, or what
// a probe has just shown the link carries), with the fraction of its
// video last reported lost and whether any was. Its video may take the
// estimate less audio, or the loss-based rate where that says more
// (losscontrol.go; set by all the video sent, resends included); the
// tiles get that less what was resent over the last second (resent), and
// resends are held to a tenth of it (resend). tiles is the rate of the
// tiles' layers as sent. If the server's own estimate fell since the last
// fit (a queue is growing on the way), the loss-based rate falls towards
// it (losscontrol.go).
func (b *bandwidth) videoBudget(est, audio, tiles, resent int, now time.Time) (budget, up int, frac uint8, seen bool) {
	video, proven := est-audio, 0
	frac, seen = b.takeLoss()
	if seen {
		var rate int
		rate, proven = b.loss.update(tiles+resent, frac, b.probeSent.Swap(0), now)
		video = max(video, rate)
	}
	if b.fell() && est > audio {
		video, proven = max(est-audio, b.loss.queued(est-audio, now)), 0
	}
	b.take(max(video, 0))
	budget = video - resent
	return budget, max(budget*upHeadroom/100, proven-resent), frac, seen
}

// nextStep is the index in tiles (most important first) of the tile
// whose next step up the link is tried for: the most important paused
// one, as every tile's lowest layer comes before any tile's higher one
// (its step is also the smallest); else the most important below its
// most; -1 if every tile gets its most.
func nextStep(tiles []tile) int {
	below := -1
	for i := range tiles {
		switch cur := int8(tiles[i].d.want.Load()); {
		case cur == layerNone:
			return i
		case below < 0 && cur < tiles[i].most:
			below = i
		}
	}
	return below
}

// hold records whether d, a video its subscriber is to be shown, is held
// back for its bandwidth, and says so when that changes. The ticker's
// only.
func (r *Router) hold(d *downTrack, held bool) {
	if d.held == held {
		return
	}
	d.held = held
	if r.onHeld != nil {
		r.onHeld(VideoHeld{Subscriber: d.sub.id, Track: d.pub.info, Held: held})
	}
}
