package web_test

// Chromium on emulated home networks. The browser under test runs inside a
// network namespace (internal/testutil/netsim) whose veth link into this
// machine is limited with tbf; the server stays on loopback, its page and
// websocket reached through a TCP forwarder on the link's address, and
// its media port through a UDP relay there that adds seeded loss and
// delay (the kernel has no netem; Debian's Chromium 156 has no
// WebRTC-FakeNetwork field trials: the names are not in its binary).
// The server announces the relay's address (NAT 1:1), so all the
// browser's media crosses the relay and the limited link.
//
// The other participants are Go clients on loopback publishing the real
// clip (VP8 and Opus the browser decodes; internal/testutil/clip): eight
// publishing Chromiums would not fit on two cores beside the browser
// under test. The tests run one after the other (never t.Parallel) and
// log the figures they measure.

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/browser"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/clip"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/internal/testutil/netsim"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/sfu"
)

// netRoom is a server, and a browser behind an emulated link to it.
type netRoom struct {
	srv   *hearthtest.Server
	net   *netsim.Net
	relay *netsim.Relay
	url   string // the page, as the browser reaches it
	// width and height are the browser's window; 1280 by 800 if zero.
	width, height int
}

// behind starts a server whose media the browser reaches through a relay
// impairing it with imp each way, on a link limited to down and up bits a
// second (zero: no limit).
func behind(t *testing.T, down, up int, imp netsim.Impairment) *netRoom {
	t.Helper()
	n := netsim.New(t)
	srv := hearthtest.Start(t, hearthtest.Options{PublicIPs: []string{n.Host.String()}})
	media := srv.App.MediaAddr().AddrPort()
	relay := netsim.NewRelay(t, netsim.RelayConfig{
		Listen: netip.AddrPortFrom(n.Host, media.Port()), Target: media, Down: imp, Up: imp, Seed: 18})
	web := netsim.Forward(t, netip.AddrPortFrom(n.Host, 0), netip.MustParseAddrPort(strings.TrimPrefix(srv.URL, "http://")))
	n.Limit(t, down, up)
	return &netRoom{srv: srv, net: n, relay: relay, url: "http://" + web.String()}
}

// join opens the page in a browser inside the namespace and joins room as
// name.
func (r *netRoom) join(t *testing.T, room, name string) *browser.Browser {
	t.Helper()
	exe, err := browser.FindChromium("")
	if err != nil {
		browser.New(t, browser.Desktop) // skips, or fails under CI=true
	}
	// The page is not on localhost: the camera needs it called secure.
	w, h := cmp.Or(r.width, 1280), cmp.Or(r.height, 800)
	b := browser.New(t, browser.Options{Width: w, Height: h, ExecPath: r.net.Wrap(t, exe)},
		"--unsafely-treat-insecure-origin-as-secure="+r.url)
	if err := b.Navigate(t.Context(), r.url+"/r/"+room); err != nil {
		t.Fatal(err)
	}
	wait(t, b, `document.body.dataset.ready === "true"`)
	fill(t, b, "#name", name)
	click(t, b, "#join-button")
	waitLong(t, b, `hearth.screen === "call" && hearth.state === "connected"`)
	return b
}

// publishers joins n Go clients that publish the clip, its video as three
// simulcast layers as the browser client sends its camera, and returns them
// and a count of the keyframe requests the server sent them.
func publishers(t *testing.T, srv *hearthtest.Server, room string, n int) ([]*client.Client, *atomic.Int64) {
	t.Helper()
	var keyframes atomic.Int64
	out := make([]*client.Client, n)
	for i := range out {
		p, err := clip.NewSimulcastPlayer()
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := budget.Context(t, budget.Step)
		c, err := client.Dial(ctx, nil, client.Options{URL: srv.WSURL, Room: room, Name: fmt.Sprintf("Pub %d", i+1),
			Audio: true, Video: true, Simulcast: true, ExternalMedia: true,
			OnLayerKeyframeRequest: func(l int) { keyframes.Add(1); p.KeyframeLayer(l) },
			OnVideoLayers:          func(m protocol.VideoLayers) { pauseLayers(p, m) }})
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Stop(); c.Close() })
		if err := c.Join(); err != nil {
			cancel()
			t.Fatal(err)
		}
		if _, err := c.WaitMessage(ctx, "joined", nil); err != nil {
			cancel()
			t.Fatalf("publisher %d did not join: %v", i+1, err)
		}
		cancel()
		p.PlayLayers(c)
		out[i] = c
	}
	return out, &keyframes
}

