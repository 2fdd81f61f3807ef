// Package clip publishes real media through a Go client: two seconds of VP8
// video (a moving test pattern, 320x180 at 15 frames a second, a keyframe
// every second) and of Opus sound (a 440 Hz tone, 20 ms packets), looped,
// that a browser decodes and plays. The built-in generator of
// internal/client sends packets of the right shape that no decoder
// accepts; a test that looks at what a browser decodes uses a Player.
//
//	p, err := clip.NewPlayer()
//	c, err := client.Dial(ctx, nil, client.Options{..., Audio: true, Video: true,
//		ExternalMedia: true, OnKeyframeRequest: p.Keyframe})
//	p.Play(c)
//	defer p.Stop()
//
// The files were made with FFmpeg (libvpx, libopus):
//
//	ffmpeg -f lavfi -i testsrc2=size=320x180:rate=15:duration=2 -c:v libvpx -b:v 150k \
//		-g 15 -keyint_min 15 -auto-alt-ref 0 -lag-in-frames 0 -cpu-used 4 face.ivf
//	ffmpeg -f lavfi -i sine=frequency=440:sample_rate=48000:duration=2 -af volume=0.3 \
//		-c:a libopus -b:a 32k -ac 1 -frame_duration 20 -application audio \
//		-page_duration 20000 voice.ogg
//
// and the other two layers of a simulcast Player (NewSimulcastPlayer,
// LayerFiles) the same way as face.ivf, with
// testsrc2=size=160x90:rate=10, -b:v 24k -g 10 -keyint_min 10 (face-q.ivf)
// and testsrc2=size=640x360:rate=15, -b:v 400k (face-f.ivf).
//
// page_duration puts each Opus packet in an Ogg page of its own, which is
// how Load reads them.
package clip

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

//go:embed face.ivf face-q.ivf face-f.ivf voice.ogg
var files embed.FS

// Clip is the media a Player sends: VP8 frames, the first a keyframe, and
// Opus packets of 20 ms each.
type Clip struct {
	Video         [][]byte
	FrameDuration time.Duration
	FrameTicks    uint32 // FrameDuration in the 90 kHz RTP clock
	Audio         [][]byte
}

// Media clocks and the size of a video packet's payload.
const (
	videoClock     = 90000
	audioClock     = 48000
	audioPacket    = 20 * time.Millisecond
	maxVideoLength = 1100
)

// Load reads the embedded clip.
func Load() (*Clip, error) {
	var c Clip
	var err error
	if c.Video, c.FrameDuration, c.FrameTicks, err = loadVideo("face.ivf"); err != nil {
		return nil, err
	}
	if c.Audio, err = loadAudio(); err != nil {
		return nil, err
	}
	return &c, nil
}

// LayerFiles are the clip's video as three simulcast layers, lowest
// first, sized and paced like the browser client's camera layers
// (web/static/layers.js): 160x90 at 10 frames a second (about 40 kbit/s),
// the clip's own 320x180 at 15 (150 kbit/s) and 640x360 at 15 (400
// kbit/s), each with a keyframe a second.
var LayerFiles = [3]string{"face-q.ivf", "face.ivf", "face-f.ivf"}

