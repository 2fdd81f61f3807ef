package load

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is one target's measurements over the window.
type Result struct {
	Target       string `json:"target"` // hearth, relay or relay-plain
	Rooms        int    `json:"rooms"`
	RoomSize     int    `json:"room_size"`
	Participants int    `json:"participants"`
	Failed       int    `json:"failed_to_join"`
	Settled      bool   `json:"settled"` // everyone received everyone before the window
	Video        bool   `json:"video"`
	VideoBitrate int    `json:"video_bitrate,omitempty"`
	FPS          int    `json:"fps,omitempty"`
	// Layout is how subscribers showed simulcast cameras; empty without
	// simulcast.
	Layout        string  `json:"simulcast_layout,omitempty"`
	WindowSeconds float64 `json:"window_seconds"`

	Streams         int `json:"streams"`
	StreamsExpected int `json:"streams_expected"`
	// SentPerSec: packets the publishers sent; ReceivedPerSec: packets
	// the subscribers received; ServerForwardedPerSec: the server's own
	// count of packets it sent.
	SentPerSec float64 `json:"sent_pps"`
	// NominalSentPerSec is what the publishers should send; falling short
	// of it means the generator did not keep up.
	NominalSentPerSec float64 `json:"nominal_sent_pps"`
	// DuePerSec is what the subscribers should receive: for each stream,
	// what its publisher sent of it (with simulcast, on the layer the
	// subscriber's layout asks for).
	DuePerSec             float64 `json:"due_pps"`
	ReceivedPerSec        float64 `json:"received_pps"`
	ReceivedMbps          float64 `json:"received_mbps"`
	ServerForwardedPerSec float64 `json:"server_forwarded_pps"`
	// ServerForwardedMbps is the server's count of RTP bytes it forwarded
	// (headers and payload, before encryption); 0 when it has none.
	ServerForwardedMbps float64 `json:"server_forwarded_mbps,omitempty"`
	// ServerFeedbackPerSec is the transport-wide feedback the server read
	// from subscribers, a second: what its own estimates are made from.
	ServerFeedbackPerSec float64 `json:"server_transport_feedback_per_sec,omitempty"`
	// Loss is the fraction of expected packets that did not arrive.
	Loss        float64     `json:"loss"`
	JitterAudio Percentiles `json:"jitter_audio"`
	JitterVideo Percentiles `json:"jitter_video,omitzero"`

	// Join steps, from the join message: the server's answer (joined),
	// ICE connected, DTLS up (peer connection connected), and the first
	// packet heard from someone already there.
	JoinAnswer     Percentiles `json:"join_to_answer"`
	JoinICE        Percentiles `json:"join_to_ice_connected"`
	JoinConnected  Percentiles `json:"join_to_connected"`
	JoinFirstMedia Percentiles `json:"join_to_first_media"`

	ServerCPUCores          float64 `json:"server_cpu_cores"`
	ServerCPUPerPacketUs    float64 `json:"server_cpu_us_per_forwarded_packet"`
	ServerRSSBytes          uint64  `json:"server_rss_bytes"`
	ServerRSSPerParticipant uint64  `json:"server_rss_bytes_per_participant"`
	// ServerJoinCPUSeconds is the server's CPU from the first join until
	// everyone received everyone: joins, renegotiations, the collector's
	// work on what they leave behind, and the media that flowed meanwhile;
	// ServerJoinGCCPUSeconds is the collector's share of it.
	ServerJoinCPUSeconds   float64 `json:"server_join_cpu_seconds,omitempty"`
	ServerJoinGCCPUSeconds float64 `json:"server_join_gc_cpu_seconds,omitempty"`
	// ServerGCCPUCores is the collector's CPU over the window.
	ServerGCCPUCores float64 `json:"server_gc_cpu_cores,omitempty"`
	ToolCPUCores     float64 `json:"tool_cpu_cores"`
	MachineBusyCores float64 `json:"machine_busy_cores"`
	// GeneratorSkipped counts packets the generator skipped because it
	// fell behind: the load tool itself was saturated.
	GeneratorSkipped uint64       `json:"generator_skipped"`
	KernelUDP        *UDPCounters `json:"kernel_udp,omitempty"`
	// ServerSocketDrops counts datagrams dropped at the server's own
	// socket (its receive buffer full), when its port is known.
	ServerSocketDrops *uint64 `json:"server_socket_drops,omitempty"`
	// Nodes, for a run over several nodes, is each one's share; the
	// joins are split by whether they came through the room's owner
	// (JoinAnswerOwner) or through another node, which relays them
	// (JoinAnswerRelayed): join sent → joined received.
	Nodes             []NodeResult `json:"nodes,omitempty"`
	JoinAnswerOwner   Percentiles  `json:"join_to_answer_through_owner,omitzero"`
	JoinAnswerRelayed Percentiles  `json:"join_to_answer_relayed,omitzero"`
	// Wave is the session start, when the run had one (Options.Wave);
	// the rest of the result is the window after it, everyone included.
	Wave *WaveResult `json:"wave,omitempty"`
}