// pauseLayers pauses the layers of p's video that the server says nobody
// receives, and resumes the others, as the browser client does.
func pauseLayers(p *clip.Player, m protocol.VideoLayers) {
	for _, l := range m.Layers {
		if i := slices.Index(client.SimulcastRIDs[:], l.RID); i >= 0 {
			p.Pause(i, !l.Active)
		}
	}
}

// inboundAt is what a browser's getStats says of one publisher's camera
// and microphone.
type inboundAt struct {
	Audio struct {
		PacketsReceived, PacketsLost           float64
		ConcealedSamples, TotalSamplesReceived float64
		ConcealmentEvents                      float64
		JitterBufferDelay, JitterBufferEmitted float64
	}
	Video struct {
		PacketsReceived, PacketsLost, Retransmitted float64
		FramesDecoded, KeyFramesDecoded, FrameWidth float64
		FreezeCount, TotalFreezesDuration           float64
		NackCount, PliCount                         float64
	}
}

// inboundStats is the JavaScript for the browser's inbound streams by
// publisher, cameras and microphones only.
const inboundStats = `Promise.all([hearth.inboundStats(), hearth.pc.getStats()]).then(([mine, r]) => {
	const owners = new Map(mine.filter(x => x.participant && !x.screen).map(x => [x.trackIdentifier, x.participant]));
	const out = {};
	r.forEach(s => {
		const id = s.type === "inbound-rtp" && owners.get(s.trackIdentifier);
		if (!id) return;
		const p = out[id] ||= {Audio: {}, Video: {}};
		if (s.kind === "audio") p.Audio = {PacketsReceived: s.packetsReceived || 0, PacketsLost: s.packetsLost || 0,
			ConcealedSamples: s.concealedSamples || 0, TotalSamplesReceived: s.totalSamplesReceived || 0,
			ConcealmentEvents: s.concealmentEvents || 0, JitterBufferDelay: s.jitterBufferDelay || 0,
			JitterBufferEmitted: s.jitterBufferEmittedCount || 0};
		else p.Video = {PacketsReceived: s.packetsReceived || 0, PacketsLost: s.packetsLost || 0,
			Retransmitted: s.retransmittedPacketsReceived || 0, FramesDecoded: s.framesDecoded || 0,
			KeyFramesDecoded: s.keyFramesDecoded || 0, FrameWidth: s.frameWidth || 0, FreezeCount: s.freezeCount || 0,
			TotalFreezesDuration: s.totalFreezesDuration || 0, NackCount: s.nackCount || 0, PliCount: s.pliCount || 0};
	});
	return out;
})`

func readStats(t *testing.T, b *browser.Browser) map[string]inboundAt {
	return eval[map[string]inboundAt](t, b, inboundStats)
}

// window is what changed between two readings of a browser's stats, for
// one publisher.
type window struct {
	id                                 string
	audioPackets, audioLost            float64
	concealed, samples, concealEvents  float64
	jitterBuffer                       time.Duration // mean delay of what was played out
	frames, keyframes, freezes, frozen float64
	videoPackets, videoLost, resent    float64
	nacks, plis, width                 float64
}