// LoadLayers reads the embedded clip with its video as the three layers
// of LayerFiles: each Clip has one layer's video, and the same audio.
func LoadLayers() ([]*Clip, error) {
	audio, err := loadAudio()
	if err != nil {
		return nil, err
	}
	out := make([]*Clip, len(LayerFiles))
	for i, name := range LayerFiles {
		c := &Clip{Audio: audio}
		if c.Video, c.FrameDuration, c.FrameTicks, err = loadVideo(name); err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

// loadVideo reads one embedded IVF file of VP8 frames.
func loadVideo(name string) (frames [][]byte, frame time.Duration, ticks uint32, err error) {
	iv, err := files.ReadFile(name)
	if err != nil {
		return nil, 0, 0, err
	}
	vr, vh, err := ivfreader.NewWith(bytes.NewReader(iv))
	if err != nil {
		return nil, 0, 0, fmt.Errorf("clip: %s: %w", name, err)
	}
	if vh.TimebaseDenominator == 0 || vh.TimebaseNumerator == 0 {
		return nil, 0, 0, fmt.Errorf("clip: %s: no frame rate", name)
	}
	frame = time.Second * time.Duration(vh.TimebaseNumerator) / time.Duration(vh.TimebaseDenominator)
	ticks = uint32(uint64(videoClock) * uint64(vh.TimebaseNumerator) / uint64(vh.TimebaseDenominator))
	for {
		f, _, err := vr.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, 0, 0, fmt.Errorf("clip: %s frame %d: %w", name, len(frames), err)
		}
		frames = append(frames, f)
	}
	if len(frames) == 0 || !Keyframe(frames[0]) {
		return nil, 0, 0, fmt.Errorf("clip: %s does not start with a keyframe", name)
	}
	return frames, frame, ticks, nil
}

// loadAudio reads the embedded Opus packets.
func loadAudio() ([][]byte, error) {
	var audio [][]byte
	og, err := files.ReadFile("voice.ogg")
	if err != nil {
		return nil, err
	}
	ar, _, err := oggreader.NewWith(bytes.NewReader(og))
	if err != nil {
		return nil, fmt.Errorf("clip: audio: %w", err)
	}
	var granule uint64
	short := false // the last page may hold fewer samples: the end is trimmed
	for {
		page, h, err := ar.ParseNextPage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("clip: audio page %d: %w", len(audio), err)
		}
		if t, ok := h.HeaderType(page); ok && t == oggreader.HeaderOpusTags {
			continue
		}
		// One 20 ms packet per page (see page_duration above).
		step, want := h.GranulePosition-granule, audioClock*uint64(audioPacket)/uint64(time.Second)
		if short || step > want {
			return nil, fmt.Errorf("clip: audio page %d holds %d samples, want one 20 ms packet", len(audio), step)
		}
		short = step < want
		granule = h.GranulePosition
		audio = append(audio, page)
	}
	if len(audio) == 0 {
		return nil, errors.New("clip: no audio")
	}
	return audio, nil
}

// Keyframe reports whether a VP8 frame is a keyframe (RFC 6386, 9.1: the
// frame tag's lowest bit is 0).
func Keyframe(frame []byte) bool { return len(frame) > 0 && frame[0]&1 == 0 }

// Player sends a Clip, looped, as a client's audio and video, in real time;
// a simulcast Player (NewSimulcastPlayer) sends the video as the three
// layers of LoadLayers.
//
// Lifecycle: NewPlayer or NewSimulcastPlayer → Play or PlayLayers → Stop,
// which waits for its goroutine. A Player plays once.
type Player struct {
	layers []*Clip // the video's layers, lowest first; the first's audio
	key    [3]atomic.Bool
	paused [3]atomic.Bool

	stop     chan struct{}
	stopOnce sync.Once
	mu       sync.Mutex
	played   bool
	wg       sync.WaitGroup
}

// Sender is what a Player sends through: internal/client's Client with
// ExternalMedia set. The methods are called from one goroutine.
type Sender interface {
	WriteAudio(h *rtp.Header, payload []byte) error
	WriteVideo(h *rtp.Header, payload []byte) error
}

// LayerSender is what a simulcast Player sends through: a Client with
// ExternalMedia and Simulcast set.
type LayerSender interface {
	Sender
	WriteVideoLayer(i int, h *rtp.Header, payload []byte) error
}

// NewPlayer loads the clip into a Player that has not started.
func NewPlayer() (*Player, error) {
	c, err := Load()
	if err != nil {
		return nil, err
	}
	return &Player{layers: []*Clip{c}, stop: make(chan struct{})}, nil
}

// NewSimulcastPlayer loads the clip, its video as three layers, into a
// Player that has not started.
func NewSimulcastPlayer() (*Player, error) {
	cs, err := LoadLayers()
	if err != nil {
		return nil, err
	}
	return &Player{layers: cs, stop: make(chan struct{})}, nil
}

// Keyframe makes the next video frame of every layer its first, a
// keyframe: the answer to a keyframe request (Options.OnKeyframeRequest).
// It may be called from any goroutine, before or during Play.
func (p *Player) Keyframe() {
	for i := range p.layers {
		p.key[i].Store(true)
	}
}

