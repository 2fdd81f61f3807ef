// Package load measures a Hearth server under synthetic group sessions, and
// the bare relay it is compared with.
//
// A run starts Rooms×Size synthetic participants (internal/client's clients
// on a shared Bare setup for Hearth, bare UDP sockets for the relay), each
// publishing Opus-like audio at 50 packets/s and optionally VP8-like video,
// and subscribing to everyone in its room. After everyone receives everyone
// and a warmup, it measures a fixed window: what arrived, the loss and
// jitter, the server's CPU and memory, the generator's own CPU, and the
// kernel's UDP drop counters.
package load

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"sync"
	"time"

	"github.com/hearth-rtc/hearth/internal/client"
)

// RunHearth runs the load against a Hearth server.
func RunHearth(ctx context.Context, o Options) (*Result, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	nodes := o.nodes()
	metricsURLs := make([]string, len(nodes))
	for i, nd := range nodes {
		u, err := url.Parse(nd.URL)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("load: bad url %q", nd.URL)
		}
		if !o.AllowRemote {
			if err := CheckLoopback(u.Host); err != nil {
				return nil, err
			}
		}
		scheme := "http"
		if u.Scheme == "wss" {
			scheme = "https"
		}
		metricsURLs[i] = scheme + "://" + u.Host + "/metrics"
	}
	if o.MetricsURL != "" && len(o.Nodes) == 0 {
		metricsURLs[0] = o.MetricsURL
	}
	bare, err := client.NewBare(client.BareOptions{AllowRemote: o.AllowRemote, Light: !o.Decrypt, Simulcast: o.Media.Simulcast,
		TransportCC: !o.NoTransportCC})
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	r := &runner{o: o, target: "hearth"}
	r.dial = func(ctx context.Context, roomIdx, member, node int, phase time.Duration) (participant, error) {
		c, err := dialHearth(ctx, bare, nodes[node].URL, r.roomName(roomIdx),
			fmt.Sprintf("load %d.%d", roomIdx, member), o.Media, &r.pace, phase, r.origin)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	r.serverCount = func(ctx context.Context) (uint64, uint64, error) {
		v, err := scrapeAll(ctx, metricsURLs, "hearth_sfu_forwarded_packets_total", "hearth_sfu_forwarded_bytes_total")
		if err != nil {
			return 0, 0, err
		}
		return uint64(v[0]), uint64(v[1]), nil
	}
	r.feedbackCount = func(ctx context.Context) (uint64, error) {
		v, err := scrapeAll(ctx, metricsURLs, "hearth_sfu_transport_feedback_total")
		if err != nil {
			return 0, err
		}
		return uint64(v[0]), nil
	}
	r.gcCPU = func(ctx context.Context) (float64, error) {
		v, err := scrapeAll(ctx, metricsURLs, "go_cpu_classes_gc_total_cpu_seconds_total")
		if err != nil {
			return 0, err
		}
		return v[0], nil
	}
	r.scrape = func(ctx context.Context, names ...string) ([]float64, error) {
		return scrapeAll(ctx, metricsURLs, names...)
	}
	if len(o.Nodes) > 1 && o.RedisURL != "" {
		r.owners = func(ctx context.Context, rooms int) ([]string, error) {
			return roomOwners(ctx, o.RedisURL, r.roomName, rooms)
		}
	}
	return r.run(ctx)
}

// RunRelay runs the same load against the bare relay.
func RunRelay(ctx context.Context, o Options) (*Result, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	addr, err := netip.ParseAddrPort(o.RelayAddr)
	if err != nil {
		return nil, fmt.Errorf("load: relay address %q: %w", o.RelayAddr, err)
	}
	if !o.AllowRemote {
		if err := CheckLoopback(addr.Addr().String()); err != nil {
			return nil, err
		}
	}
	o.ServerUDPPort = int(addr.Port())
	r := &runner{o: o, target: "relay"}
	if o.RelayPlain {
		r.target = "relay-plain"
	}
	if o.RelayGCC {
		r.target = "relay-gcc"
	}
	r.dial = func(_ context.Context, roomIdx, member, _ int, phase time.Duration) (participant, error) {
		c, err := dialRelay(addr, o.RelayPlain, uint16(roomIdx), uint16(member), o.Media, phase, r.origin)
		if err != nil {
			return nil, err
		}
		if o.Media.Simulcast {
			// What the server would tell a publisher: the layers nobody
			// receives stay paused.
			for i, on := range activeLayers(o.Layout, member, o.Size) {
				c.src.layers[i].paused.Store(!on)
			}
		}
		r.pace.add(c.src)
		return c, nil
	}
	r.serverCount = func(context.Context) (uint64, uint64, error) {
		_, fwd, err := relayStats(addr)
		return fwd, 0, err
	}
	return r.run(ctx)
}

