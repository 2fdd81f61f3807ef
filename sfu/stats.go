package sfu

import (
	"sync/atomic"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
)

// DropReason says why a packet was not sent to a subscriber.
type DropReason int

const (
	// DropGate: the gate holds the track back from this subscriber alone
	// (a private aside; a participant not in the gate).
	DropGate DropReason = iota
	// DropKeyframe: video waiting for a keyframe before it starts or resumes.
	DropKeyframe
	// DropUnbound: the subscriber's transceiver is not negotiated yet.
	DropUnbound
	// DropError: the write failed (connection closing, socket error).
	DropError
	// DropPadding: padding-only packets, which carry nothing to forward.
	DropPadding
	// DropMuted: the gate forwards the publisher's media of this kind to
	// nobody (a mute), yet its client sends it: browsers send silence (50
	// packets a second) and black frames (about 20) on a muted track.
	DropMuted
	numDropReasons
)

// String names the reason for metrics labels.
func (r DropReason) String() string {
	switch r {
	case DropGate:
		return "gate"
	case DropKeyframe:
		return "keyframe"
	case DropUnbound:
		return "unbound"
	case DropError:
		return "error"
	case DropPadding:
		return "padding"
	case DropMuted:
		return "muted"
	}
	return "unknown"
}

// DropReasons lists every reason, for exporters.
func DropReasons() []DropReason {
	return []DropReason{DropGate, DropKeyframe, DropUnbound, DropError, DropPadding, DropMuted}
}

// IngressReason says why a packet from a client was dropped on arrival.
type IngressReason int

const (
	// IngressUnknownSSRC: RTP on an SSRC not negotiated for the client.
	IngressUnknownSSRC IngressReason = iota
	// IngressUnknownRTCPSSRC: RTCP from or about SSRCs not negotiated,
	// beyond the few let through.
	IngressUnknownRTCPSSRC
	// IngressUnreadableRTCP: RTCP from a client whose keys the server
	// does not hold.
	IngressUnreadableRTCP
	numIngressReasons
)

// String names the reason for metrics labels.
func (r IngressReason) String() string {
	switch r {
	case IngressUnknownSSRC:
		return "unknown_ssrc"
	case IngressUnknownRTCPSSRC:
		return "unknown_rtcp_ssrc"
	case IngressUnreadableRTCP:
		return "unreadable_rtcp"
	}
	return "unknown"
}

// IngressReasons lists every reason, for exporters.
func IngressReasons() []IngressReason {
	return []IngressReason{IngressUnknownSSRC, IngressUnknownRTCPSSRC, IngressUnreadableRTCP}
}

// Stats counts what an Engine receives and forwards. The forwarding path adds
// to it once per incoming packet (not per subscriber), from local tallies, so
// that many tracks on few cores do not fight over these cache lines.
//
// Every field is safe to read at any time; exporters (internal/metrics) read
// them when scraped.
type Stats struct {
	PacketsIn, BytesIn               atomic.Uint64 // RTP from publishers
	PacketsForwarded, BytesForwarded atomic.Uint64 // RTP sent to subscribers
	// Dropped is indexed by DropReason.
	PacketsDropped, BytesDropped [numDropReasons]atomic.Uint64
	// KeyframeRequests counts PLIs sent to publishers (after throttling).
	KeyframeRequests atomic.Uint64
	// UnknownPayloadType counts packets from publishers dropped for a
	// payload type their connection did not negotiate.
	UnknownPayloadType atomic.Uint64
	// NACKsReceived counts NACK messages from subscribers, Retransmitted
	// the packets sent again in answer (history.go); NACKsSent counts those
	// sent to publishers about packets that did not reach us.
	NACKsReceived, NACKsSent, Retransmitted atomic.Uint64
	// TransportFeedback counts the transport-wide feedback messages from
	// subscribers that the server's own estimates are made from
	// (delaybwe.go).
	TransportFeedback atomic.Uint64
	// Tracks and Peers are gauges of what is live.
	Tracks, Peers atomic.Int64
	// UDPBatches and UDPBatchedPackets count sendmmsg batches and what
	// they carried; UDPWriteErrors counts datagrams the kernel refused.
	UDPBatches, UDPBatchedPackets, UDPWriteErrors atomic.Uint64
	// MuxDropped counts datagrams the mux could not route (unknown
	// source, not STUN; larger than pion reads; a client's checks from
	// more addresses than it may use) or that found their agent's queue
	// full.
	MuxDropped atomic.Uint64
	// FastForwarded counts the forwarded packets that took the fast
	// path (included in PacketsForwarded).
	FastForwarded atomic.Uint64
	// FastReceived counts packets the socket's reader decrypted and
	// forwarded itself; FastRejected, those it refused (not authentic, a
	// replay, or malformed).
	FastReceived, FastRejected atomic.Uint64
	// Refused counts RTP packets that arrived on tracks the SFU refused
	// (not allowed for the role, or over the track limit): read and
	// dropped, never forwarded.
	Refused atomic.Uint64
	// IngressDropped counts packets from clients dropped on arrival,
	// before pion sees them (ingress.go), indexed by IngressReason.
	IngressDropped [numIngressReasons]atomic.Uint64
}