// KeyframeLayer does what Keyframe does for layer i only
// (Options.OnLayerKeyframeRequest); other layers are ignored.
func (p *Player) KeyframeLayer(i int) {
	if i >= 0 && i < len(p.layers) {
		p.key[i].Store(true)
	}
}

// Pause stops sending layer i (paused) or sends it again, starting with
// a keyframe, as a browser does with the layers the server says nobody
// receives (video_layers). Its timestamps go on while it is paused.
func (p *Player) Pause(i int, paused bool) {
	if i >= 0 && i < len(p.layers) && p.paused[i].Swap(paused) && !paused {
		p.key[i].Store(true)
	}
}

// Play starts sending to s until Stop; later calls do nothing. A write
// that fails (the client is not connected yet, or closed) is skipped; the
// clip plays on. Play and Stop are not called at the same time. A
// simulcast Player sends only its audio through Play: its layers need
// PlayLayers.
func (p *Player) Play(s Sender) {
	p.start(s, func(i int, h *rtp.Header, b []byte) error {
		if len(p.layers) > 1 {
			return nil
		}
		return s.WriteVideo(h, b)
	})
}

// PlayLayers is Play for a simulcast Player, each layer sent with s's
// WriteVideoLayer.
func (p *Player) PlayLayers(s LayerSender) {
	p.start(s, s.WriteVideoLayer)
}

func (p *Player) start(s Sender, video func(i int, h *rtp.Header, b []byte) error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.played {
		return
	}
	p.played = true
	p.wg.Go(func() { p.run(s, video) })
}

// Stop ends Play and waits for it. Calling it twice, or without Play, is
// fine.
func (p *Player) Stop() {
	p.stopOnce.Do(func() { close(p.stop) })
	p.wg.Wait()
}

// videoLayer is what run keeps of one layer it sends.
type videoLayer struct {
	clip  *Clip
	vp    codecs.VP8Payloader
	h     rtp.Header
	frame int // the next frame of the clip
	next  time.Time
}

// run sends each packet when it is due. The RTP timestamps follow the
// packet counts, so the media clock stays true when the machine is slow;
// after a stall of more than lag the schedule starts again from now rather
// than sending a burst.
func (p *Player) run(s Sender, video func(i int, h *rtp.Header, b []byte) error) {
	const lag = 200 * time.Millisecond
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	audio := p.layers[0].Audio
	var ah rtp.Header
	ah.Version = 2
	a := 0 // next audio packet of the clip
	now := time.Now()
	nextAudio := now
	vs := make([]videoLayer, len(p.layers))
	for i, c := range p.layers {
		vs[i] = videoLayer{clip: c, vp: codecs.VP8Payloader{EnablePictureID: true}, next: now}
		vs[i].h.Version = 2
	}
	for {
		select {
		case <-p.stop:
			return
		case now = <-tick.C:
		}
		if now.Sub(nextAudio) > lag {
			nextAudio = now
		}
		for !nextAudio.After(now) {
			ah.SequenceNumber++
			ah.Timestamp += audioClock * uint32(audioPacket/time.Millisecond) / 1000
			_ = s.WriteAudio(&ah, audio[a])
			a = (a + 1) % len(audio)
			nextAudio = nextAudio.Add(audioPacket)
		}
		for i := range vs {
			p.sendVideo(i, &vs[i], now, lag, video)
		}
	}
}

// sendVideo sends the frames of layer i due at now.
func (p *Player) sendVideo(i int, v *videoLayer, now time.Time, lag time.Duration, video func(i int, h *rtp.Header, b []byte) error) {
	if now.Sub(v.next) > lag {
		v.next = now
	}
	for !v.next.After(now) {
		v.h.Timestamp += v.clip.FrameTicks
		v.next = v.next.Add(v.clip.FrameDuration)
		if p.paused[i].Load() {
			continue
		}
		if p.key[i].Swap(false) {
			v.frame = 0
		}
		parts := v.vp.Payload(maxVideoLength, v.clip.Video[v.frame])
		for j, part := range parts {
			v.h.SequenceNumber++
			v.h.Marker = j == len(parts)-1
			_ = video(i, &v.h, part)
		}
		v.frame = (v.frame + 1) % len(v.clip.Video)
	}
}