type runner struct {
	o      Options
	target string
	origin time.Time
	pace   pacer
	// nodes are the servers (one but for a cluster); dial joins member
	// of room through nodes[node].
	nodes []Node
	dial  func(ctx context.Context, room, member, node int, phase time.Duration) (participant, error)
	// scrape, when set, sums counters over the servers' metrics.
	scrape func(ctx context.Context, names ...string) ([]float64, error)
	// owners, for a cluster, reads the id of each room's owner.
	owners func(ctx context.Context, rooms int) ([]string, error)
	// serverCount reads the server's forwarded packets and bytes (0 if
	// it does not count them).
	serverCount func(ctx context.Context) (pkts, bytes uint64, err error)
	// feedbackCount reads the transport-wide feedback the server has read
	// (nil for the relay).
	feedbackCount func(ctx context.Context) (uint64, error)
	// gcCPU, when set, reads the CPU seconds the server's collector used.
	gcCPU func(ctx context.Context) (float64, error)
}

type member struct {
	room, idx int
	// at is when the member joins, from the start of its phase; node,
	// which of the runner's nodes it joins through.
	at   time.Duration
	node int
	p    participant
	err  error
}

// snapshot is everything measured at one edge of the window.
type snapshot struct {
	at         time.Time
	streams    []map[string]rxSnapshot // by member index
	sentA      []uint64
	sentV      []uint64
	sentL      [][3]uint64 // by simulcast layer
	skipped    uint64
	serverCPU  time.Duration   // over every node
	nodeCPU    []time.Duration // each node's
	serverRSS  uint64
	serverFwd  uint64
	serverFwdB uint64
	feedback   uint64
	feedbackOK bool
	serverOK   bool
	serverAt   time.Time // when the server counted serverFwd (mid-request)
	selfCPU    time.Duration
	machBusy   time.Duration
	machTotal  time.Duration
	udp        UDPCounters
	udpOK      bool
	sockDrops  uint64
	sockOK     bool
	serverErrs []error
	gcCPU      float64 // the collector's CPU seconds, when gcOK
	gcOK       bool
}

func (r *runner) run(ctx context.Context) (*Result, error) {
	o := r.o
	log := o.Logger.With("target", r.target)
	r.origin = time.Now()
	pctx, stopPacer := context.WithCancel(ctx)
	pacerDone := make(chan struct{})
	go func() {
		defer close(pacerDone)
		r.pace.run(pctx)
	}()
	defer func() {
		stopPacer()
		<-pacerDone
	}()

	r.nodes = o.nodes()
	baseCPU, _, baseRSS, _ := r.serverProc()
	baseGC, baseGCErr := r.readGC(ctx)

	n := o.Rooms * o.Size
	members := make([]*member, n)
	defer func() {
		closeAll(members)
	}()
	log.Info("joining", "participants", n, "rooms", o.Rooms, "size", o.Size, "rate", o.JoinRate)
	interval := time.Duration(float64(time.Second) / o.JoinRate)
	// Rooms fill in turn (one participant per room per round), as sessions
	// starting at the same hour do.
	for i := range n {
		members[i] = &member{room: i % o.Rooms, idx: i / o.Rooms, at: time.Duration(i) * interval}
	}
	if err := r.join(ctx, members); err != nil {
		return nil, err
	}
	failed := countFailed(members, log)
	if failed == n && o.Wave == 0 {
		return nil, fmt.Errorf("load: no participant could join: %w", members[0].err)
	}

	kinds := 1
	if o.Media.Video {
		kinds = 2
	}
	settled := r.waitSettled(ctx, members, kinds)
	var joinCPU time.Duration
	if c, _, _, ok := r.serverProc(); ok {
		joinCPU = c - baseCPU
	}
	var joinGC float64
	if gc, err := r.readGC(ctx); err == nil && baseGCErr == nil {
		joinGC = gc - baseGC
	}
	log.Info("joined", "failed", failed, "settled", settled, "after", time.Since(r.origin).Round(time.Millisecond))
	if o.Media.Simulcast {
		if err := sendLayouts(members, o.Layout); err != nil {
			log.Warn("layout", "err", err)
		}
	}
	if err := sleep(ctx, o.Warmup); err != nil {
		return nil, err
	}
	var wave *WaveResult
	if o.Wave > 0 {
		var err error
		var waveMembers []*member
		wave, waveMembers, err = r.wave(ctx, members, kinds)
		members = append(members, waveMembers...)
		if err != nil {
			return nil, err
		}
		failed += wave.Failed
		settled = wave.Settled
		if o.Media.Simulcast {
			if err := sendLayouts(waveMembers, o.Layout); err != nil {
				log.Warn("layout", "err", err)
			}
		}
		if err := sleep(ctx, o.Warmup); err != nil {
			return nil, err
		}
	}

	a := r.snap(ctx, members)
	log.Info("measuring", "window", o.Duration)
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(o.Duration):
	}
	b := r.snap(ctx, members)
	res := r.result(members, a, b, baseRSS, failed, kinds)
	res.Settled = settled
	if wave != nil {
		wave.finish(res)
		res.Wave = wave
	}
	r.clusterResults(ctx, res, members, a, b, wave)
	res.ServerJoinCPUSeconds = joinCPU.Seconds()
	res.ServerJoinGCCPUSeconds = joinGC
	return res, nil
}

