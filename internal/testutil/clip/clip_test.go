package clip_test

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"go.uber.org/goleak"

	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/clip"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestLoad(t *testing.T) {
	c, err := clip.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Video) != 30 || c.FrameDuration != time.Second/15 || c.FrameTicks != 6000 {
		t.Errorf("video: %d frames of %v (%d ticks), want 30 of 1/15 s", len(c.Video), c.FrameDuration, c.FrameTicks)
	}
	var keys []int
	for i, f := range c.Video {
		if clip.Keyframe(f) {
			keys = append(keys, i)
		}
	}
	if len(keys) != 2 || keys[0] != 0 || keys[1] != 15 {
		t.Errorf("keyframes at %v, want [0 15]", keys)
	}
	// A VP8 keyframe carries its start code and the picture size (RFC
	// 6386, 9.1).
	if f := c.Video[0]; len(f) < 10 || !bytes.Equal(f[3:6], []byte{0x9d, 0x01, 0x2a}) ||
		int(f[6])|int(f[7]&0x3f)<<8 != 320 || int(f[8])|int(f[9]&0x3f)<<8 != 180 {
		t.Errorf("first frame is not a 320x180 VP8 keyframe: % x", c.Video[0][:10])
	}
	if len(c.Audio) < 100 {
		t.Errorf("audio: %d packets, want 2 s in 20 ms packets", len(c.Audio))
	}
	for i, p := range c.Audio {
		// One Opus frame per packet (TOC code 0, RFC 6716, 3.1).
		if len(p) < 2 || p[0]&3 != 0 {
			t.Fatalf("audio packet %d is not one Opus frame: % x", i, p[:min(len(p), 4)])
		}
	}
}

// recorder is a Sender that keeps what it is sent.
type recorder struct {
	mu           sync.Mutex
	audio, video []rtp.Packet
	changed      chan struct{}
}

func (r *recorder) WriteAudio(h *rtp.Header, p []byte) error { return r.add(&r.audio, h, p) }
func (r *recorder) WriteVideo(h *rtp.Header, p []byte) error { return r.add(&r.video, h, p) }

func (r *recorder) add(to *[]rtp.Packet, h *rtp.Header, p []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	*to = append(*to, rtp.Packet{Header: *h, Payload: bytes.Clone(p)})
	select {
	case r.changed <- struct{}{}:
	default:
	}
	return nil
}

// frames reassembles the VP8 frames sent so far, with their timestamps.
func (r *recorder) frames(t *testing.T) (frames [][]byte, ts []uint32) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var cur []byte
	for i, p := range r.video {
		if i > 0 && p.SequenceNumber != r.video[i-1].SequenceNumber+1 {
			t.Fatalf("video sequence numbers jump from %d to %d", r.video[i-1].SequenceNumber, p.SequenceNumber)
		}
		var d codecs.VP8Packet
		payload, err := d.Unmarshal(p.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if (d.S == 1) != (cur == nil) {
			t.Fatalf("video packet %d: start bit %d in the middle of a frame, or missing", i, d.S)
		}
		cur = append(cur, payload...)
		if p.Marker {
			frames, ts, cur = append(frames, cur), append(ts, p.Timestamp), nil
		}
	}
	return frames, ts
}

// waitFor waits until cond holds for r.
func waitFor(t *testing.T, r *recorder, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	for !cond() {
		select {
		case <-r.changed:
		case <-ctx.Done():
			t.Fatalf("waited for %s: %v", what, ctx.Err())
		}
	}
}

