package load

import (
	"math"
	"slices"
	"sync"
	"time"

	"github.com/hearth-rtc/hearth/internal/client"
)

// rxStream follows one received RTP stream (one publisher's track at one
// subscriber): packets, extended sequence numbers for loss, and the RFC 3550
// interarrival jitter.
//
// One reader goroutine calls Packet (or packet); the orchestrator snapshots. A mutex is
// cheaper here than it looks: it is never contended except at snapshots.
type rxStream struct {
	clock float64 // RTP clock rate in Hz

	mu       sync.Mutex
	packets  uint64
	bytes    uint64
	started  bool
	maxSeq   uint16
	cycles   uint64 // wraps of the sequence number, << 16
	transit  float64
	jitter   float64 // in RTP timestamp units
	lastSeen time.Time
	last     time.Duration // the latest arrival, since the stream's origin
	gapMax   time.Duration // the longest silence since takeGap
}

// rxSnapshot is a stream's counters at one instant.
type rxSnapshot struct {
	packets, bytes uint64
	extMax         uint64 // highest extended sequence number seen
	started        bool
	jitterSec      float64
}

func newRxStream(clock uint32) *rxStream { return &rxStream{clock: float64(clock)} }

var _ client.Counter = (*rxStream)(nil)

// Packet records one arrival from a client's receive path. It reads only
// the RTP header fields it needs: a full unmarshal per packet would be the
// load tool's own overhead.
func (s *rxStream) Packet(b []byte, at time.Duration) {
	s.packet(uint16(b[2])<<8|uint16(b[3]), uint32(b[4])<<24|uint32(b[5])<<16|uint32(b[6])<<8|uint32(b[7]), len(b), at)
}

// packet records one arrival. now is the arrival time since an arbitrary
// origin shared by all packets of the stream.
func (s *rxStream) packet(seq uint16, ts uint32, size int, now time.Duration) {
	arrival := now.Seconds() * s.clock
	s.mu.Lock()
	s.packets++
	s.bytes += uint64(size)
	transit := arrival - float64(ts)
	if s.started && now-s.last > s.gapMax {
		s.gapMax = now - s.last
	}
	s.last = now
	if !s.started {
		s.started = true
		s.maxSeq = seq
		s.transit = transit
		s.mu.Unlock()
		return
	}
	// RFC 3550 A.1: a sequence number ahead of the maximum by less than
	// half the space moves it forward (wrapping into the next cycle);
	// older ones are late or duplicates.
	if d := seq - s.maxSeq; d != 0 && d < 1<<15 {
		if seq < s.maxSeq {
			s.cycles += 1 << 16
		}
		s.maxSeq = seq
	}
	// RFC 3550 A.8. The timestamp difference is taken modulo 2^32 so that
	// timestamp wrap does not look like a jump.
	d := transit - s.transit
	if math.Abs(d) > 1<<31 {
		d = math.Mod(d, 1<<32)
	}
	s.transit = transit
	s.jitter += (math.Abs(d) - s.jitter) / 16
	s.mu.Unlock()
}

func (s *rxStream) snapshot() rxSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return rxSnapshot{
		packets: s.packets, bytes: s.bytes, extMax: s.cycles + uint64(s.maxSeq), started: s.started,
		jitterSec: s.jitter / s.clock,
	}
}

// takeGap returns the longest time between two arrivals since the last
// call, and starts over.
func (s *rxStream) takeGap() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.gapMax
	s.gapMax = 0
	return g
}

// windowLoss returns the packets expected and received between two
// snapshots of one stream. A stream that had not started at a, and one that
// never started, are handled by the caller.
func windowLoss(a, b rxSnapshot) (expected, received uint64) {
	received = b.packets - a.packets
	if b.extMax > a.extMax {
		expected = b.extMax - a.extMax
	}
	if received > expected {
		// Duplicates or reordering across the edges of the window.
		expected = received
	}
	return expected, received
}

// Percentiles summarise a sample, in milliseconds.
type Percentiles struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_ms"`
	P95 float64 `json:"p95_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

func percentiles(d []time.Duration) Percentiles {
	if len(d) == 0 {
		return Percentiles{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	at := func(q float64) float64 {
		// Nearest rank: the smallest value with at least q of the sample
		// at or below it.
		i := int(math.Ceil(q*float64(len(s)))) - 1
		i = max(0, min(i, len(s)-1))
		return float64(s[i]) / float64(time.Millisecond)
	}
	return Percentiles{N: len(s), P50: at(.50), P95: at(.95), P99: at(.99), Max: at(1)}
}