func diff(id string, a, b inboundAt) window {
	w := window{id: id,
		audioPackets: b.Audio.PacketsReceived - a.Audio.PacketsReceived, audioLost: b.Audio.PacketsLost - a.Audio.PacketsLost,
		concealed: b.Audio.ConcealedSamples - a.Audio.ConcealedSamples, samples: b.Audio.TotalSamplesReceived - a.Audio.TotalSamplesReceived,
		concealEvents: b.Audio.ConcealmentEvents - a.Audio.ConcealmentEvents,
		frames:        b.Video.FramesDecoded - a.Video.FramesDecoded, keyframes: b.Video.KeyFramesDecoded - a.Video.KeyFramesDecoded,
		freezes: b.Video.FreezeCount - a.Video.FreezeCount, frozen: b.Video.TotalFreezesDuration - a.Video.TotalFreezesDuration,
		videoPackets: b.Video.PacketsReceived - a.Video.PacketsReceived, videoLost: b.Video.PacketsLost - a.Video.PacketsLost,
		resent: b.Video.Retransmitted - a.Video.Retransmitted,
		nacks:  b.Video.NackCount - a.Video.NackCount, plis: b.Video.PliCount - a.Video.PliCount, width: b.Video.FrameWidth}
	if n := b.Audio.JitterBufferEmitted - a.Audio.JitterBufferEmitted; n > 0 {
		w.jitterBuffer = time.Duration((b.Audio.JitterBufferDelay - a.Audio.JitterBufferDelay) / n * float64(time.Second))
	}
	return w
}

func (w window) String() string {
	share := 0.0
	if w.samples > 0 {
		share = 100 * w.concealed / w.samples
	}
	return fmt.Sprintf("%s: audio %.0f packets (%.0f lost), %.1f %% concealed in %.0f events, jitter buffer %v; "+
		"video %.0f frames (%.0f keyframes, %.0f px wide), %.0f freezes (%.1f s), %.0f packets (%.0f lost, %.0f resent), %.0f NACKs, %.0f PLIs",
		w.id, w.audioPackets, w.audioLost, share, w.concealEvents, w.jitterBuffer.Round(time.Millisecond),
		w.frames, w.keyframes, w.width, w.freezes, w.frozen, w.videoPackets, w.videoLost, w.resent, w.nacks, w.plis)
}

// measure waits until the browser has received audio worth at least
// seconds from every publisher in ids since before (a condition, not a
// clock: a busy machine takes longer), and returns the windows.
func measure(t *testing.T, b *browser.Browser, ids []string, before map[string]inboundAt, seconds int) ([]window, map[string]inboundAt) {
	t.Helper()
	cond := fmt.Sprintf(`%s.then(now => %s.every(id => now[id] && now[id].Audio.TotalSamplesReceived - (%s[id] ? %s[id].Audio.TotalSamplesReceived : 0) >= %d))`,
		inboundStats, jsList(ids), jsJSON(t, before), jsJSON(t, before), seconds*48000)
	if err := b.WaitJS(t.Context(), cond, budget.Step); err != nil {
		t.Fatalf("the browser did not receive %d s of audio from every publisher: %v\n%s", seconds, err, mediaState(t, b))
	}
	after := readStats(t, b)
	out := make([]window, len(ids))
	for i, id := range ids {
		out[i] = diff(id, before[id], after[id])
	}
	return out, after
}

func jsList(ids []string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = jsString(id)
	}
	return "[" + strings.Join(q, ",") + "]"
}

func jsJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// participantIDs returns the ids of cs.
func participantIDs(cs []*client.Client) []string {
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID()
	}
	return ids
}

// TestNetworkOutage: the browser's link goes dead for 2 s (every packet
// either way dropped, websocket included), and comes back: sound and
// pictures resume on the same connection and the same seat, without a
// rejoin.
func TestNetworkOutage(t *testing.T) {
	r := behind(t, 0, 0, netsim.Impairment{})
	pubs, _ := publishers(t, r.srv, "outage", 2)
	b := r.join(t, "outage", "Ola")
	ids := participantIDs(pubs)
	for _, id := range ids {
		risingFor(t, b, "Ola", id, "video", "framesDecoded")
	}
	self := eval[string](t, b, `hearth.selfId`)
	if err := b.Eval(t.Context(), `window.__pc = hearth.pc, true`, nil); err != nil {
		t.Fatal(err)
	}

	r.net.Cut(t)
	cut := readStats(t, b)
	time.Sleep(2 * time.Second) // the outage itself
	r.net.Limit(t, 0, 0)
	back := time.Now()
	for _, id := range ids {
		risingFor(t, b, "Ola", id, "video", "framesDecoded")
		risingFor(t, b, "Ola", id, "audio", "packetsReceived")
	}
	t.Logf("media from both publishers flowing again %v after the link came back", time.Since(back).Round(100*time.Millisecond))
	ws, _ := measure(t, b, ids, cut, 6)
	for _, w := range ws {
		t.Logf("from the outage on: %v", w)
	}
	if got := eval[string](t, b, `hearth.selfId`); got != self {
		t.Errorf("the browser is participant %q after the outage, %q before: it rejoined", got, self)
	}
	throughRelay(t, r)
	if !eval[bool](t, b, `window.__pc === hearth.pc && hearth.pc.connectionState === "connected"`) {
		t.Errorf("the browser's peer connection was replaced or is not connected: %s", eval[string](t, b, `hearth.pc.connectionState`))
	}
}