// Dropped returns the packets and bytes dropped for a reason.
func (s *Stats) Dropped(r DropReason) (packets, bytes uint64) {
	if r < 0 || r >= numDropReasons {
		return 0, 0
	}
	return s.PacketsDropped[r].Load(), s.BytesDropped[r].Load()
}

// fanout tallies one packet's trip to every subscriber, on the reader's
// stack, so the shared counters are touched once per packet.
type fanout struct {
	forwarded int
	fast      int
	// sent is the RTP bytes forwarded, as written (each subscriber's
	// header extensions differ from the publisher's).
	sent    int
	dropped [numDropReasons]int
}

// outcome is what downTrack.forward did with one packet.
type outcome int8

const (
	outcomeForwarded     outcome = -1
	outcomeForwardedFast outcome = -2
	// outcomeSkipped: a packet of a simulcast layer the subscriber does
	// not get; not counted.
	outcomeSkipped outcome = -3
)

func dropped(r DropReason) outcome { return outcome(r) }

// add counts an outcome; sent is the size of the RTP packet written, for
// one forwarded.
func (f *fanout) add(o outcome, sent int) {
	switch o {
	case outcomeForwarded:
		f.forwarded++
		f.sent += sent
		return
	case outcomeForwardedFast:
		f.forwarded++
		f.fast++
		f.sent += sent
		return
	case outcomeSkipped:
		return
	}
	f.dropped[o]++
}

// record adds a packet's fan-out; size is the packet's RTP size as
// received, less its extensions and padding (what drops count).
func (s *Stats) record(f *fanout, size int) {
	s.PacketsIn.Add(1)
	s.BytesIn.Add(uint64(size))
	if f.forwarded > 0 {
		s.PacketsForwarded.Add(uint64(f.forwarded))
		s.BytesForwarded.Add(uint64(f.sent))
		if f.fast > 0 {
			s.FastForwarded.Add(uint64(f.fast))
		}
	}
	for r, n := range f.dropped {
		if n > 0 {
			s.PacketsDropped[r].Add(uint64(n))
			s.BytesDropped[r].Add(uint64(n * size))
		}
	}
}

func countNACKs(pkts []rtcp.Packet) uint64 {
	var n uint64
	for _, p := range pkts {
		if _, ok := p.(*rtcp.TransportLayerNack); ok {
			n++
		}
	}
	return n
}

// nackCounter is an interceptor that counts the NACKs this server sends to
// publishers. It must be registered before the NACK generator, whose RTCP
// writes then pass through it.
type nackCounter struct {
	interceptor.NoOp
	stats *Stats
}

type nackCounterFactory struct{ stats *Stats }

func (f nackCounterFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &nackCounter{stats: f.stats}, nil
}

func (n *nackCounter) BindRTCPWriter(w interceptor.RTCPWriter) interceptor.RTCPWriter {
	return interceptor.RTCPWriterFunc(func(pkts []rtcp.Packet, a interceptor.Attributes) (int, error) {
		if c := countNACKs(pkts); c > 0 {
			n.stats.NACKsSent.Add(c)
		}
		return w.Write(pkts, a)
	})
}
