package load

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// Synthetic media shapes.
const (
	audioInterval = 20 * time.Millisecond // 50 packets/s, as Opus sends
	// audioPayload is the size of a 20 ms Opus frame at about 32 kbit/s.
	audioPayload = 80
	audioClock   = 48000
	videoClock   = 90000
	// maxVideoPayload keeps packets well under the path MTU after SRTP.
	maxVideoPayload = 1100
	// keyframeFactor is how much larger a keyframe is than the average
	// frame, roughly what VP8 encoders produce at conference bitrates.
	keyframeFactor = 4
	// pacerTick is the generator's resolution. Packets leave within a tick
	// of their due time, which shows in the measured jitter (under 1 ms).
	pacerTick = 2 * time.Millisecond
	// maxLag is how far behind the generator may fall before it skips
	// instead of bursting to catch up.
	maxLag = 200 * time.Millisecond
	// quietInterval is how often a quiet source sends (pacer.hold).
	quietInterval = time.Second
)

// MediaOptions shape what each synthetic participant sends.
type MediaOptions struct {
	// Video adds a VP8-like video track.
	Video bool
	// VideoBitrate in bits/s and FPS frames per second.
	VideoBitrate int
	FPS          int
	// KeyframeInterval between periodic keyframes; keyframes also follow
	// keyframe requests.
	KeyframeInterval time.Duration
	// Simulcast sends the video as three layers at simulcastBitrates
	// (VideoBitrate is then not used).
	Simulcast bool
}

// writer sends one RTP packet of a kind.
type writer interface {
	writeAudio(h *rtp.Header, payload []byte)
	writeVideo(h *rtp.Header, payload []byte)
	// writeVideoLayer sends one packet of simulcast layer i.
	writeVideoLayer(i int, h *rtp.Header, payload []byte)
}

// videoLayer is one simulcast layer's generator state.
type videoLayer struct {
	seq           uint16
	ssrc          uint32
	frameBytes    int
	keyframeBytes int
	wantKeyframe  atomic.Bool
	// paused: the server said nobody receives the layer.
	paused atomic.Bool
	sent   atomic.Uint64
}

// mediaSource is one participant's generator state; only the pacer goroutine
// touches it, except its atomics (keyframe requests, paused layers, counts).
type mediaSource struct {
	w    writer
	opts MediaOptions

	aSeq, vSeq     uint16
	aTS, vTS       uint32
	nextAudio      time.Time
	nextFrame      time.Time
	lastKey        time.Time
	wantKeyframe   atomic.Bool
	audioBuf       []byte
	videoBuf       []byte
	frameBytes     int // delta frame size
	keyframeBytes  int
	frameInterval  time.Duration
	ssrcA, ssrcV   uint32
	sentA, sentV   atomic.Uint64
	skipped        atomic.Uint64
	videoTSPerTick uint32
	// layers are the simulcast layers, with MediaOptions.Simulcast.
	layers [3]videoLayer
	// quiet: one packet (audio) and one frame (video) per quietInterval;
	// wasQuiet, for the pacer, that it was so at the last tick.
	quiet    atomic.Bool
	wasQuiet bool
}

// frameSizes gives a stream's delta frame and keyframe sizes for its
// bitrate, spreading the keyframes' extra size over the interval so that
// the average rate is what was asked for.
func frameSizes(bitrate, fps int, keyInterval, frameInterval time.Duration) (frame, key int) {
	avg := bitrate / 8 / fps
	perKey := max(int(keyInterval/frameInterval), 1)
	frame = max(avg*perKey/(perKey-1+keyframeFactor), 16)
	return frame, frame * keyframeFactor
}