// TestNetworkLossRecovered: 3 % of packets lost each way and 100 ms of
// round trip, bandwidth to spare. The browser's NACKs get the lost video
// packets resent, so video keeps decoding with few freezes, and the
// publishers are not made to send a storm of keyframes: the keyframe
// requests reaching them stay a few a minute, beside the clip's own
// keyframe a second.
func TestNetworkLossRecovered(t *testing.T) {
	r := behind(t, 0, 0, netsim.Impairment{Loss: 0.03, Delay: 50 * time.Millisecond})
	pubs, keyframes := publishers(t, r.srv, "lossy", 2)
	b := r.join(t, "lossy", "Lou")
	ids := participantIDs(pubs)
	for _, id := range ids {
		risingFor(t, b, "Lou", id, "video", "framesDecoded")
	}
	before, asked := readStats(t, b), keyframes.Load()
	start := time.Now()
	ws, _ := measure(t, b, ids, before, 20)
	elapsed := time.Since(start)
	requests := keyframes.Load() - asked
	t.Logf("%d keyframe requests reached the publishers in %v", requests, elapsed.Round(time.Second))
	for _, w := range ws {
		t.Logf("20 s of audio under 3 %% loss: %v", w)
		if w.nacks == 0 {
			t.Errorf("%s: the browser sent no NACK for lost video", w.id)
		}
		if w.frames < 20*15/2 {
			t.Errorf("%s: %.0f frames decoded in 20 s of a 15 frames a second clip", w.id, w.frames)
		}
		// Without retransmission every lost frame would wait for the
		// next keyframe (one a second): most of the 20 s frozen. A
		// starved machine adds freezes of its own (the browser's decoder
		// waiting for a core), so the bound leaves room for them.
		if w.frozen > 8 {
			t.Errorf("%s: video frozen %.1f s in 20 s", w.id, w.frozen)
		}
		if share := w.concealed / w.samples; share > 0.12 {
			t.Errorf("%s: %.1f %% of audio concealed", w.id, 100*share)
		}
	}
	throughRelay(t, r)
	// A storm would be a request per lost frame: tens a second.
	if limit := int64(len(ids)) * int64(elapsed/time.Second) / 2; requests > limit {
		t.Errorf("%d keyframe requests reached %d publishers in %v, want at most one every 2 s each", requests, len(ids), elapsed.Round(time.Second))
	}
}

