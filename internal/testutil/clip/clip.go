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

//go:embed face.ivf voice.ogg
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
	iv, err := files.ReadFile("face.ivf")
	if err != nil {
		return nil, err
	}
	vr, vh, err := ivfreader.NewWith(bytes.NewReader(iv))
	if err != nil {
		return nil, fmt.Errorf("clip: video: %w", err)
	}
	if vh.TimebaseDenominator == 0 || vh.TimebaseNumerator == 0 {
		return nil, errors.New("clip: video: no frame rate")
	}
	c.FrameDuration = time.Second * time.Duration(vh.TimebaseNumerator) / time.Duration(vh.TimebaseDenominator)
	c.FrameTicks = uint32(uint64(videoClock) * uint64(vh.TimebaseNumerator) / uint64(vh.TimebaseDenominator))
	for {
		frame, _, err := vr.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("clip: video frame %d: %w", len(c.Video), err)
		}
		c.Video = append(c.Video, frame)
	}
	if len(c.Video) == 0 || !Keyframe(c.Video[0]) {
		return nil, errors.New("clip: video does not start with a keyframe")
	}

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
			return nil, fmt.Errorf("clip: audio page %d: %w", len(c.Audio), err)
		}
		if t, ok := h.HeaderType(page); ok && t == oggreader.HeaderOpusTags {
			continue
		}
		// One 20 ms packet per page (see page_duration above).
		step, want := h.GranulePosition-granule, audioClock*uint64(audioPacket)/uint64(time.Second)
		if short || step > want {
			return nil, fmt.Errorf("clip: audio page %d holds %d samples, want one 20 ms packet", len(c.Audio), step)
		}
		short = step < want
		granule = h.GranulePosition
		c.Audio = append(c.Audio, page)
	}
	if len(c.Audio) == 0 {
		return nil, errors.New("clip: no audio")
	}
	return &c, nil
}

// Keyframe reports whether a VP8 frame is a keyframe (RFC 6386, 9.1: the
// frame tag's lowest bit is 0).
func Keyframe(frame []byte) bool { return len(frame) > 0 && frame[0]&1 == 0 }

// Player sends a Clip, looped, as a client's audio and video, in real time.
//
// Lifecycle: NewPlayer → Play → Stop, which waits for its goroutine. A
// Player plays once.
type Player struct {
	clip *Clip
	key  atomic.Bool

	stop     chan struct{}
	stopOnce sync.Once
	mu       sync.Mutex
	played   bool
	wg       sync.WaitGroup
}

// Sender is what a Player sends through: internal/client's Client with
// ExternalMedia set. The two methods are called from one goroutine.
type Sender interface {
	WriteAudio(h *rtp.Header, payload []byte) error
	WriteVideo(h *rtp.Header, payload []byte) error
}

// NewPlayer loads the clip into a Player that has not started.
func NewPlayer() (*Player, error) {
	c, err := Load()
	if err != nil {
		return nil, err
	}
	return &Player{clip: c, stop: make(chan struct{})}, nil
}

// Keyframe makes the next video frame the clip's first, a keyframe: the
// answer to a keyframe request (Options.OnKeyframeRequest). It may be called
// from any goroutine, before or during Play.
func (p *Player) Keyframe() { p.key.Store(true) }

// Play starts sending to s until Stop; later calls do nothing. A write
// that fails (the client is not connected yet, or closed) is skipped; the
// clip plays on. Play and Stop are not called at the same time.
func (p *Player) Play(s Sender) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.played {
		return
	}
	p.played = true
	p.wg.Go(func() { p.run(s) })
}

// Stop ends Play and waits for it. Calling it twice, or without Play, is
// fine.
func (p *Player) Stop() {
	p.stopOnce.Do(func() { close(p.stop) })
	p.wg.Wait()
}

// run sends each packet when it is due. The RTP timestamps follow the
// packet counts, so the media clock stays true when the machine is slow;
// after a stall of more than lag the schedule starts again from now rather
// than sending a burst.
func (p *Player) run(s Sender) {
	const lag = 200 * time.Millisecond
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	vp := &codecs.VP8Payloader{EnablePictureID: true}
	var ah, vh rtp.Header
	ah.Version, vh.Version = 2, 2
	var a, v int // next audio packet and video frame of the clip
	now := time.Now()
	nextAudio, nextVideo := now, now
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
			_ = s.WriteAudio(&ah, p.clip.Audio[a])
			a = (a + 1) % len(p.clip.Audio)
			nextAudio = nextAudio.Add(audioPacket)
		}
		if now.Sub(nextVideo) > lag {
			nextVideo = now
		}
		for !nextVideo.After(now) {
			if p.key.Swap(false) {
				v = 0
			}
			vh.Timestamp += p.clip.FrameTicks
			parts := vp.Payload(maxVideoLength, p.clip.Video[v])
			for i, part := range parts {
				vh.SequenceNumber++
				vh.Marker = i == len(parts)-1
				_ = s.WriteVideo(&vh, part)
			}
			v = (v + 1) % len(p.clip.Video)
			nextVideo = nextVideo.Add(p.clip.FrameDuration)
		}
	}
}
