package sfu

import (
	"math"
	"time"

	"github.com/pion/rtcp"
)

// The server's own estimate of a subscriber's link.
//
// Every video packet sent to a subscriber that negotiated transport-cc
// carries a transport-wide sequence number (abssend.go, sendlog.go), and
// the subscriber's browser reports when each arrived (transport-wide
// congestion control feedback, several times a second). From those the
// server estimates the link as GCC's delay-based controller does
// (draft-ietf-rmcat-gcc-02; the trendline filter, overuse detector and
// rate control of libwebrtc, which Chromium runs for what it sends):
// packets sent within 5 ms of each other form a group; the growth of each
// group's arrival spacing over its send spacing is accumulated, smoothed,
// and its trend over the last 20 groups taken; a trend above an adaptive
// threshold for long enough means a queue is growing on the way (overuse),
// one below it that a queue is draining. The rate starts as what arrived
// over the first two seconds, falls to 85 % of what arrives on overuse,
// holds while a queue drains, and otherwise grows by 8 % a second (once the
// link's capacity is known from a fall, by about a packet per round trip
// while near it), never above one and a half times what arrives. Loss is
// left to the loss-based rate (losscontrol.go).
//
// pion/interceptor's GCC does this too, but records each packet sent in a
// linked list of its own (two allocations a packet) and keeps its
// delay-based parts unexported (bandwidth.go); this is the same algorithm
// over a fixed-size log written with one atomic store a packet.
const (
	groupSpan      = 5000 // µs: packets sent within this of a group's first join it
	trendWindow    = 20   // groups the trend is fitted over
	trendSmoothing = 0.9
	trendGain      = 4.0
	trendMinDeltas = 60
	overuseTime    = 10.0 // ms over the threshold before overuse is signalled
	thresholdInit  = 12.5
	thresholdUp    = 0.0087
	thresholdDown  = 0.039
	thresholdSkip  = 15.0 // a trend this far past the threshold does not move it
	ackedWindow    = 500 * time.Millisecond
	rateInitTime   = 2 * time.Second
	rateBeta       = 0.85 // a fall to this share of what arrives
	rateGrowth     = 1.08 // a second, far from the link's capacity
	// arrivalJump: a group arriving this much later (or earlier) than it
	// was sent after the one before means a clock jumped or feedback was
	// lost for long: the trend starts again.
	arrivalJump = 3_000_000 // µs
)

// bwUsage is what the overuse detector concludes.
type bwUsage int8

const (
	usageNormal bwUsage = iota
	usageOver
	usageUnder
)

// sendGroup is packets sent within groupSpan of the first.
type sendGroup struct {
	first, last int64 // send times, µs
	arrival     int64 // last arrival, µs of the subscriber's clock
	firstArr    int64
	n           int
}

// delayEstimate is one subscriber's delay-based estimate (bits per
// second of video). Under its bandwidth's mutex.
type delayEstimate struct {
	// Unwrapping: the last send time (µs modulo 2^32) and where it stands,
	// the feedback's last reference time (24 bits of 64 ms) and the
	// arrival base it gave; each known once one was seen.
	sentLast  uint32
	sentAt    int64
	sentKnown bool
	refLast   uint32
	refAt     int64
	refKnown  bool

	cur, prev sendGroup

	// Trendline.
	deltas    int
	acc       float64
	smooth    float64
	firstArr  int64 // ms
	hist      [trendWindow][2]float64
	histLen   int
	histHead  int
	prevTrend float64

	// Detector.
	threshold  float64
	lastThresh int64   // ms, -1 until set
	overMs     float64 // -1 while not over
	overCount  int
	usage      bwUsage

	// Rate.
	rate       float64
	inited     bool
	increasing bool
	started    time.Time
	changed    time.Time
	decreased  time.Time
	capacity   float64 // what arrived at the last fall, 0 if forgotten
	// overused says a fall happened since the last look (takeOveruse).
	overused bool
	// told counts the packets feedback told of (arrived or not) since the
	// last look, for the debug log (takeTold).
	told int
	// falls counts the falls, for the debug log.
	falls int

	// What arrives: the window's bytes and first arrival, and the rate
	// (bits per second), each full window's rate averaged with what it
	// was before.
	winBytes int
	winStart int64
	acked    float64
}

func (e *delayEstimate) init() {
	if e.threshold == 0 {
		e.threshold, e.lastThresh, e.overMs = thresholdInit, -1, -1
	}
}