// TestNetworkThinSubscriber: a browser behind 1 Mbit/s each way, 100 ms
// of round trip and 3 % loss, in a room of eight publishers, each sending
// three layers (about 40, 150 and 400 kbit/s of video; the browser shows
// each tile medium, asking for the middle one) and 32 kbit/s of sound.
// Its sound from every publisher keeps playing with few samples concealed
// (audio never gives way); video keeps decoding at the lowest layer for
// at least six of the eight tiles (all eight on a machine not starved;
// the server pauses the least important ones only when even the lowest
// layers do not fit, and the browser is told of a tile paused);
// nothing is counted as held back by the gate, nothing being muted; the
// browser sends transport-wide feedback, from which the server makes its
// own estimate of the link; once
// the limit is lifted, every tile decodes the
// layer its size asks for within 40 s (PERFORMANCE.md, "Networks"). What
// it measures (tiles decoding, freezes, NACKs of paused tiles, the time
// to climb back, the load average) is logged.
func TestNetworkThinSubscriber(t *testing.T) {
	imp := netsim.Impairment{Loss: 0.03, Delay: 50 * time.Millisecond}
	r := behind(t, 1_000_000, 1_000_000, imp)
	// Wide enough that each of the nine tiles is medium (the middle
	// layer), so that there is a layer to step down to and climb back.
	r.width, r.height = 1920, 1080
	pubs, keyframes := publishers(t, r.srv, "thin", 8)
	b := r.join(t, "thin", "Tam")
	ids := participantIDs(pubs)
	for _, id := range ids {
		risingFor(t, b, "Tam", id, "audio", "packetsReceived")
	}
	// Settle: the estimate takes a few seconds to find the link.
	measure(t, b, ids, readStats(t, b), 5)
	t.Logf("the browser shows the tiles %s", eval[string](t, b, `JSON.stringify((hearth.layout || []).map(t => t.size))`))
	before, asked := readStats(t, b), keyframes.Load()
	start, counted := time.Now(), serverCounts(t, r.srv)
	dropsBefore := r.net.ReceiveDrops(t)
	ws, _ := measure(t, b, ids, before, 20)
	elapsed := time.Since(start)
	limited := serverCounts(t, r.srv)
	// Datagrams the link delivered and the browser's sockets dropped: a
	// machine too busy to run the browser, whose sound then breaks up
	// whatever the network does.
	browserDrops := r.net.ReceiveDrops(t) - dropsBefore
	t.Logf("the server, at 1 Mbit/s: %s; the browser's sockets dropped %d datagrams", countsSince(counted, limited, elapsed), browserDrops)
	noGateDrops(t, counted, limited)
	// The browser sent transport-wide feedback: the estimate the server
	// fitted its video to was the server's own.
	if fed := limited[`hearth_sfu_transport_feedback_total`] - counted[`hearth_sfu_transport_feedback_total`]; fed == 0 {
		t.Errorf("the browser sent no transport-wide feedback in %v: the server had no estimate of its own", elapsed.Round(time.Second))
	}
	// What a publisher sent in the window (received and lost) is 50
	// packets a second unless the machine starved it; then the gaps are
	// its, not the link's, and say nothing of the network.
	due := 50 * elapsed.Seconds()
	isStarved := func(w window) bool { return w.audioPackets+w.audioLost < 0.8*due }
	starved := 0
	for _, w := range ws {
		if isStarved(w) {
			starved++
		}
	}
	smooth, decoding := 0, 0
	paused, pausedNACKs := 0, 0.0
	for _, w := range ws {
		t.Logf("20 s at 1 Mbit/s, 3 %% loss: %v", w)
		if w.videoPackets == 0 {
			paused++
			pausedNACKs += w.nacks
		}
		if isStarved(w) {
			t.Logf("%s sent %.0f audio packets in %v, not %.0f: the machine is too busy to judge its sound", w.id, w.audioPackets+w.audioLost, elapsed.Round(time.Second), due)
			continue
		}
		// 1.4 – 3 % on this machine, up to 11 % under -race with others'
		// tests running; 13 – 15 % before video gave way to sound.
		share := w.concealed / w.samples
		switch {
		case share <= 0.12:
		case browserDrops > 0 || starved > 0:
			// A browser that cannot keep up conceals what arrived late
			// as much as what was lost: nothing to judge the network by.
			t.Logf("%s: %.1f %% of audio concealed, on a machine too busy to run the browser and the publishers", w.id, 100*share)
		default:
			t.Errorf("%s: %.1f %% of audio concealed", w.id, 100*share)
		}
		if w.frames >= 15 {
			decoding++
		}
		// Half the frames of the lowest layer (10 a second).
		if w.frames >= 20*10/2 && w.frozen < 4 {
			smooth++
		}
	}
	t.Logf("%d of %d tiles decoding, %d smoothly; %d keyframe requests reached the publishers; the browser told %d times of a video paused or back; load average %s",
		decoding, len(ids), smooth, keyframes.Load()-asked, eval[int](t, b, `(hearth.received.video_paused || 0)`), loadAverage())
	// All eight on a quiet machine; a busy one starves the browser's
	// decoders and the publishers, and the estimate with them.
	if decoding < 6 && starved == 0 && browserDrops == 0 {
		t.Errorf("%d of %d tiles decoding at 1 Mbit/s, want at least 6", decoding, len(ids))
	}
	if paused > 0 {
		t.Logf("%d tiles paused throughout drew %.1f NACKs a second each", paused, pausedNACKs/float64(paused)/elapsed.Seconds())
		// A tile the server paused is said to be paused, not left frozen.
		told := eval[int](t, b, `(hearth.received.video_paused || 0)`)
		switch {
		case told > 0:
			t.Logf("the browser was told %d times of a video paused or back", told)
		case starved > 0 || browserDrops > 0:
			t.Logf("%d tiles got no video, and the browser was never told one is paused, on a machine too busy to judge", paused)
		default:
			t.Errorf("%d tiles got no video, and the browser was never told one is paused", paused)
		}
	}
	if decoding == 0 && starved == 0 {
		t.Errorf("no tile's video decodes at 1 Mbit/s")
	}
	throughRelay(t, r)

	r.net.Limit(t, 0, 0)
	r.relay.Set(netsim.Impairment{}, netsim.Impairment{})
	lifted, dropsLifted := time.Now(), r.net.ReceiveDrops(t)
	if err := b.WaitJS(t.Context(), atTileSize(ids), budget.Step); err != nil {
		if starved > 0 {
			t.Logf("not every tile came back to the layer its size asks for (%v), but %d publishers could not keep their pace: the machine is too busy to judge the climb", err, starved)
			return
		}
		// Datagrams the browser's sockets dropped read to it as loss,
		// which holds its estimate and the server's loss-based rate
		// down: the machine's doing, not the network's.
		if drops := r.net.ReceiveDrops(t) - dropsLifted; drops > 0 {
			t.Logf("not every tile came back to the layer its size asks for (%v), but the browser's sockets dropped %d datagrams meanwhile: the machine is too busy to judge the climb\n%s", err, drops, mediaState(t, b))
			return
		}
		t.Fatalf("not every tile came back to the layer its size asks for: %v\n%s", err, mediaState(t, b))
	}
	for _, id := range ids {
		risingFor(t, b, "Tam", id, "video", "framesDecoded")
	}
	climb := time.Since(lifted)
	t.Logf("every tile decoding the layer its size asks for %v after the limit was lifted; load average %s", climb.Round(100*time.Millisecond), loadAverage())
	// 14 – 31 s under -race at load averages of 9 – 12
	// (PERFORMANCE.md); the bound holds on a busy machine, not on one so
	// busy the publishers could not keep their pace.
	switch {
	case climb <= 40*time.Second:
	case starved > 0:
		t.Logf("%d publishers could not keep their pace: the machine is too busy to judge the climb", starved)
	default:
		t.Errorf("every tile decoding only %v after the limit was lifted, want at most 40 s", climb.Round(100*time.Millisecond))
	}
	counted, start = serverCounts(t, r.srv), time.Now()
	measure(t, b, ids, readStats(t, b), 5)
	free := serverCounts(t, r.srv)
	t.Logf("the server, with no limit: %s", countsSince(counted, free, time.Since(start)))
	noGateDrops(t, counted, free)
}

