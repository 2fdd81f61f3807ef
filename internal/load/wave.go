package load

import (
	"context"
	"fmt"
	"time"
)

// WaveResult is a session start: Wave participants joining new rooms
// within WaveWithin, beside the rooms already running.
type WaveResult struct {
	Participants int `json:"participants"`
	Failed       int `json:"failed_to_join"`
	Rooms        int `json:"rooms"`
	// WithinSeconds is the span the joins were spread over; SpanSeconds
	// runs from the first join until everyone (the rooms already running
	// too) received everyone, or Settle passed (Settled false).
	WithinSeconds float64 `json:"within_seconds"`
	SpanSeconds   float64 `json:"span_seconds"`
	Settled       bool    `json:"settled"`

	JoinAnswer     Percentiles `json:"join_to_answer"`
	JoinICE        Percentiles `json:"join_to_ice_connected"`
	JoinConnected  Percentiles `json:"join_to_connected"`
	JoinFirstMedia Percentiles `json:"join_to_first_media"`
	// Phases are the steps of the joins one after another.
	Phases JoinPhases `json:"phases"`

	// ServerCPUSeconds is the server's CPU over the span, and
	// ServerGCCPUSeconds the collector's share of it. ServerForwarded is
	// what the server forwarded meanwhile; ServerForwardCPUSeconds
	// estimates what that cost, at the CPU per forwarded packet of the
	// window measured after the wave (the same run).
	ServerCPUSeconds        float64 `json:"server_cpu_seconds"`
	ServerGCCPUSeconds      float64 `json:"server_gc_cpu_seconds"`
	ServerForwarded         uint64  `json:"server_forwarded_packets"`
	ServerForwardCPUSeconds float64 `json:"server_forward_cpu_seconds"`
	// ServerCPUPerJoinMs is ServerCPUSeconds per participant who joined;
	// ServerJoinCPUPerJoinMs leaves out the estimated forwarding: what
	// the joins themselves cost (signaling, ICE, DTLS, negotiations with
	// everyone in the room, the collector).
	ServerCPUPerJoinMs     float64 `json:"server_cpu_ms_per_join"`
	ServerJoinCPUPerJoinMs float64 `json:"server_cpu_ms_per_join_without_forwarding"`
	GCPerJoinMs            float64 `json:"server_gc_cpu_ms_per_join"`
	// AllocMBPerJoin is what the servers allocated over the span, and
	// AnswersPerJoin the answers to their offers they received (the first
	// offer of a join and each renegotiation), per participant who joined:
	// unlike CPU, neither depends on what else the machine runs.
	AllocMBPerJoin float64 `json:"server_alloc_mb_per_join,omitempty"`
	AnswersPerJoin float64 `json:"answers_per_join,omitempty"`

	// Quiet is the wave's joins measured on their own, with
	// Options.WaveQuiet: then first media is timed from the joins, but
	// the media was held back until everyone in the wave received
	// everyone of its room (its latencies are not those of a real start).
	Quiet *QuietResult `json:"quiet,omitempty"`

	// Running is what the rooms already running received during the span:
	// their loss, and the longest silence of any of their streams (a
	// stream sends every 20 ms).
	Running RunningResult `json:"running"`

	serverCPU time.Duration   // over the span, when the server's pid is known
	nodeCPU   []time.Duration // each node's, over the span
}

// QuietResult is the server's work for a wave whose joiners hold their
// media back (one packet a second per stream) until everyone in it
// receives everyone of its room.
type QuietResult struct {
	// SpanSeconds runs from the first join until then (Settled), or until
	// Settle passed.
	SpanSeconds float64 `json:"span_seconds"`
	Settled     bool    `json:"settled"`
	// ServerCPUSeconds is the server's CPU over the span; RunningCPUCores
	// its CPU with only the rooms already running, measured over
	// runningSample just before the wave.
	ServerCPUSeconds float64 `json:"server_cpu_seconds"`
	RunningCPUCores  float64 `json:"running_cpu_cores"`
	// JoinCPUPerJoinMs is the span's CPU less the running rooms' at that
	// rate, per participant who joined: the joins' own work (signaling,
	// ICE, DTLS, negotiations, the collector), with the wave's one packet
	// a second per stream. GCPerJoinMs is the collector's share of the
	// span's CPU, AllocMBPerJoin what the server allocated over it, and
	// AnswersPerJoin the answers to its offers, per participant.
	JoinCPUPerJoinMs float64 `json:"server_cpu_ms_per_join"`
	GCPerJoinMs      float64 `json:"server_gc_cpu_ms_per_join"`
	AllocMBPerJoin   float64 `json:"server_alloc_mb_per_join,omitempty"`
	AnswersPerJoin   float64 `json:"answers_per_join,omitempty"`
	// ServerForwarded is what the server forwarded over the span, the
	// running rooms' media and the wave's quiet packets.
	ServerForwarded uint64 `json:"server_forwarded_packets"`
}