// feedback takes a subscriber's transport-wide feedback, received at
// now, with log the video sent to it; it returns the estimate (0 until
// there is one).
func (e *delayEstimate) feedback(fb *rtcp.TransportLayerCC, log *sendLog, now time.Time) int {
	e.init()
	if e.started.IsZero() {
		e.started, e.changed = now, now
	}
	arrival := e.reference(fb.ReferenceTime)
	seq := fb.BaseSequenceNumber
	left, di := int(fb.PacketStatusCount), 0
	visit := func(sym uint16) bool {
		if left == 0 {
			return false
		}
		left--
		e.told++
		s := seq
		seq++
		if sym != rtcp.TypeTCCPacketReceivedSmallDelta && sym != rtcp.TypeTCCPacketReceivedLargeDelta {
			return true
		}
		if di >= len(fb.RecvDeltas) {
			left = 0
			return false
		}
		arrival += fb.RecvDeltas[di].Delta
		di++
		if sent, size, ok := log.lookup(s); ok {
			e.packet(e.unwrapSent(sent), arrival, size)
		}
		return true
	}
	for _, c := range fb.PacketChunks {
		switch c := c.(type) {
		case *rtcp.RunLengthChunk:
			for range c.RunLength {
				if !visit(c.PacketStatusSymbol) {
					break
				}
			}
		case *rtcp.StatusVectorChunk:
			for _, sym := range c.SymbolList {
				if !visit(sym) {
					break
				}
			}
		}
	}
	e.control(now)
	return int(e.rate)
}

// reference unwraps a feedback's reference time into µs.
func (e *delayEstimate) reference(ref uint32) int64 {
	if !e.refKnown {
		e.refLast, e.refAt, e.refKnown = ref, int64(ref)*64000, true
		return e.refAt
	}
	d := int32((ref-e.refLast)<<8) >> 8 // 24 bits, signed
	e.refLast = ref
	e.refAt += int64(d) * 64000
	return e.refAt
}

// unwrapSent unwraps a send time (µs modulo 2^32).
func (e *delayEstimate) unwrapSent(us uint32) int64 {
	if !e.sentKnown {
		e.sentLast, e.sentAt, e.sentKnown = us, int64(us), true
		return e.sentAt
	}
	e.sentAt += int64(int32(us - e.sentLast))
	e.sentLast = us
	return e.sentAt
}

// packet takes one packet reported received: sent and arrival in µs.
func (e *delayEstimate) packet(sent, arrival int64, size int) {
	e.arrived(arrival, size)
	g := &e.cur
	switch {
	case g.n == 0:
		*g = newGroup(sent, arrival)
		return
	case sent < g.first:
		return // sent before the group began: out of order
	case sent-g.first <= groupSpan, e.burst(sent, arrival):
		g.last, g.arrival = max(g.last, sent), max(g.arrival, arrival)
		g.n++
		return
	}
	if e.prev.n > 0 {
		sendDelta, arrDelta := g.last-e.prev.last, g.arrival-e.prev.arrival
		if d := arrDelta - sendDelta; d > arrivalJump || d < -arrivalJump || arrDelta < 0 {
			e.restart()
		} else {
			e.trend(float64(d)/1000, float64(arrDelta)/1000, g.arrival/1000)
		}
	}
	e.prev = *g
	*g = newGroup(sent, arrival)
}

// newGroup is a group begun by a packet sent and arriving at those times.
func newGroup(sent, arrival int64) sendGroup {
	return sendGroup{first: sent, last: sent, arrival: arrival, firstArr: arrival, n: 1}
}

// burst says a packet arrived in the same burst as the current group:
// within 5 ms of its last, sooner after it than it was sent, and within
// 100 ms of the group's first arrival (a queue letting go at once).
func (e *delayEstimate) burst(sent, arrival int64) bool {
	g := &e.cur
	arrDelta := arrival - g.arrival
	return arrDelta-(sent-g.last) < 0 && arrDelta <= groupSpan && arrival-g.firstArr < 100_000
}

// restart forgets the trend.
func (e *delayEstimate) restart() {
	e.deltas, e.acc, e.smooth, e.histLen, e.histHead, e.prevTrend = 0, 0, 0, 0, 0, 0
	e.overMs, e.overCount, e.usage = -1, 0, usageNormal
}

// trend takes one group's delay variation (ms), its arrival spacing
// from the group before (ms), and its arrival (ms).
func (e *delayEstimate) trend(delta, arrDelta float64, arrivalMs int64) {
	if e.deltas == 0 {
		e.firstArr = arrivalMs
	}
	e.deltas = min(e.deltas+1, 1000)
	e.acc += delta
	e.smooth = trendSmoothing*e.smooth + (1-trendSmoothing)*e.acc
	e.hist[e.histHead] = [2]float64{float64(arrivalMs - e.firstArr), e.smooth}
	e.histHead = (e.histHead + 1) % trendWindow
	e.histLen = min(e.histLen+1, trendWindow)
	slope := e.prevTrend
	if e.histLen == trendWindow {
		if s, ok := fitSlope(e.hist[:]); ok {
			slope = s
		}
	}
	e.detect(slope, arrDelta, arrivalMs)
}