// atTileSize is the JavaScript for whether the browser decodes, of each
// of ids, the clip's layer its tile's size asks for (the layers are 160,
// 320 and 640 pixels wide; a tile the layout does not name asks for the
// highest).
func atTileSize(ids []string) string {
	return fmt.Sprintf(`%s.then(now => {
		const sizes = Object.fromEntries((hearth.layout || []).map(t => [t.participant, t.size]));
		const wide = {small: 160, medium: 320, large: 640};
		return %s.every(id => now[id] && now[id].Video.FrameWidth === (wide[sizes[id]] || 640));
	})`, inboundStats, jsList(ids))
}

// noGateDrops fails the test if the server counted packets held back by
// the gate between two readings of its counts: nothing is muted, and the
// layers a subscriber does not get are not the gate's.
func noGateDrops(t *testing.T, a, b map[string]float64) {
	t.Helper()
	name := fmt.Sprintf(`hearth_sfu_dropped_packets_total{reason=%q}`, sfu.DropGate)
	if n := b[name] - a[name]; n > 0 {
		t.Errorf("%.0f packets counted as held back by the gate, with nothing muted", n)
	}
}

// loadAverage is this machine's load average over the last minute, as
// the figures measured depend on it.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Fields(string(b))[0]
}

// throughRelay fails the test if the browser's media did not cross the
// relay (and so the emulated link).
func throughRelay(t *testing.T, r *netRoom) {
	t.Helper()
	down, up := r.relay.Stats()
	t.Logf("relay: down %+v, up %+v", down, up)
	if down.Packets < 100 || up.Packets < 100 {
		t.Errorf("the relay carried %d packets down and %d up: the media did not cross the emulated link", down.Packets, up.Packets)
	}
}