// Report is a run's output: the machine, the results and Hearth's cost as
// a ratio of the relay's.
type Report struct {
	Machine Machine   `json:"machine"`
	Results []*Result `json:"results"`
	// CPURatio is Hearth's server CPU per forwarded packet divided by the
	// relay's (when both ran).
	CPURatio float64 `json:"cpu_ratio_to_relay,omitempty"`
	// GCCRatio is the relay's CPU per forwarded packet with pion's
	// congestion control divided by the relay's without (when both ran).
	GCCRatio float64 `json:"gcc_relay_cpu_ratio,omitempty"`
}

// Machine describes where the run happened.
type Machine struct {
	CPUs    int    `json:"cpus"`
	Model   string `json:"cpu_model"`
	Kernel  string `json:"kernel"`
	Go      string `json:"go"`
	RmemMax int    `json:"rmem_max"`
	WmemMax int    `json:"wmem_max"`
	Started string `json:"started"`
}

// DescribeMachine reads what it can about this machine.
func DescribeMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), Started: time.Now().UTC().Format(time.RFC3339)}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				m.Model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	readInt := func(p string) int {
		b, _ := os.ReadFile(p)
		v, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return v
	}
	m.RmemMax = readInt("/proc/sys/net/core/rmem_max")
	m.WmemMax = readInt("/proc/sys/net/core/wmem_max")
	return m
}