// fitSlope is the least-squares slope of points (x, y).
func fitSlope(pts [][2]float64) (float64, bool) {
	var sx, sy float64
	for _, p := range pts {
		sx += p[0]
		sy += p[1]
	}
	mx, my := sx/float64(len(pts)), sy/float64(len(pts))
	var num, den float64
	for _, p := range pts {
		num += (p[0] - mx) * (p[1] - my)
		den += (p[0] - mx) * (p[0] - mx)
	}
	if den == 0 {
		return 0, false
	}
	return num / den, true
}

// detect compares the trend with the threshold (libwebrtc's
// TrendlineEstimator::Detect) and adapts the threshold.
func (e *delayEstimate) detect(trend, arrDelta float64, nowMs int64) {
	if e.deltas < 2 {
		e.usage = usageNormal
		return
	}
	modified := float64(min(e.deltas, trendMinDeltas)) * trend * trendGain
	switch {
	case modified > e.threshold:
		if e.overMs < 0 {
			e.overMs = arrDelta / 2
		} else {
			e.overMs += arrDelta
		}
		e.overCount++
		if e.overMs > overuseTime && e.overCount > 1 && trend >= e.prevTrend {
			e.overMs, e.overCount, e.usage = 0, 0, usageOver
		}
	case modified < -e.threshold:
		e.overMs, e.overCount, e.usage = -1, 0, usageUnder
	default:
		e.overMs, e.overCount, e.usage = -1, 0, usageNormal
	}
	e.prevTrend = trend
	// The threshold follows the trend: slowly up, faster down, so that
	// the delay a queue that competes with others keeps does not starve
	// this flow.
	if e.lastThresh < 0 {
		e.lastThresh = nowMs
	}
	abs := math.Abs(modified)
	if abs > e.threshold+thresholdSkip {
		e.lastThresh = nowMs
		return
	}
	k := thresholdUp
	if abs < e.threshold {
		k = thresholdDown
	}
	dt := float64(min(max(nowMs-e.lastThresh, 0), 100))
	e.threshold = min(max(e.threshold+k*(abs-e.threshold)*dt, 6), 600)
	e.lastThresh = nowMs
}

// arrived adds a packet to the measure of what arrives.
func (e *delayEstimate) arrived(arrival int64, size int) {
	if e.winBytes == 0 || arrival < e.winStart {
		e.winBytes, e.winStart = size, arrival
		return
	}
	e.winBytes += size
	if span := arrival - e.winStart; span >= ackedWindow.Microseconds() {
		rate := float64(e.winBytes) * 8 * 1e6 / float64(span)
		if e.acked == 0 {
			e.acked = rate
		} else {
			e.acked = (e.acked + rate) / 2
		}
		e.winBytes = 0
	}
}

// control moves the rate after a feedback, as libwebrtc's
// AimdRateControl does: a fall on overuse (at most one each 200 ms), a
// hold while a queue drains and on the first normal signal after, growth
// from the next.
func (e *delayEstimate) control(now time.Time) {
	dt := min(now.Sub(e.changed), time.Second)
	e.changed = now
	if e.acked == 0 {
		return
	}
	if !e.inited {
		switch {
		case e.usage == usageOver:
			e.rate, e.inited = rateBeta*e.acked, true
			e.fell(now)
		case now.Sub(e.started) >= rateInitTime:
			e.rate, e.inited = e.acked, true
		}
		return
	}
	switch e.usage {
	case usageOver:
		// One fall per 200 ms: the reports after a fall still tell of
		// the queue before it.
		if now.Sub(e.decreased) >= 200*time.Millisecond {
			if r := rateBeta * e.acked; r < e.rate {
				e.rate = r
			}
			e.fell(now)
		}
		e.increasing = false
		return
	case usageUnder:
		e.increasing = false
		return
	}
	if !e.increasing {
		e.increasing = true
		return
	}
	if e.capacity > 0 && e.acked > 1.5*e.capacity {
		e.capacity = 0 // the link carries more now
	}
	next := e.rate * math.Pow(rateGrowth, dt.Seconds())
	if e.capacity > 0 && e.rate < 1.5*e.capacity {
		// Near the link's capacity: about a packet (1,200 bytes) per
		// round trip, taken as 200 ms.
		next = e.rate + 9600/0.2*dt.Seconds()
	}
	// No growth past one and a half times what arrives; what arrives
	// falling does not lower the rate (only a queue does).
	if limit := 1.5*e.acked + 10_000; next > limit {
		next = max(e.rate, limit)
	}
	e.rate = next
}

// fell notes a fall at now.
func (e *delayEstimate) fell(now time.Time) {
	e.decreased, e.overused, e.capacity = now, true, e.acked
	e.falls++
}

// takeTold returns how many packets feedback told of since the last call.
func (e *delayEstimate) takeTold() int {
	n := e.told
	e.told = 0
	return n
}

// takeOveruse says whether the rate fell since the last call.
func (e *delayEstimate) takeOveruse() bool {
	o := e.overused
	e.overused = false
	return o
}