// runningSample is how long the server's CPU with only the rooms already
// running is measured before a quiet wave.
const runningSample = 3 * time.Second

// RunningResult is the rooms already running, seen over the wave.
type RunningResult struct {
	Participants int     `json:"participants"`
	Streams      int     `json:"streams"`
	Loss         float64 `json:"loss"`
	// MaxGapMs is the longest time between two packets of one stream;
	// GapP99Ms the 99th percentile of the streams' longest gaps.
	MaxGapMs float64 `json:"max_gap_ms"`
	GapP99Ms float64 `json:"gap_p99_ms"`
}

// wave runs a session start after the rooms in running have settled:
// o.Wave participants join o.Wave/o.Size new rooms over o.WaveWithin. It
// returns them (to be measured in the window after, and closed) with what
// the wave cost and did to the rooms already running.
func (r *runner) wave(ctx context.Context, running []*member, kinds int) (*WaveResult, []*member, error) {
	o := r.o
	log := o.Logger.With("target", r.target)
	members := waveArrivals(o.Wave, o.Size, o.Rooms, o.WaveWithin, 1)
	w := &WaveResult{Participants: o.Wave, Rooms: (o.Wave + o.Size - 1) / o.Size, WithinSeconds: o.WaveWithin.Seconds()}

	for _, m := range running {
		if m.p == nil {
			continue
		}
		for _, s := range m.p.streams() {
			s.takeGap()
		}
	}
	var before snapshot
	if o.WaveQuiet {
		before = r.snap(ctx, running)
		if err := sleep(ctx, runningSample); err != nil {
			return nil, members, err
		}
		r.pace.hold()
	}
	alloc0, answers0 := r.joinWork(ctx)
	a := r.snap(ctx, running)
	log.Info("wave", "participants", o.Wave, "rooms", w.Rooms, "within", o.WaveWithin, "quiet", o.WaveQuiet)
	err := r.join(ctx, members)
	if o.WaveQuiet {
		if err == nil {
			w.Quiet = r.quiet(ctx, members, kinds, before, a, alloc0, answers0)
		}
		r.pace.release()
	}
	if err != nil {
		return nil, members, err
	}
	w.Failed = countFailed(members, log)
	w.Participants -= w.Failed
	if w.Failed == len(members) {
		return nil, members, fmt.Errorf("load: no participant of the wave could join: %w", members[0].err)
	}
	all := append(running[:len(running):len(running)], members...)
	w.Settled = r.waitSettled(ctx, all, kinds)
	b := r.snap(ctx, running)
	alloc1, answers1 := r.joinWork(ctx)
	if w.Participants > 0 && alloc1 > 0 {
		w.AllocMBPerJoin = (alloc1 - alloc0) / 1e6 / float64(w.Participants)
		w.AnswersPerJoin = (answers1 - answers0) / float64(w.Participants)
	}
	w.SpanSeconds = b.at.Sub(a.at).Seconds()
	log.Info("wave joined", "failed", w.Failed, "settled", w.Settled, "after", b.at.Sub(a.at).Round(time.Millisecond))

	w.JoinAnswer, w.JoinICE, w.JoinConnected, w.JoinFirstMedia = joinLatencies(members)
	w.Phases = joinPhases(members)
	if a.serverCPU > 0 && b.serverCPU > 0 {
		w.serverCPU = b.serverCPU - a.serverCPU
		w.ServerCPUSeconds = w.serverCPU.Seconds()
		for i := range min(len(a.nodeCPU), len(b.nodeCPU)) {
			w.nodeCPU = append(w.nodeCPU, b.nodeCPU[i]-a.nodeCPU[i])
		}
	}
	if a.gcOK && b.gcOK {
		w.ServerGCCPUSeconds = b.gcCPU - a.gcCPU
	}
	if a.serverOK && b.serverOK {
		w.ServerForwarded = b.serverFwd - a.serverFwd
	}
	w.Running = runningDuring(running, a, b)
	return w, members, nil
}

