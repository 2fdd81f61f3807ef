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