func TestPlayer(t *testing.T) {
	c, err := clip.Load()
	if err != nil {
		t.Fatal(err)
	}
	p, err := clip.NewPlayer()
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{changed: make(chan struct{}, 1)}
	p.Play(r)
	defer p.Stop()
	p.Play(r) // a second call does nothing

	// The whole clip, and it loops.
	n := len(c.Video) + 3
	waitFor(t, r, "a loop of video", func() bool { f, _ := r.frames(t); return len(f) >= n })
	frames, ts := r.frames(t)
	for i := range n {
		if !bytes.Equal(frames[i], c.Video[i%len(c.Video)]) {
			t.Fatalf("frame %d sent is not the clip's frame %d", i, i%len(c.Video))
		}
		if i > 0 && ts[i]-ts[i-1] != 6000 {
			t.Errorf("frame %d: timestamp advanced %d, want 6000 (1/15 s)", i, ts[i]-ts[i-1])
		}
	}

	// A keyframe request restarts the clip at its first frame.
	p.Keyframe()
	waitFor(t, r, "a keyframe after the request", func() bool {
		f, _ := r.frames(t)
		for _, fr := range f[len(frames):] {
			if bytes.Equal(fr, c.Video[0]) {
				return true
			}
		}
		return false
	})

	waitFor(t, r, "a loop of audio", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.audio) > len(c.Audio)
	})
	r.mu.Lock()
	for i, a := range r.audio {
		if !bytes.Equal(a.Payload, c.Audio[i%len(c.Audio)]) {
			t.Fatalf("audio packet %d is not the clip's %d", i, i%len(c.Audio))
		}
		if i > 0 && (a.SequenceNumber != r.audio[i-1].SequenceNumber+1 || a.Timestamp-r.audio[i-1].Timestamp != 960) {
			t.Fatalf("audio packet %d: sequence %d after %d, timestamp +%d; want +1 and +960",
				i, a.SequenceNumber, r.audio[i-1].SequenceNumber, a.Timestamp-r.audio[i-1].Timestamp)
		}
	}
	r.mu.Unlock()

	p.Stop()
	p.Stop() // a second call is harmless
}

func TestStopWithoutPlay(t *testing.T) {
	p, err := clip.NewPlayer()
	if err != nil {
		t.Fatal(err)
	}
	p.Stop()
}

func TestLoadLayers(t *testing.T) {
	cs, err := clip.LoadLayers()
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		w, h, frames int
		ticks        uint32
	}{{160, 90, 20, 9000}, {320, 180, 30, 6000}, {640, 360, 30, 6000}}
	for i, c := range cs {
		f := c.Video[0]
		if len(c.Video) != want[i].frames || c.FrameTicks != want[i].ticks || len(f) < 10 ||
			int(f[6])|int(f[7]&0x3f)<<8 != want[i].w || int(f[8])|int(f[9]&0x3f)<<8 != want[i].h {
			t.Errorf("layer %d: %d frames of %d ticks, first % x; want %d of %d, %dx%d", i, len(c.Video), c.FrameTicks,
				f[:min(len(f), 10)], want[i].frames, want[i].ticks, want[i].w, want[i].h)
		}
		if len(c.Audio) < 100 {
			t.Errorf("layer %d: %d audio packets", i, len(c.Audio))
		}
	}
}

// layerRecorder is a LayerSender that counts the frames of each layer
// and keeps each layer's first payload after a count is reset.
type layerRecorder struct {
	recorder
	frames [3]int
	starts [3][]byte
}

func (r *layerRecorder) WriteVideoLayer(i int, h *rtp.Header, p []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.starts[i] == nil {
		r.starts[i] = bytes.Clone(p)
	}
	if h.Marker {
		r.frames[i]++
	}
	select {
	case r.changed <- struct{}{}:
	default:
	}
	return nil
}

func (r *layerRecorder) count(i int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.frames[i]
}

func TestSimulcastPlayer(t *testing.T) {
	p, err := clip.NewSimulcastPlayer()
	if err != nil {
		t.Fatal(err)
	}
	r := &layerRecorder{recorder: recorder{changed: make(chan struct{}, 1)}}
	p.PlayLayers(r)
	defer p.Stop()
	waitFor(t, &r.recorder, "frames of every layer", func() bool { return r.count(0) >= 3 && r.count(1) >= 3 && r.count(2) >= 3 })

	// A paused layer sends nothing; resumed, it starts with a keyframe.
	p.Pause(2, true)
	waitFor(t, &r.recorder, "the others going on", func() bool { return r.count(1) >= 10 })
	r.mu.Lock()
	paused := r.frames[2]
	r.mu.Unlock()
	waitFor(t, &r.recorder, "the others going on", func() bool { return r.count(1) >= 20 })
	if n := r.count(2); n > paused+1 {
		t.Errorf("layer 2 sent %d frames while paused", n-paused)
	}
	r.mu.Lock()
	r.starts[2] = nil
	r.mu.Unlock()
	p.Pause(2, false)
	waitFor(t, &r.recorder, "layer 2 again", func() bool { r.mu.Lock(); defer r.mu.Unlock(); return r.starts[2] != nil })
	var d codecs.VP8Packet
	r.mu.Lock()
	frame, err := d.Unmarshal(r.starts[2])
	r.mu.Unlock()
	if err != nil || d.S != 1 || !clip.Keyframe(frame) {
		t.Errorf("layer 2 resumed with a packet that does not start a keyframe (err %v)", err)
	}
}