// quiet waits until everyone of a quiet wave receives everyone of its
// room and measures the server's work since a, the snapshot taken as the
// wave began; before is from runningSample earlier, with only the rooms
// already running.
func (r *runner) quiet(ctx context.Context, members []*member, kinds int, before, a snapshot,
	alloc0, answers0 float64) *QuietResult {
	q := &QuietResult{Settled: r.waitSettled(ctx, members, kinds)}
	b := r.snap(ctx, nil)
	alloc1, answers1 := r.joinWork(ctx)
	q.SpanSeconds = b.at.Sub(a.at).Seconds()
	n := 0
	for _, m := range members {
		if m.p != nil {
			n++
		}
	}
	if n == 0 {
		return q
	}
	if a.serverCPU > 0 && b.serverCPU > 0 {
		q.ServerCPUSeconds = (b.serverCPU - a.serverCPU).Seconds()
		if d := a.at.Sub(before.at).Seconds(); d > 0 && before.serverCPU > 0 {
			q.RunningCPUCores = (a.serverCPU - before.serverCPU).Seconds() / d
		}
		q.JoinCPUPerJoinMs = max(0, q.ServerCPUSeconds-q.RunningCPUCores*q.SpanSeconds) * 1000 / float64(n)
	}
	if a.gcOK && b.gcOK {
		q.GCPerJoinMs = (b.gcCPU - a.gcCPU) * 1000 / float64(n)
	}
	if alloc1 > 0 {
		q.AllocMBPerJoin = (alloc1 - alloc0) / 1e6 / float64(n)
		q.AnswersPerJoin = (answers1 - answers0) / float64(n)
	}
	if a.serverOK && b.serverOK {
		q.ServerForwarded = b.serverFwd - a.serverFwd
	}
	r.o.Logger.Info("wave quiet", "settled", q.Settled, "after", b.at.Sub(a.at).Round(time.Millisecond))
	return q
}

// joinWork reads what the servers allocated and the answers they received
// so far (0 when they do not report it).
func (r *runner) joinWork(ctx context.Context) (allocBytes, answers float64) {
	if r.scrape == nil {
		return 0, 0
	}
	if v, err := r.scrape(ctx, "go_memstats_alloc_bytes_total"); err == nil {
		allocBytes = v[0]
	}
	// The counter appears with the first answer.
	if v, err := r.scrape(ctx, `hearth_ws_messages_received_total{type="answer"}`); err == nil {
		answers = v[0]
	}
	return allocBytes, answers
}

// finish fills in what needs the window measured after the wave: the CPU
// per forwarded packet, to estimate the forwarding's share of the span.
func (w *WaveResult) finish(res *Result) {
	res.Rooms += w.Rooms
	if w.Participants == 0 {
		return
	}
	n := float64(w.Participants)
	w.ServerCPUPerJoinMs = w.ServerCPUSeconds * 1000 / n
	w.GCPerJoinMs = w.ServerGCCPUSeconds * 1000 / n
	if res.ServerCPUPerPacketUs > 0 && w.ServerCPUSeconds > 0 {
		w.ServerForwardCPUSeconds = float64(w.ServerForwarded) * res.ServerCPUPerPacketUs / 1e6
		w.ServerJoinCPUPerJoinMs = max(0, w.ServerCPUSeconds-w.ServerForwardCPUSeconds) * 1000 / n
	}
}

// runningDuring is what the members of the rooms already running received
// between a and b: loss over the streams they had at a, and the longest
// silences since the gaps were last taken.
func runningDuring(running []*member, a, b snapshot) RunningResult {
	var rr RunningResult
	var expected, received uint64
	var gaps []time.Duration
	for i, m := range running {
		if m.p == nil || a.streams[i] == nil || b.streams[i] == nil {
			continue
		}
		rr.Participants++
		streams := m.p.streams()
		for k, sa := range a.streams[i] {
			if !sa.started {
				continue
			}
			rr.Streams++
			e, g := windowLoss(sa, b.streams[i][k])
			expected += e
			received += g
			if s, ok := streams[k]; ok {
				gaps = append(gaps, s.takeGap())
			}
		}
	}
	if expected > 0 {
		rr.Loss = float64(expected-min(received, expected)) / float64(expected)
	}
	p := percentiles(gaps)
	rr.MaxGapMs, rr.GapP99Ms = p.Max, p.P99
	return rr
}