// sendLayouts has every participant tell the server how it shows the
// others in its room; the warmup leaves time for the layers to switch.
func sendLayouts(members []*member, layout string) error {
	rooms := map[int]map[int]string{}
	for _, m := range members {
		if m.p == nil {
			continue
		}
		if rooms[m.room] == nil {
			rooms[m.room] = map[int]string{}
		}
		rooms[m.room][m.idx] = m.p.key()
	}
	var errs []error
	for _, m := range members {
		if m.p != nil {
			errs = append(errs, m.p.sendLayout(layout, m.idx, rooms[m.room]))
		}
	}
	return errors.Join(errs...)
}

// readGC reads the server's collector CPU, if the target reports it.
func (r *runner) readGC(ctx context.Context) (float64, error) {
	if r.gcCPU == nil {
		return 0, errors.New("load: no collector figures")
	}
	return r.gcCPU(ctx)
}

// waitSettled waits until every joined participant receives every other
// one's tracks, or Settle passes.
func (r *runner) waitSettled(ctx context.Context, members []*member, kinds int) bool {
	deadline := time.Now().Add(r.o.Settle)
	size := make(map[int]int)
	for _, m := range members {
		if m.p != nil {
			size[m.room]++
		}
	}
	for {
		done := true
		for _, m := range members {
			if m.p == nil {
				continue
			}
			started := 0
			for _, s := range m.p.streams() {
				if s.snapshot().started {
					started++
				}
			}
			if started < (size[m.room]-1)*kinds {
				done = false
				break
			}
		}
		if done {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// snap reads everything local first, all within a millisecond or so of
// s.at, and the server's own counter last: a scrape of a loaded server can
// take a good part of a second, so it carries its own timestamp.
func (r *runner) snap(ctx context.Context, members []*member) snapshot {
	s := snapshot{at: time.Now(), streams: make([]map[string]rxSnapshot, len(members)),
		sentA: make([]uint64, len(members)), sentV: make([]uint64, len(members)), sentL: make([][3]uint64, len(members))}
	s.serverCPU, s.nodeCPU, s.serverRSS, _ = r.serverProc()
	s.selfCPU, _ = procCPU(0)
	s.machBusy, s.machTotal, _ = machineCPU()
	var err error
	s.udp, err = udpCounters()
	s.udpOK = err == nil
	s.sockDrops, s.sockOK = r.socketDrops()
	for i, m := range members {
		if m.p == nil {
			continue
		}
		src := m.p.source()
		s.sentA[i], s.sentV[i] = src.sentA.Load(), src.sentV.Load()
		for l := range src.layers {
			s.sentL[i][l] = src.layers[l].sent.Load()
		}
		s.skipped += src.skipped.Load()
		ss := map[string]rxSnapshot{}
		for k, st := range m.p.streams() {
			ss[k] = st.snapshot()
		}
		s.streams[i] = ss
	}
	s.gcCPU, err = r.readGC(ctx)
	s.gcOK = err == nil
	start := time.Now()
	if fwd, fwdB, err := r.serverCount(ctx); err == nil {
		s.serverFwd, s.serverFwdB, s.serverOK = fwd, fwdB, true
		s.serverAt = start.Add(time.Since(start) / 2)
	} else {
		s.serverErrs = append(s.serverErrs, err)
	}
	if r.feedbackCount != nil {
		s.feedback, err = r.feedbackCount(ctx)
		s.feedbackOK = err == nil
	}
	return s
}

func closeAll(members []*member) {
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for _, m := range members {
		if m == nil || m.p == nil {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			m.p.close()
		}()
	}
	wg.Wait()
}

func (r *runner) result(members []*member, a, b snapshot, baseRSS uint64, failed, kinds int) *Result {
	o := r.o
	win := b.at.Sub(a.at)
	res := &Result{
		Target: r.target, Rooms: o.Rooms, RoomSize: o.Size, Participants: len(members) - failed,
		Failed: failed, Video: o.Media.Video, WindowSeconds: win.Seconds(),
	}
	if o.Media.Video {
		res.VideoBitrate, res.FPS = o.Media.VideoBitrate, o.Media.FPS
	}
	if o.Media.Simulcast {
		res.VideoBitrate, res.Layout = 0, o.Layout
	}
	byRoom := map[int][]int{}
	for i, m := range members {
		if m.p != nil {
			byRoom[m.room] = append(byRoom[m.room], i)
		}
	}
	keys := make([]string, len(members))
	for i, m := range members {
		if m.p != nil {
			keys[i] = m.p.key()
		}
	}
	kindNames := []string{"audio", "video"}[:kinds]

	var expected, received, bytes, sent, due uint64
	var jitA, jitV []time.Duration
	for i, m := range members {
		if m.p == nil {
			continue
		}
		sent += (b.sentA[i] - a.sentA[i]) + (b.sentV[i] - a.sentV[i])
		for _, j := range byRoom[m.room] {
			if j == i {
				continue
			}
			for ki, kind := range kindNames {
				res.StreamsExpected++
				k := keys[j] + "/" + kind
				sb, okB := b.streams[i][k]
				sa, okA := a.streams[i][k]
				pubSent := b.sentA[j] - a.sentA[j]
				if ki == 1 {
					pubSent = b.sentV[j] - a.sentV[j]
					if o.Media.Simulcast {
						l := layoutLayer(o.Layout, m.idx, members[j].idx)
						pubSent = b.sentL[j][l] - a.sentL[j][l]
					}
				}
				due += pubSent
				switch {
				case !okB || !sb.started:
					// Never arrived: everything the publisher sent is lost.
					expected += pubSent
					continue
				case !okA || !sa.started:
					// Started during the window: count what arrived, and
					// what the publisher sent is the best guess of what
					// was due.
					res.Streams++
					got := sb.packets - sa.packets
					received += got
					bytes += sb.bytes - sa.bytes
					expected += max(got, pubSent)
				default:
					res.Streams++
					e, g := windowLoss(sa, sb)
					expected += e
					received += g
					bytes += sb.bytes - sa.bytes
				}
				if kind == "audio" {
					jitA = append(jitA, time.Duration(sb.jitterSec*float64(time.Second)))
				} else {
					jitV = append(jitV, time.Duration(sb.jitterSec*float64(time.Second)))
				}
			}
		}
	}
	secs := win.Seconds()
	res.SentPerSec = float64(sent) / secs
	for _, m := range members {
		if m.p != nil {
			res.NominalSentPerSec += nominalRate(o.Media, activeLayers(o.Layout, m.idx, o.Size))
		}
	}
	res.ReceivedPerSec = float64(received) / secs
	res.DuePerSec = float64(due) / secs
	res.ReceivedMbps = float64(bytes) * 8 / secs / 1e6
	if expected > 0 {
		res.Loss = float64(expected-min(received, expected)) / float64(expected)
	}
	res.JitterAudio = percentiles(jitA)
	res.JitterVideo = percentiles(jitV)
	res.GeneratorSkipped = b.skipped - a.skipped

	res.JoinAnswer, res.JoinICE, res.JoinConnected, res.JoinFirstMedia = joinLatencies(members)

	fwdRate := res.ReceivedPerSec
	if b.serverOK && a.serverOK {
		dt := b.serverAt.Sub(a.serverAt).Seconds()
		res.ServerForwardedPerSec = float64(b.serverFwd-a.serverFwd) / dt
		res.ServerForwardedMbps = float64(b.serverFwdB-a.serverFwdB) * 8 / dt / 1e6
		fwdRate = res.ServerForwardedPerSec
		if a.feedbackOK && b.feedbackOK {
			res.ServerFeedbackPerSec = float64(b.feedback-a.feedback) / dt
		}
	}
	if b.serverCPU > 0 {
		cpu := b.serverCPU - a.serverCPU
		res.ServerCPUCores = cpu.Seconds() / secs
		if fwdRate > 0 {
			res.ServerCPUPerPacketUs = res.ServerCPUCores / fwdRate * 1e6
		}
		res.ServerRSSBytes = b.serverRSS
		if res.Participants > 0 && b.serverRSS > baseRSS {
			res.ServerRSSPerParticipant = (b.serverRSS - baseRSS) / uint64(res.Participants)
		}
	}
	if a.gcOK && b.gcOK {
		res.ServerGCCPUCores = (b.gcCPU - a.gcCPU) / secs
	}
	res.ToolCPUCores = (b.selfCPU - a.selfCPU).Seconds() / secs
	if t := b.machTotal - a.machTotal; t > 0 {
		res.MachineBusyCores = (b.machBusy - a.machBusy).Seconds() / secs
	}
	if a.udpOK && b.udpOK {
		d := b.udp.sub(a.udp)
		res.KernelUDP = &d
	}
	if a.sockOK && b.sockOK {
		d := b.sockDrops - a.sockDrops
		res.ServerSocketDrops = &d
	}
	return res
}
