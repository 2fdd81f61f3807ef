package client_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

func join(t *testing.T, srv *hearthtest.Server, opts client.Options) *client.Client {
	t.Helper()
	opts.URL = srv.WSURL
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	c, err := client.Dial(ctx, nil, opts)
	if err != nil {
		t.Fatalf("dial %s: %v", opts.Name, err)
	}
	t.Cleanup(c.Close)
	if err := c.Join(); err != nil {
		t.Fatal(err)
	}
	if err := c.Wait(ctx, func() bool { return c.ID() != "" }); err != nil {
		t.Fatalf("%s not seated: %v", opts.Name, err)
	}
	return c
}

// TestFullClients: two clients on the full pion stack hear and see each
// other through the built-in generator, and count it per publisher.
func TestFullClients(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	a := join(t, srv, client.Options{Room: "full", Name: "Ann", Audio: true, Video: true})
	b := join(t, srv, client.Options{Room: "full", Name: "Bo", Audio: true, Video: true})
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	for _, p := range [][2]*client.Client{{a, b}, {b, a}} {
		sub, pub := p[0], p[1]
		err := sub.Wait(ctx, func() bool {
			au, vi := sub.Stream(pub.ID(), "audio"), sub.Stream(pub.ID(), "video")
			return au != nil && vi != nil && au.Packets.Load() >= 25 && vi.Packets.Load() >= 15 && vi.Keyframes.Load() >= 1
		})
		if err != nil {
			t.Fatalf("%s did not receive %s: %v", sub.ID(), pub.ID(), err)
		}
		vi := sub.Stream(pub.ID(), "video")
		if m := vi.MimeType(); m != webrtc.MimeTypeVP8 {
			t.Errorf("video arrived as %q", m)
		}
		if n, s := sub.Received(pub.ID(), "audio"), sub.Stream(pub.ID(), "audio").Packets.Load(); n < s {
			t.Errorf("Received %d, below the stream's %d", n, s)
		}
		if sub.ResumeSecret() == "" {
			t.Error("no resume secret kept")
		}
		if _, err := sub.WaitMessage(ctx, "joined", nil); err != nil {
			t.Error("joined not kept")
		}
		tl := sub.Times()
		if tl.Join.IsZero() || tl.Joined.Before(tl.Join) || tl.ICEUp.IsZero() || tl.Connected.IsZero() || tl.FirstMedia.IsZero() {
			t.Errorf("timeline %+v", tl)
		}
	}
	if err := a.Wait(ctx, func() bool { return a.SenderReports.Load() > 0 && a.ReceiverReports.Load() > 0 }); err != nil {
		t.Errorf("RTCP reports: %d sender, %d receiver: %v", a.SenderReports.Load(), a.ReceiverReports.Load(), err)
	}
	if errs := a.NegotiationErrors(); len(errs) > 0 {
		t.Errorf("negotiation errors: %v", errs)
	}
}

// counter is a test Counter: packets, and whether any was too short to
// be RTP.
type counter struct {
	packets atomic.Uint64
	short   atomic.Bool
}

func (c *counter) Packet(b []byte, _ time.Duration) {
	if len(b) < 12 || b[0]>>6 != 2 {
		c.short.Store(true)
	}
	c.packets.Add(1)
}

// TestBareClients: clients on a Bare setup, on either receive path, send
// from the caller (no generator) and count with the caller's counters;
// with transport-cc, they send the server feedback on the video they
// receive, from which it estimates their links.
func TestBareClients(t *testing.T) {
	for _, light := range []bool{true, false} {
		for _, tcc := range []bool{false, true} {
			name := "decrypt"
			if light {
				name = "light"
			}
			if tcc {
				name += ", transport-cc"
			}
			t.Run(name, func(t *testing.T) { testBare(t, client.BareOptions{Light: light, TransportCC: tcc}) })
		}
	}
}