func newMediaSource(w writer, opts MediaOptions, phase time.Duration, ssrcA, ssrcV uint32) *mediaSource {
	now := time.Now()
	m := &mediaSource{
		w: w, opts: opts,
		nextAudio: now.Add(phase),
		audioBuf:  make([]byte, audioPayload),
		ssrcA:     ssrcA, ssrcV: ssrcV,
	}
	if opts.Video {
		fps := max(opts.FPS, 1)
		m.frameInterval = time.Second / time.Duration(fps)
		m.videoTSPerTick = uint32(videoClock / fps)
		m.frameBytes, m.keyframeBytes = frameSizes(opts.VideoBitrate, fps, opts.KeyframeInterval, m.frameInterval)
		for i := range m.layers {
			l := &m.layers[i]
			l.frameBytes, l.keyframeBytes = frameSizes(simulcastBitrates[i], fps, opts.KeyframeInterval, m.frameInterval)
			l.ssrc = layerSSRC(ssrcV, i)
			l.wantKeyframe.Store(true)
		}
		m.videoBuf = make([]byte, maxVideoPayload)
		m.nextFrame = now.Add(phase)
		m.wantKeyframe.Store(true)
	}
	return m
}

// due sends whatever is due by now.
func (m *mediaSource) due(now time.Time) {
	if m.quiet.Load() {
		m.dueQuiet(now)
		return
	}
	if m.wasQuiet {
		m.wasQuiet = false
		m.nextAudio, m.nextFrame = now, now
	}
	if now.Sub(m.nextAudio) > maxLag {
		m.skipped.Add(uint64(now.Sub(m.nextAudio) / audioInterval))
		m.nextAudio = now
	}
	for !m.nextAudio.After(now) {
		m.audio()
		m.nextAudio = m.nextAudio.Add(audioInterval)
	}
	if !m.opts.Video {
		return
	}
	if now.Sub(m.nextFrame) > maxLag {
		m.skipped.Add(uint64(now.Sub(m.nextFrame) / m.frameInterval))
		m.nextFrame = now
	}
	for !m.nextFrame.After(now) {
		m.frame(now)
		m.nextFrame = m.nextFrame.Add(m.frameInterval)
	}
}

// dueQuiet sends what is due of a quiet source: one audio packet and one
// video frame every quietInterval, none skipped.
func (m *mediaSource) dueQuiet(now time.Time) {
	m.wasQuiet = true
	if !m.nextAudio.After(now) {
		m.audio()
		m.nextAudio = now.Add(quietInterval)
	}
	if m.opts.Video && !m.nextFrame.After(now) {
		m.frame(now)
		m.nextFrame = now.Add(quietInterval)
	}
}

// audio sends the next audio packet.
func (m *mediaSource) audio() {
	m.aSeq++
	m.aTS += audioClock / 50
	m.audioBuf[0] = byte(m.aSeq)
	h := rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: m.aSeq, Timestamp: m.aTS, SSRC: m.ssrcA}
	m.w.writeAudio(&h, m.audioBuf)
	m.sentA.Add(1)
}

// layerSSRC is the SSRC the relay's clients send simulcast layer i on:
// bits 29 and 30 of the video's SSRC name the layer (the room index stays
// under 1<<13, checked by Options).
func layerSSRC(ssrcV uint32, i int) uint32 { return ssrcV | uint32(i)<<29 }

// ssrcLayer is the layer a relay client's video SSRC names.
func ssrcLayer(ssrc uint32) int { return int(ssrc>>29) & 3 }

// frame sends one video frame as a burst of packets, as encoders do; with
// simulcast one on each layer that is not paused.
func (m *mediaSource) frame(now time.Time) {
	periodic := now.Sub(m.lastKey) >= m.opts.KeyframeInterval
	if periodic {
		m.lastKey = now
	}
	m.vTS += m.videoTSPerTick
	if !m.opts.Simulcast {
		key := m.wantKeyframe.Swap(false) || periodic
		size := m.frameBytes
		if key {
			size = m.keyframeBytes
			m.lastKey = now
		}
		m.sendFrame(-1, size, key, m.ssrcV, &m.vSeq)
		return
	}
	for i := range m.layers {
		l := &m.layers[i]
		if l.paused.Load() {
			continue
		}
		key := l.wantKeyframe.Swap(false) || periodic
		size := l.frameBytes
		if key {
			size = l.keyframeBytes
		}
		l.sent.Add(uint64(m.sendFrame(i, size, key, l.ssrc, &l.seq)))
	}
}