// Finish computes the ratio once results are in.
func (r *Report) Finish() {
	var hearth, relay, relayGCC *Result
	for _, x := range r.Results {
		switch x.Target {
		case "hearth":
			hearth = x
		case "relay":
			relay = x
		case "relay-gcc":
			relayGCC = x
		}
	}
	if hearth != nil && relay != nil && relay.ServerCPUPerPacketUs > 0 {
		r.CPURatio = hearth.ServerCPUPerPacketUs / relay.ServerCPUPerPacketUs
	}
	if relayGCC != nil && relay != nil && relay.ServerCPUPerPacketUs > 0 {
		r.GCCRatio = relayGCC.ServerCPUPerPacketUs / relay.ServerCPUPerPacketUs
	}
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the report as a table, one column per target.
func (r *Report) WriteTable(w io.Writer) error {
	if len(r.Results) == 0 {
		_, err := fmt.Fprintln(w, "no results")
		return err
	}
	first := r.Results[0]
	media := "audio 50 pkt/s"
	switch {
	case first.Layout != "":
		media += fmt.Sprintf(" + simulcast video (%d/%d/%d kbit/s) at %d fps, layout %s",
			simulcastBitrates[0]/1000, simulcastBitrates[1]/1000, simulcastBitrates[2]/1000, first.FPS, first.Layout)
	case first.Video:
		media += fmt.Sprintf(" + video %d kbit/s at %d fps", first.VideoBitrate/1000, first.FPS)
	}
	fmt.Fprintf(w, "%d rooms × %d = %d participants, %s, %.0f s window; %d CPUs (%s), kernel %s\n\n",
		first.Rooms, first.RoomSize, first.Rooms*first.RoomSize, media, first.WindowSeconds,
		r.Machine.CPUs, r.Machine.Model, r.Machine.Kernel)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(name string, f func(*Result) string) {
		fmt.Fprintf(tw, "%s\t", name)
		for _, x := range r.Results {
			fmt.Fprintf(tw, "%s\t", f(x))
		}
		fmt.Fprintln(tw)
	}
	pct := func(p Percentiles) string {
		if p.N == 0 {
			return "-"
		}
		return fmt.Sprintf("%.0f / %.0f / %.0f", p.P50, p.P95, p.P99)
	}
	row("", func(x *Result) string { return x.Target })
	row("participants (failed)", func(x *Result) string { return fmt.Sprintf("%d (%d)", x.Participants, x.Failed) })
	row("streams received / expected", func(x *Result) string { return fmt.Sprintf("%d / %d", x.Streams, x.StreamsExpected) })
	row("sent pkt/s (of nominal)", func(x *Result) string {
		return fmt.Sprintf("%.0f (%.1f%%)", x.SentPerSec, 100*x.SentPerSec/max(x.NominalSentPerSec, 1))
	})
	row("forwarded pkt/s (server)", func(x *Result) string { return fmt.Sprintf("%.0f", x.ServerForwardedPerSec) })
	row("forwarded RTP Mbit/s (server)", func(x *Result) string {
		if x.ServerForwardedMbps == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f", x.ServerForwardedMbps)
	})
	row("transport-wide feedback read /s (server)", func(x *Result) string {
		if x.ServerFeedbackPerSec == 0 {
			return "-"
		}
		return fmt.Sprintf("%.0f", x.ServerFeedbackPerSec)
	})
	row("received pkt/s", func(x *Result) string { return fmt.Sprintf("%.0f", x.ReceivedPerSec) })
	row("received Mbit/s", func(x *Result) string { return fmt.Sprintf("%.1f", x.ReceivedMbps) })
	row("receive loss", func(x *Result) string { return fmt.Sprintf("%.3f%%", x.Loss*100) })
	row("audio jitter p50 / p99 ms", func(x *Result) string {
		return fmt.Sprintf("%.2f / %.2f", x.JitterAudio.P50, x.JitterAudio.P99)
	})
	if first.Video {
		row("video jitter p50 / p99 ms", func(x *Result) string {
			return fmt.Sprintf("%.2f / %.2f", x.JitterVideo.P50, x.JitterVideo.P99)
		})
	}
	row("join→answer p50/p95/p99 ms", func(x *Result) string { return pct(x.JoinAnswer) })
	row("join→ICE connected p50/p95/p99 ms", func(x *Result) string { return pct(x.JoinICE) })
	row("join→DTLS up p50/p95/p99 ms", func(x *Result) string { return pct(x.JoinConnected) })
	row("join→first media p50/p95/p99 ms", func(x *Result) string { return pct(x.JoinFirstMedia) })
	row("server CPU (cores)", func(x *Result) string { return fmt.Sprintf("%.2f", x.ServerCPUCores) })
	row("server CPU µs / forwarded pkt", func(x *Result) string { return fmt.Sprintf("%.2f", x.ServerCPUPerPacketUs) })
	row("server RSS MiB", func(x *Result) string { return fmt.Sprintf("%.1f", float64(x.ServerRSSBytes)/(1<<20)) })
	row("server RSS KiB / participant", func(x *Result) string {
		return fmt.Sprintf("%.0f", float64(x.ServerRSSPerParticipant)/1024)
	})
	row("server CPU ms / join (ramp)", func(x *Result) string {
		if x.Participants == 0 || x.ServerJoinCPUSeconds == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f", x.ServerJoinCPUSeconds*1000/float64(x.Participants))
	})
	row("  of which collector", func(x *Result) string {
		if x.Participants == 0 || x.ServerJoinGCCPUSeconds == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f", x.ServerJoinGCCPUSeconds*1000/float64(x.Participants))
	})
	row("server collector CPU (cores)", func(x *Result) string {
		if x.ServerGCCPUCores == 0 {
			return "-"
		}
		return fmt.Sprintf("%.3f", x.ServerGCCPUCores)
	})
	row("load tool CPU (cores)", func(x *Result) string { return fmt.Sprintf("%.2f", x.ToolCPUCores) })
	row("machine busy (cores)", func(x *Result) string { return fmt.Sprintf("%.2f", x.MachineBusyCores) })
	row("generator skipped pkts", func(x *Result) string { return strconv.FormatUint(x.GeneratorSkipped, 10) })
	row("kernel UDP drops rcvbuf/sndbuf", func(x *Result) string {
		if x.KernelUDP == nil {
			return "-"
		}
		return fmt.Sprintf("%d / %d", x.KernelUDP.RcvbufErrors, x.KernelUDP.SndbufErrors)
	})
	row("server socket drops", func(x *Result) string {
		if x.ServerSocketDrops == nil {
			return "-"
		}
		return strconv.FormatUint(*x.ServerSocketDrops, 10)
	})
	if len(first.Nodes) > 0 {
		row("join→answer through owner p50/p95/p99 ms", func(x *Result) string { return pct(x.JoinAnswerOwner) })
		row("join→answer relayed p50/p95/p99 ms", func(x *Result) string { return pct(x.JoinAnswerRelayed) })
		for i := range first.Nodes {
			row(fmt.Sprintf("node %s: joined / owns / CPU (cores)", first.Nodes[i].ID), func(x *Result) string {
				if i >= len(x.Nodes) {
					return "-"
				}
				n := x.Nodes[i]
				return fmt.Sprintf("%d / %d / %.2f", n.Joined, n.Owned, n.CPUCores)
			})
			if first.Wave != nil {
				row(fmt.Sprintf("node %s: CPU s during the wave", first.Nodes[i].ID), func(x *Result) string {
					if i >= len(x.Nodes) {
						return "-"
					}
					return fmt.Sprintf("%.2f", x.Nodes[i].WaveCPUSeconds)
				})
			}
		}
	}
	if first.Wave != nil {
		wave := func(x *Result) *WaveResult {
			if x.Wave == nil {
				return &WaveResult{}
			}
			return x.Wave
		}
		row("wave: joined (failed) / within s", func(x *Result) string {
			w := wave(x)
			return fmt.Sprintf("%d (%d) / %.1f", w.Participants, w.Failed, w.WithinSeconds)
		})
		row("wave: until all receive all s", func(x *Result) string {
			w := wave(x)
			if !w.Settled {
				return fmt.Sprintf("not within %.1f", w.SpanSeconds)
			}
			return fmt.Sprintf("%.2f", w.SpanSeconds)
		})
		row("wave: join→answer p50/p95/p99 ms", func(x *Result) string { return pct(wave(x).JoinAnswer) })
		row("wave: join→DTLS up p50/p95/p99 ms", func(x *Result) string { return pct(wave(x).JoinConnected) })
		row("wave: join→first media p50/p95/p99 ms", func(x *Result) string { return pct(wave(x).JoinFirstMedia) })
		row("wave: join→offer p50/p95/p99 ms", func(x *Result) string { return pct(wave(x).Phases.JoinOffer) })
		row("  offer→answer sent", func(x *Result) string { return pct(wave(x).Phases.OfferAnswer) })
		row("  answer sent→ICE connected", func(x *Result) string { return pct(wave(x).Phases.AnswerICE) })
		row("  ICE connected→DTLS up", func(x *Result) string { return pct(wave(x).Phases.ICEDTLS) })
		row("wave: server CPU ms / join", func(x *Result) string { return fmt.Sprintf("%.1f", wave(x).ServerCPUPerJoinMs) })
		row("  without forwarding (est.)", func(x *Result) string { return fmt.Sprintf("%.1f", wave(x).ServerJoinCPUPerJoinMs) })
		row("  of which collector", func(x *Result) string { return fmt.Sprintf("%.1f", wave(x).GCPerJoinMs) })
		row("wave: server MB allocated / join", func(x *Result) string { return fmt.Sprintf("%.2f", wave(x).AllocMBPerJoin) })
		row("wave: answers to offers / join", func(x *Result) string { return fmt.Sprintf("%.2f", wave(x).AnswersPerJoin) })
		row("wave: running rooms' loss", func(x *Result) string {
			return fmt.Sprintf("%.3f%% (%d streams)", wave(x).Running.Loss*100, wave(x).Running.Streams)
		})
		row("wave: running longest gap p99 / max ms", func(x *Result) string {
			return fmt.Sprintf("%.0f / %.0f", wave(x).Running.GapP99Ms, wave(x).Running.MaxGapMs)
		})
		if first.Wave.Quiet != nil {
			quietRows(row, wave)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if r.CPURatio > 0 {
		fmt.Fprintf(w, "\nHearth CPU per forwarded packet = %.2f × the relay's\n", r.CPURatio)
	}
	if r.GCCRatio > 0 {
		fmt.Fprintf(w, "The relay's CPU per forwarded packet with pion's congestion control = %.2f × without\n", r.GCCRatio)
	}
	return nil
}

// scrapeCounters reads unlabelled counters from one fetch of a Prometheus
// text page, in the order of names (one fetch, so they are read at the
// same moment); each must be there.
func scrapeCounters(ctx context.Context, url string, names ...string) ([]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("load: metrics: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("load: metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("load: metrics: %s", resp.Status)
	}
	out := make([]float64, len(names))
	found := make([]bool, len(names))
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		for i, name := range names {
			v, ok := strings.CutPrefix(sc.Text(), name+" ")
			if !ok {
				continue
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return nil, fmt.Errorf("load: metrics: %s: %w", name, err)
			}
			out[i], found[i] = f, true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("load: metrics: %w", err)
	}
	for i, ok := range found {
		if !ok {
			return nil, fmt.Errorf("load: metrics: no %s at %s", names[i], url)
		}
	}
	return out, nil
}

// quietRows are a quiet wave's rows (Options.WaveQuiet).
func quietRows(row func(string, func(*Result) string), wave func(*Result) *WaveResult) {
	quiet := func(x *Result) *QuietResult {
		if q := wave(x).Quiet; q != nil {
			return q
		}
		return &QuietResult{}
	}
	row("quiet wave: until the wave receives all s", func(x *Result) string {
		q := quiet(x)
		if !q.Settled {
			return fmt.Sprintf("not within %.1f", q.SpanSeconds)
		}
		return fmt.Sprintf("%.2f", q.SpanSeconds)
	})
	row("quiet wave: server CPU s / running rooms' cores", func(x *Result) string {
		return fmt.Sprintf("%.2f / %.2f", quiet(x).ServerCPUSeconds, quiet(x).RunningCPUCores)
	})
	row("quiet wave: joins' own CPU ms / join", func(x *Result) string { return fmt.Sprintf("%.1f", quiet(x).JoinCPUPerJoinMs) })
	row("  collector ms / join", func(x *Result) string { return fmt.Sprintf("%.1f", quiet(x).GCPerJoinMs) })
	row("quiet wave: MB allocated / answers, per join", func(x *Result) string {
		return fmt.Sprintf("%.2f / %.2f", quiet(x).AllocMBPerJoin, quiet(x).AnswersPerJoin)
	})
}
