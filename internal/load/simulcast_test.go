package load

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/protocol"
)

// TestSimulcastOptions: which simulcast runs are accepted, and what they
// default to.
func TestSimulcastOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		err  string
	}{
		{"simulcast without video", Options{Rooms: 1, Size: 2, Media: MediaOptions{Simulcast: true}}, "needs video"},
		{"layout without simulcast", Options{Rooms: 1, Size: 2, Layout: LayoutMixed, Media: MediaOptions{Video: true}}, "needs simulcast"},
		{"unknown layout", Options{Rooms: 1, Size: 2, Layout: "grid", Media: MediaOptions{Video: true, Simulcast: true}}, `layout "grid"`},
		{"too many rooms", Options{Rooms: 1 << 13, Size: 2, Media: MediaOptions{Video: true, Simulcast: true}}, "8191 rooms"},
	} {
		if err := tc.o.defaults(); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.err)
		}
	}
	o := Options{Rooms: 1, Size: 2, Media: MediaOptions{Video: true, Simulcast: true}}
	if err := o.defaults(); err != nil || o.Layout != LayoutMixed {
		t.Errorf("simulcast defaults: layout %q, %v; want %q", o.Layout, err, LayoutMixed)
	}
}

// TestLayouts: the layer each subscriber asks for, the layers a publisher
// then sends, and the layout message that says so.
func TestLayouts(t *testing.T) {
	for _, tc := range []struct {
		layout string
		size   int
		// want[sub][pub]: the layer sub receives of pub (-1: itself).
		want [][]int
		// active[pub]: the layers pub sends.
		active [][3]bool
	}{
		{LayoutFull, 3, [][]int{{-1, 2, 2}, {2, -1, 2}, {2, 2, -1}},
			[][3]bool{{false, false, true}, {false, false, true}, {false, false, true}}},
		{LayoutMixed, 4, [][]int{{-1, 1, 2, 0}, {1, -1, 0, 1}, {2, 0, -1, 2}, {0, 1, 2, -1}},
			[][3]bool{{true, true, true}, {true, true, false}, {true, false, true}, {true, true, true}}},
		{LayoutSpeaker, 3, [][]int{{-1, 0, 0}, {2, -1, 0}, {2, 0, -1}},
			[][3]bool{{false, false, true}, {true, false, false}, {true, false, false}}},
	} {
		for sub, row := range tc.want {
			for pub, want := range row {
				if want >= 0 && layoutLayer(tc.layout, sub, pub) != want {
					t.Errorf("%s: %d receives layer %d of %d, want %d", tc.layout, sub, layoutLayer(tc.layout, sub, pub), pub, want)
				}
			}
		}
		for pub, want := range tc.active {
			if got := activeLayers(tc.layout, pub, tc.size); got != want {
				t.Errorf("%s: %d sends layers %v, want %v", tc.layout, pub, got, want)
			}
		}
	}

	peers := map[int]string{0: "p_a", 1: "p_b", 2: "p_c", 3: ""}
	if m := layoutMessage(LayoutFull, 0, peers); m != nil {
		t.Errorf("full layout sends %+v, want nothing", m)
	}
	m := layoutMessage(LayoutSpeaker, 1, peers)
	got := map[string]protocol.TileSize{}
	for _, tile := range m.Tiles {
		got[tile.Participant] = tile.Size
	}
	if m.Type != "layout" || len(got) != 2 || got["p_a"] != protocol.TileLarge || got["p_c"] != protocol.TileSmall {
		t.Errorf("speaker layout of member 1: %+v", m)
	}
}

// TestSimulcastRate: each layer's packets, as the generator sends them.
func TestSimulcastRate(t *testing.T) {
	o := MediaOptions{Video: true, Simulcast: true, FPS: 15, KeyframeInterval: 3 * time.Second}
	// 150, 400 and 1000 kbit/s at 15 fps, keyframes every 3 s four times
	// the size: 44 delta frames and one keyframe per 3 s, of 1,171 and
	// 4,684 bytes (2 and 5 packets of at most 1,100) for q, 3,124 and
	// 12,496 (3 and 12) for h, 7,812 and 31,248 (8 and 29) for f.
	for _, tc := range []struct {
		active [3]bool
		video  float64
	}{
		{[3]bool{true, false, false}, (44*2 + 5) / 3.0},
		{[3]bool{false, true, false}, (44*3 + 12) / 3.0},
		{[3]bool{false, false, true}, (44*8 + 29) / 3.0},
		{[3]bool{true, true, true}, (44*13 + 46) / 3.0},
	} {
		if r := nominalRate(o, tc.active); r < 50+tc.video-0.01 || r > 50+tc.video+0.01 {
			t.Errorf("layers %v: %v packets/s, want %v", tc.active, r, 50+tc.video)
		}
	}
}