// TestNetworkThinPublisher: a browser whose uplink is 500 kbit/s still
// reaches the others: its camera's layers fit the link, and a Go client
// keeps receiving its video and sound.
func TestNetworkThinPublisher(t *testing.T) {
	r := behind(t, 0, 500_000, netsim.Impairment{Delay: 25 * time.Millisecond})
	subs, _ := publishers(t, r.srv, "uplink", 1)
	b := r.join(t, "uplink", "Uma")
	id := eval[string](t, b, `hearth.selfId`)
	goReceives(t, subs[0], "the Go client", id, "video")
	goReceives(t, subs[0], "the Go client", id, "audio")
	var out []struct {
		Rid        string
		Width      float64
		Bitrate    float64
		Limitation string
		BytesSent  float64
	}
	expr := `hearth.pc.getStats().then(r => [...r.values()].filter(s => s.type === "outbound-rtp" && s.kind === "video").map(s => ({Rid: s.rid || "", Width: s.frameWidth || 0, Bitrate: s.targetBitrate || 0, Limitation: s.qualityLimitationReason || "", BytesSent: s.bytesSent || 0})))`
	// The browser has sent long enough to have met the link (300 KB of
	// video is 5 s at its whole rate), and what its layers aim for fits.
	full := expr + `.then(ls => ls.reduce((n, l) => n + l.BytesSent, 0) >= 300000 && ls.reduce((n, l) => n + l.Bitrate, 0) <= 500000)`
	if err := b.WaitJS(t.Context(), full, budget.Step); err != nil {
		_ = b.Eval(t.Context(), expr, &out)
		t.Errorf("the camera's layers %+v: never sent 300 KB within 500 kbit/s: %v", out, err)
	}
	if err := b.Eval(t.Context(), expr, &out); err != nil {
		t.Fatal(err)
	}
	throughRelay(t, r)
	t.Logf("camera layers behind 500 kbit/s: %+v", out)
	goReceives(t, subs[0], "the Go client", id, "video")
}

// serverCounts is what the server's metrics say it dropped, by reason,
// and retransmitted, and the NACKs it received.
func serverCounts(t *testing.T, srv *hearthtest.Server) map[string]float64 {
	t.Helper()
	names := []string{`hearth_sfu_retransmitted_packets_total`, `hearth_sfu_nacks_total{direction="received"}`,
		`hearth_sfu_transport_feedback_total`}
	for _, r := range sfu.DropReasons() {
		names = append(names, fmt.Sprintf(`hearth_sfu_dropped_packets_total{reason=%q}`, r))
	}
	v, err := hearthtest.Metrics(t.Context(), srv.URL+"/metrics", names...)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]float64, len(names))
	for i, n := range names {
		out[n] = v[i]
	}
	return out
}

// countsSince is what rose from a to b, a second.
func countsSince(a, b map[string]float64, d time.Duration) string {
	var parts []string
	for n, v := range b {
		parts = append(parts, fmt.Sprintf("%s %.0f/s", n, (v-a[n])/d.Seconds()))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}