// sendFrame sends size bytes of one frame on layer (-1 without simulcast)
// and reports how many packets it took.
func (m *mediaSource) sendFrame(layer, size int, key bool, ssrc uint32, seq *uint16) int {
	pkts := 0
	first := true
	for size > 0 {
		n := min(size, maxVideoPayload)
		size -= n
		p := m.videoBuf[:n]
		// VP8 payload descriptor: S marks a frame's first packet; then the
		// frame tag, whose P bit is 0 on keyframes.
		if first {
			p[0] = 0x10
			p[1] = 0x01
			if key {
				p[1] = 0x00
			}
		} else {
			p[0], p[1] = 0x00, 0x01
		}
		first = false
		*seq++
		h := rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: *seq, Timestamp: m.vTS,
			Marker: size == 0, SSRC: ssrc}
		if layer < 0 {
			m.w.writeVideo(&h, p)
		} else {
			m.w.writeVideoLayer(layer, &h, p)
		}
		m.sentV.Add(1)
		pkts++
	}
	return pkts
}

// pacer drives every source from one goroutine: one timer for hundreds of
// participants costs far less than one each, and each source keeps its own
// phase so packets do not leave in lockstep.
type pacer struct {
	mu   sync.Mutex
	srcs []*mediaSource
	// holding: sources added from now on are quiet (held) until release.
	holding bool
	held    []*mediaSource
}

func (p *pacer) add(m *mediaSource) {
	p.mu.Lock()
	if p.holding {
		m.quiet.Store(true)
		p.held = append(p.held, m)
	}
	p.srcs = append(p.srcs, m)
	p.mu.Unlock()
}

// hold makes the sources added from now on quiet, until release.
func (p *pacer) hold() {
	p.mu.Lock()
	p.holding = true
	p.mu.Unlock()
}

// release lets the held sources send at their full rate from the next
// tick, and stops holding new ones.
func (p *pacer) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.held {
		m.quiet.Store(false)
	}
	p.holding, p.held = false, nil
}

func (p *pacer) remove(m *mediaSource) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, x := range p.srcs {
		if x == m {
			p.srcs = append(p.srcs[:i], p.srcs[i+1:]...)
			return
		}
	}
}

func (p *pacer) run(ctx context.Context) {
	t := time.NewTicker(pacerTick)
	defer t.Stop()
	var srcs []*mediaSource
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p.mu.Lock()
		srcs = append(srcs[:0], p.srcs...)
		p.mu.Unlock()
		now := time.Now()
		for _, s := range srcs {
			s.due(now)
		}
	}
}

// nominalRate is the packets per second one participant should send: what
// the generator sends when it keeps up. With simulcast, active says which
// layers it sends.
func nominalRate(opts MediaOptions, active [3]bool) float64 {
	r := float64(time.Second / audioInterval)
	if !opts.Video {
		return r
	}
	m := newMediaSource(nil, opts, 0, 0, 0)
	perKey := max(int(opts.KeyframeInterval/m.frameInterval), 1)
	pkts := func(size int) int { return (size + maxVideoPayload - 1) / maxVideoPayload }
	rate := func(frame, key int) float64 {
		perInterval := (perKey-1)*pkts(frame) + pkts(key)
		return float64(perInterval) / (float64(perKey) * m.frameInterval.Seconds())
	}
	if !opts.Simulcast {
		return r + rate(m.frameBytes, m.keyframeBytes)
	}
	for i := range m.layers {
		if active[i] {
			r += rate(m.layers[i].frameBytes, m.layers[i].keyframeBytes)
		}
	}
	return r
}