func testBare(t *testing.T, o client.BareOptions) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	bare, err := client.NewBare(o)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	counters := map[string]*counter{} // by subscriber name + publisher/kind
	var keyframeRequests atomic.Uint64
	opts := func(name string) client.Options {
		return client.Options{Room: "bare", Name: name, Audio: true, Video: true, Bare: bare, ExternalMedia: true, DropMessages: true,
			OnKeyframeRequest: func() { keyframeRequests.Add(1) },
			NewCounter: func(publisher, kind string) client.Counter {
				c := &counter{}
				mu.Lock()
				counters[name+" "+publisher+"/"+kind] = c
				mu.Unlock()
				return c
			}}
	}
	a := join(t, srv, opts("Ann"))
	b := join(t, srv, opts("Bo"))

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, c := range []*client.Client{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			send(ctx, c)
		}()
	}
	defer func() {
		cancel()
		wg.Wait()
	}()
	got := func(sub string, pub *client.Client, kind string) uint64 {
		mu.Lock()
		defer mu.Unlock()
		if c := counters[sub+" "+pub.ID()+"/"+kind]; c != nil {
			return c.packets.Load()
		}
		return 0
	}
	wctx, wcancel := budget.Context(t, budget.Step)
	defer wcancel()
	err = a.Wait(wctx, func() bool {
		return got("Ann", b, "audio") >= 25 && got("Ann", b, "video") >= 15 && got("Bo", a, "audio") >= 25 && got("Bo", a, "video") >= 15
	})
	if err != nil {
		t.Fatalf("media: Ann got %d audio %d video, Bo got %d audio %d video: %v",
			got("Ann", b, "audio"), got("Ann", b, "video"), got("Bo", a, "audio"), got("Bo", a, "video"), err)
	}
	mu.Lock()
	for k, c := range counters {
		if c.short.Load() {
			t.Errorf("%s: a counter was handed something that is not RTP", k)
		}
	}
	mu.Unlock()
	if s := a.Stream(b.ID(), "audio"); s != nil || a.Received(b.ID(), "audio") != 0 {
		t.Error("the client kept Streams of its own beside the caller's counters")
	}
	if n := len(a.Messages()); n != 0 {
		t.Errorf("%d messages kept with DropMessages", n)
	}
	if tl := a.Times(); tl.Connected.IsZero() || tl.FirstMedia.IsZero() {
		t.Errorf("timeline %+v", tl)
	}
	// A subscriber's arrival makes the server ask the publisher for a
	// keyframe.
	if err := a.Wait(wctx, func() bool { return keyframeRequests.Load() > 0 }); err != nil {
		t.Errorf("no keyframe request reached OnKeyframeRequest: %v", err)
	}
	if !o.TransportCC {
		return
	}
	const name = "hearth_sfu_transport_feedback_total"
	var fed float64
	err = a.Wait(wctx, func() bool {
		v, err := hearthtest.Metrics(wctx, srv.URL+"/metrics", name)
		if err != nil || len(v) == 0 {
			return false
		}
		fed = v[0]
		return fed > 0
	})
	if err != nil {
		t.Errorf("%s %v: %v", name, fed, err)
	}
}

// send writes 50 audio packets and 30 one-packet VP8 frames a second, as
// a load tool's pacer would.
func send(ctx context.Context, c *client.Client) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	audio, video := make([]byte, 80), make([]byte, 400)
	var h rtp.Header
	for i := uint16(1); ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		h = rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: i, Timestamp: uint32(i) * 960}
		_ = c.WriteAudio(&h, audio)
		video[0], video[1] = 0x10, 0x00 // a VP8 keyframe, every time
		h = rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: i, Timestamp: uint32(i) * 1800, Marker: true}
		_ = c.WriteVideo(&h, video)
	}
}

// TestSimulcastPublisher: a client publishing three simulcast layers,
// announced by rid alone as browsers do, through a whole server: a
// subscriber that states no preference comes to receive the highest layer
// (starting, maybe, on one that arrived at the server before it) as one
// stream (one SSRC, no gap) starting on a keyframe; the publisher was
// asked for keyframes.
func TestSimulcastPublisher(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	pub := join(t, srv, client.Options{Room: "layers", Name: "Ann", Audio: true, Video: true, Simulcast: true})
	sub := join(t, srv, client.Options{Room: "layers", Name: "Bo", Audio: true})
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	err := sub.Wait(ctx, func() bool {
		vi := sub.Stream(pub.ID(), "video")
		return vi != nil && vi.Packets.Load() >= 30 && vi.Keyframes.Load() >= 1 && vi.Layer.Load() == 2
	})
	if err != nil {
		vi := sub.Stream(pub.ID(), "video")
		if vi != nil {
			t.Logf("%d packets, layer %d", vi.Packets.Load(), vi.Layer.Load())
		}
		t.Fatalf("no video of the highest layer from the simulcast publisher: %v", err)
	}
	vi := sub.Stream(pub.ID(), "video")
	if g := vi.Gaps.Load(); g != 0 {
		t.Errorf("%d sequence numbers skipped", g)
	}
	if pub.KeyframeRequests.Load() == 0 {
		t.Error("the publisher was not asked for a keyframe")
	}
	if errs := pub.NegotiationErrors(); len(errs) > 0 {
		t.Errorf("negotiation errors: %v", errs)
	}
}
