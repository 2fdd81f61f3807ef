// Package metrics exports a Hearth server's state to Prometheus.
//
// Each server builds its own registry with New; nothing is registered
// globally. The media path never calls Prometheus: the SFU keeps plain atomic
// counters (sfu.Stats) that are read when /metrics is scraped.
package metrics

import (
	"net/http"
	"regexp"
	"time"

	"github.com/hearth-rtc/hearth/sfu"
	"github.com/hearth-rtc/hearth/signaling"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is one server's registry and the recorders handed to its parts.
// It implements signaling.Metrics.
type Metrics struct {
	reg *prometheus.Registry
	// SFU is filled by the engine (pass it as sfu.Config.Stats).
	SFU *sfu.Stats

	messages *prometheus.CounterVec
	errors   *prometheus.CounterVec
	joins    *prometheus.HistogramVec
}

var _ signaling.Metrics = (*Metrics)(nil)

// New creates a registry with the process and Go runtime collectors and
// Hearth's own metrics.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		SFU: &sfu.Stats{},
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_ws_messages_received_total",
			Help: "Websocket messages received from clients, by type (unknown types as \"unknown\").",
		}, []string{"type"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_ws_errors_sent_total",
			Help: "Error messages sent to clients, by protocol error code.",
		}, []string{"code"}),
		joins: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hearth_join_duration_seconds",
			Help: "Time from a join message to its answer (joined, waiting or refused), by outcome.",
			// Joins are dominated by store round trips and peer connection
			// setup: milliseconds on one node, tens with a remote Redis.
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"outcome"}),
	}
	m.reg.MustRegister(
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		// The collector's CPU, besides the default runtime figures: the
		// heap's growth between collections trades it for memory
		// (hearth serve -gc-percent), and the load tool reports it.
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
			collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/cpu/classes/gc/total:cpu-seconds$`)})),
		m.messages, m.errors, m.joins,
		&sfuCollector{stats: m.SFU},
	)
	return m
}

// Registry is the server's registry, for adding collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// WatchSignaling exports rooms and participants by role and state, taken
// from snapshot on each scrape.
func (m *Metrics) WatchSignaling(snapshot func() signaling.Stats) {
	m.reg.MustRegister(&signalingCollector{snapshot: snapshot})
}

// MessageReceived implements signaling.Metrics.
func (m *Metrics) MessageReceived(typ string) { m.messages.WithLabelValues(typ).Inc() }

// ErrorSent implements signaling.Metrics.
func (m *Metrics) ErrorSent(code string) { m.errors.WithLabelValues(code).Inc() }

// Join implements signaling.Metrics.
func (m *Metrics) Join(outcome string, d time.Duration) {
	m.joins.WithLabelValues(outcome).Observe(d.Seconds())
}

var (
	descPacketsIn = prometheus.NewDesc("hearth_sfu_received_packets_total",
		"RTP packets received from publishers.", nil, nil)
	descBytesIn = prometheus.NewDesc("hearth_sfu_received_bytes_total",
		"RTP bytes (header and payload, before SRTP) received from publishers.", nil, nil)
	descPacketsFwd = prometheus.NewDesc("hearth_sfu_forwarded_packets_total",
		"RTP packets sent to subscribers (one per subscriber).", nil, nil)
	descBytesFwd = prometheus.NewDesc("hearth_sfu_forwarded_bytes_total",
		"RTP bytes (header and payload, before SRTP) sent to subscribers.", nil, nil)
	descPacketsDrop = prometheus.NewDesc("hearth_sfu_dropped_packets_total",
		"Packets not sent to a subscriber, one per subscriber, by reason (muted: the publisher's media of that kind goes to nobody, yet its client sends it, as browsers do on a muted track; gate: held back from that subscriber alone, as in a private aside; keyframe, unbound, error, padding).", []string{"reason"}, nil)
	descBytesDrop = prometheus.NewDesc("hearth_sfu_dropped_bytes_total",
		"Bytes not sent to a subscriber, by reason.", []string{"reason"}, nil)
	descKeyframes = prometheus.NewDesc("hearth_sfu_keyframe_requests_total",
		"Keyframe requests (PLI) sent to publishers, after throttling.", nil, nil)
	descUnknownPT = prometheus.NewDesc("hearth_sfu_unknown_payload_type_packets_total",
		"RTP packets from publishers dropped for a payload type their connection did not negotiate.", nil, nil)
	descNACKs = prometheus.NewDesc("hearth_sfu_nacks_total",
		"RTCP NACK messages: received from subscribers or sent to publishers.", []string{"direction"}, nil)
	descRetransmitted = prometheus.NewDesc("hearth_sfu_retransmitted_packets_total",
		"Packets sent to subscribers again in answer to their NACKs.", nil, nil)
	descTransportFeedback = prometheus.NewDesc("hearth_sfu_transport_feedback_total",
		"Transport-wide congestion control feedback messages read from subscribers, from which the server estimates their links.", nil, nil)
	descBatches = prometheus.NewDesc("hearth_sfu_udp_batches_total",
		"sendmmsg batches written to the media socket.", nil, nil)
	descBatched = prometheus.NewDesc("hearth_sfu_udp_batched_packets_total",
		"Datagrams written in sendmmsg batches.", nil, nil)
	descWriteErrs = prometheus.NewDesc("hearth_sfu_udp_write_errors_total",
		"Datagrams the kernel refused to send from the media socket.", nil, nil)
	descFast = prometheus.NewDesc("hearth_sfu_fast_forwarded_packets_total",
		"Forwarded packets encrypted and sent by the SFU's fast path (included in forwarded).", nil, nil)
	descFastIn = prometheus.NewDesc("hearth_sfu_fast_received_packets_total",
		"Packets from publishers (audio and video) decrypted and fanned out by the SFU's receive fast path.", nil, nil)
	descFastRejected = prometheus.NewDesc("hearth_sfu_fast_rejected_packets_total",
		"Packets the receive fast path refused: not authentic, replayed or malformed.", nil, nil)
	descMuxDropped = prometheus.NewDesc("hearth_sfu_mux_dropped_total",
		"Datagrams the ICE mux dropped: from unknown sources, larger than a peer reads, from more addresses than a client may use, or finding their peer's queue full.", nil, nil)
	descRefused = prometheus.NewDesc("hearth_sfu_refused_packets_total",
		"RTP packets on tracks the SFU refused (role or track limit), read and dropped.", nil, nil)
	descIngressDrop = prometheus.NewDesc("hearth_sfu_ingress_dropped_packets_total",
		"Packets from clients dropped on arrival, before the server keeps anything for them, by reason (unknown_ssrc: RTP on an SSRC not negotiated for the client; unknown_rtcp_ssrc: RTCP from or about such SSRCs, beyond a few; unreadable_rtcp: RTCP whose keys the server does not hold).", []string{"reason"}, nil)
	descTracks = prometheus.NewDesc("hearth_sfu_tracks",
		"Published tracks being forwarded.", nil, nil)
	descPeers = prometheus.NewDesc("hearth_sfu_peer_connections",
		"Peer connections (one per seated participant).", nil, nil)
	descRooms = prometheus.NewDesc("hearth_rooms",
		"Rooms with a live session on this node.", nil, nil)
	descParticipants = prometheus.NewDesc("hearth_participants",
		"Websocket clients on this node by role (none before joining) and state (connecting, waiting, active).",
		[]string{"role", "state"}, nil)
)

// sfuCollector reads the engine's atomic counters at scrape time.
type sfuCollector struct{ stats *sfu.Stats }

func (c *sfuCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPacketsIn, descBytesIn, descPacketsFwd, descBytesFwd,
		descPacketsDrop, descBytesDrop, descKeyframes, descUnknownPT, descNACKs, descRetransmitted, descTransportFeedback, descBatches, descBatched, descWriteErrs,
		descFast, descFastIn, descFastRejected, descMuxDropped, descRefused, descIngressDrop, descTracks, descPeers} {
		ch <- d
	}
}

func (c *sfuCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(descPacketsIn, s.PacketsIn.Load())
	counter(descBytesIn, s.BytesIn.Load())
	counter(descPacketsFwd, s.PacketsForwarded.Load())
	counter(descBytesFwd, s.BytesForwarded.Load())
	for _, r := range sfu.DropReasons() {
		p, b := s.Dropped(r)
		counter(descPacketsDrop, p, r.String())
		counter(descBytesDrop, b, r.String())
	}
	counter(descKeyframes, s.KeyframeRequests.Load())
	counter(descUnknownPT, s.UnknownPayloadType.Load())
	counter(descNACKs, s.NACKsReceived.Load(), "received")
	counter(descNACKs, s.NACKsSent.Load(), "sent")
	counter(descRetransmitted, s.Retransmitted.Load())
	counter(descTransportFeedback, s.TransportFeedback.Load())
	counter(descBatches, s.UDPBatches.Load())
	counter(descBatched, s.UDPBatchedPackets.Load())
	counter(descWriteErrs, s.UDPWriteErrors.Load())
	counter(descMuxDropped, s.MuxDropped.Load())
	counter(descFast, s.FastForwarded.Load())
	counter(descFastIn, s.FastReceived.Load())
	counter(descFastRejected, s.FastRejected.Load())
	counter(descRefused, s.Refused.Load())
	for _, r := range sfu.IngressReasons() {
		counter(descIngressDrop, s.IngressDropped[r].Load(), r.String())
	}
	ch <- prometheus.MustNewConstMetric(descTracks, prometheus.GaugeValue, float64(s.Tracks.Load()))
	ch <- prometheus.MustNewConstMetric(descPeers, prometheus.GaugeValue, float64(s.Peers.Load()))
}

// signalingCollector takes a signaling snapshot at scrape time.
type signalingCollector struct{ snapshot func() signaling.Stats }

func (c *signalingCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descRooms
	ch <- descParticipants
}

func (c *signalingCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.snapshot()
	ch <- prometheus.MustNewConstMetric(descRooms, prometheus.GaugeValue, float64(st.Rooms))
	// Report the usual series even at zero, so dashboards see them from the
	// start rather than when the first participant arrives.
	seen := map[signaling.ParticipantKey]bool{}
	for _, k := range []signaling.ParticipantKey{
		{Role: "none", State: "connecting"},
		{Role: "member", State: "active"},
		{Role: "member", State: "waiting"},
		{Role: "facilitator", State: "active"},
	} {
		seen[k] = true
		ch <- prometheus.MustNewConstMetric(descParticipants, prometheus.GaugeValue, float64(st.Participants[k]), k.Role, k.State)
	}
	for k, n := range st.Participants {
		if !seen[k] {
			ch <- prometheus.MustNewConstMetric(descParticipants, prometheus.GaugeValue, float64(n), k.Role, k.State)
		}
	}
}