func simulcastOptions(layout string) Options {
	o := smokeOptions()
	o.Rooms, o.Size, o.Layout = 1, 4, layout
	// Layers switch on their next keyframe, asked for at once; the warmup
	// leaves time for that, and for the publishers to pause what nobody
	// receives.
	o.Warmup = 2 * time.Second
	o.Duration = 5 * time.Second
	o.Media = MediaOptions{Video: true, Simulcast: true, FPS: 10, KeyframeInterval: time.Second}
	return o
}

// checkSimulcast asserts what a short simulcast run must show: everyone
// received everyone, each subscriber about as many packets as the layers
// its layout asks for carried, and no publisher sent much more than the
// layers someone receives.
func checkSimulcast(t *testing.T, res *Result) {
	t.Helper()
	t.Logf("%s: sent %.0f packets/s (%.0f nominal), received %.0f of %.0f due, server forwarded %.0f, loss %.2f%%",
		res.Target, res.SentPerSec, res.NominalSentPerSec, res.ReceivedPerSec, res.DuePerSec, res.ServerForwardedPerSec, res.Loss*100)
	n := res.Rooms * res.RoomSize
	if res.Participants != n || res.Failed != 0 || !res.Settled {
		t.Fatalf("%s: %d of %d joined (%d failed), settled %v", res.Target, res.Participants, n, res.Failed, res.Settled)
	}
	if want := n * (res.RoomSize - 1) * 2; res.Streams != want {
		t.Errorf("%s: %d streams, want %d", res.Target, res.Streams, want)
	}
	// A subscriber forwarded the wrong layers receives far more or far
	// fewer packets than its layers carried: under either layout, every
	// camera forwarded at its highest layer would be 1.6 to 1.7 times as
	// many. The margin is wide because what is in flight at the window's
	// edges (on a busy machine, up to a few hundred milliseconds of it in
	// socket buffers) counts on one side and not the other.
	if res.ReceivedPerSec < 0.75*res.DuePerSec || res.ReceivedPerSec > 1.25*res.DuePerSec {
		t.Errorf("%s: received %.0f packets/s where its layers carried %.0f", res.Target, res.ReceivedPerSec, res.DuePerSec)
	}
	// Publishers pause what nobody receives: under the speaker layout,
	// sending every layer would be twice the nominal rate. A generator
	// on a busy machine falls behind, never ahead, so only the upper
	// bound is checked (a keyframe asked for at each switch adds a
	// little).
	if res.SentPerSec > 1.25*res.NominalSentPerSec {
		t.Errorf("%s: sent %.0f packets/s, more than the %.0f of the layers someone receives", res.Target, res.SentPerSec, res.NominalSentPerSec)
	}
	if res.Loss > 0.05 {
		t.Errorf("%s: loss %.2f%%", res.Target, res.Loss*100)
	}
}

// TestHearthSimulcast: simulcast publishers and subscribers showing them
// at different sizes, against an in-process Hearth.
func TestHearthSimulcast(t *testing.T) {
	for _, layout := range []string{LayoutMixed, LayoutSpeaker} {
		t.Run(layout, func(t *testing.T) {
			srv := hearthtest.Start(t, hearthtest.Options{})
			o := simulcastOptions(layout)
			o.URL = srv.WSURL
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			res, err := RunHearth(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			checkSimulcast(t, res)
		})
	}
}

// TestRelaySimulcast: the relay forwards the same layers from its own
// table.
func TestRelaySimulcast(t *testing.T) {
	for _, layout := range []string{LayoutMixed, LayoutSpeaker} {
		t.Run(layout, func(t *testing.T) {
			r, err := ListenRelay(RelayOptions{Addr: "127.0.0.1:0", Layout: layout, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- r.Serve(ctx) }()
			o := simulcastOptions(layout)
			o.RelayAddr = r.Addr().String()
			res, err := RunRelay(ctx, o)
			cancel()
			if serr := <-done; serr != nil {
				t.Errorf("relay: %v", serr)
			}
			if err != nil {
				t.Fatal(err)
			}
			checkSimulcast(t, res)
		})
	}
}

// TestRelayGCC: the relay with pion's congestion control forwards what
// it forwards without, and ends every goroutine GCC started.
func TestRelayGCC(t *testing.T) {
	if _, err := ListenRelay(RelayOptions{Addr: "127.0.0.1:0", Plain: true, GCC: true}); err == nil {
		t.Error("a plain relay with GCC was accepted")
	}
	r, err := ListenRelay(RelayOptions{Addr: "127.0.0.1:0", GCC: true, Layout: LayoutMixed, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Serve(ctx) }()
	o := simulcastOptions(LayoutMixed)
	o.RelayAddr, o.RelayGCC = r.Addr().String(), true
	res, err := RunRelay(ctx, o)
	cancel()
	if serr := <-done; serr != nil {
		t.Errorf("relay: %v", serr)
	}
	if err != nil {
		t.Fatal(err)
	}
	if res.Target != "relay-gcc" {
		t.Errorf("target %q, want relay-gcc", res.Target)
	}
	checkSimulcast(t, res)
}
