package signaling_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// joinAs dials with opts, joins and waits for "joined".
func joinAs(t *testing.T, srv *hearthtest.Server, opts client.Options) *client.Client {
	t.Helper()
	c := dial(t, srv, opts)
	if err := c.Join(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	if _, err := c.WaitMessage(ctx, "joined", nil); err != nil {
		t.Fatalf("%s: no joined: %v; got %v", opts.Name, err, types(c))
	}
	return c
}

// sendLayout sends a layout showing pub at size.
func sendLayout(t *testing.T, c, pub *client.Client, size protocol.TileSize) {
	t.Helper()
	if err := c.Send(protocol.Layout{Type: "layout", Tiles: []protocol.Tile{{Participant: pub.ID(), Size: size}}}); err != nil {
		t.Fatal(err)
	}
}

// videoOf is what sub received of pub's video: packets, bytes, and the
// layer of the newest packet.
func videoOf(sub, pub *client.Client) (packets, bytes uint64, layer uint32) {
	s := sub.Stream(pub.ID(), "video")
	if s == nil {
		return 0, 0, 0
	}
	return s.Packets.Load(), s.Bytes.Load(), s.Layer.Load()
}

// waitLayer waits until sub receives pub's video at layer and nothing
// else for 30 packets running, and returns the bytes per packet of those.
func waitLayer(t *testing.T, ctx context.Context, sub, pub *client.Client, layer uint32) uint64 {
	t.Helper()
	var startP, startB uint64
	started := false
	var perPacket uint64
	err := sub.Wait(ctx, func() bool {
		p, b, l := videoOf(sub, pub)
		if l != layer {
			started = false
			return false
		}
		if !started {
			startP, startB, started = p, b, true
			return false
		}
		if p < startP+30 {
			return false
		}
		perPacket = (b - startB) / (p - startP)
		return true
	})
	if err != nil {
		p, _, l := videoOf(sub, pub)
		t.Fatalf("%d packets of video, the newest of layer %d; want layer %d: %v", p, l, layer, err)
	}
	return perPacket
}

// TestLayoutChoosesLayers: a simulcast publisher (three layers, as the
// built-in generator sends them, each a different size) and three
// subscribers whose layouts show it small, large and hidden. The small
// one receives the lowest layer, the large one the highest, with more
// bytes a packet; the hidden one no video while audio keeps arriving. The
// publisher is told that its lowest and highest layers are watched and
// the middle one is not; when the small tile grows to medium, the middle
// one is watched and the subscriber gets it, and the lowest is kept, for
// a subscriber short of bandwidth to step down to.
func TestLayoutChoosesLayers(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	pub := joinAs(t, srv, client.Options{Room: "layout", Name: "Pub", Audio: true, Video: true, Simulcast: true})
	small := joinAs(t, srv, client.Options{Room: "layout", Name: "Small", Audio: true})
	large := joinAs(t, srv, client.Options{Room: "layout", Name: "Large", Audio: true})
	hidden := joinAs(t, srv, client.Options{Room: "layout", Name: "Hidden", Audio: true})
	sendLayout(t, small, pub, protocol.TileSmall)
	sendLayout(t, large, pub, protocol.TileLarge)
	sendLayout(t, hidden, pub, protocol.TileHidden)

	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	low := waitLayer(t, ctx, small, pub, 0)
	high := waitLayer(t, ctx, large, pub, 2)
	if high <= low {
		t.Errorf("the large tile gets %d bytes a packet, the small one %d: want more", high, low)
	}

	// Hidden: a window of 50 audio packets with no video in it.
	err := hidden.Wait(ctx, func() bool { return hidden.Received(pub.ID(), "audio") > 0 })
	for err == nil {
		v0, _, _ := videoOf(hidden, pub)
		a0 := hidden.Received(pub.ID(), "audio")
		err = hidden.Wait(ctx, func() bool { return hidden.Received(pub.ID(), "audio") >= a0+50 })
		if v, _, _ := videoOf(hidden, pub); err == nil && v == v0 {
			break
		}
	}
	if err != nil {
		v, _, _ := videoOf(hidden, pub)
		t.Fatalf("the hidden tile: %d video packets, %d audio, never a stretch of audio without video: %v",
			v, hidden.Received(pub.ID(), "audio"), err)
	}

	active := func(want ...bool) func(client.Message) bool {
		return func(m client.Message) bool {
			var vl protocol.VideoLayers
			if m.Decode(&vl) != nil || len(vl.Layers) != len(want) {
				return false
			}
			got := make([]bool, len(vl.Layers))
			for i, l := range vl.Layers {
				got[i] = l.Active
				if l.RID != client.SimulcastRIDs[i] {
					return false
				}
			}
			return slices.Equal(got, want) && strings.HasPrefix(vl.Track, pub.ID())
		}
	}
	if _, err := pub.WaitMessage(ctx, "video_layers", active(true, false, true)); err != nil {
		t.Fatalf("the publisher was not told that q and f are watched and h is not: %v", err)
	}

	sendLayout(t, small, pub, protocol.TileMedium)
	waitLayer(t, ctx, small, pub, 1)
	// q stays active: it is what a subscriber short of bandwidth steps
	// down to.
	if _, err := pub.WaitMessage(ctx, "video_layers", active(true, true, true)); err != nil {
		t.Fatalf("the publisher was not told that h and f are watched, and q kept: %v", err)
	}
}

// TestLayoutRefusals: a layout naming someone twice, with a size that is
// none, or with too many tiles gets bad_request with a plain sentence, and
// the connection carries on (a ping is answered).
func TestLayoutRefusals(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	a := joinAs(t, srv, client.Options{Room: "layout", Name: "Ann", Audio: true})
	b := joinAs(t, srv, client.Options{Room: "layout", Name: "Bo", Audio: true})
	many := make([]protocol.Tile, protocol.MaxLayoutTiles+1)
	for i := range many {
		many[i] = protocol.Tile{Participant: b.ID(), Size: protocol.TileSmall}
	}
	for _, tiles := range [][]protocol.Tile{
		{{Participant: b.ID(), Size: protocol.TileSmall}, {Participant: b.ID(), Size: protocol.TileLarge}},
		{{Participant: b.ID(), Size: "gigantic"}},
		{{Participant: b.ID(), Width: -5, Height: 10}},
		many,
	} {
		errs := func() []client.Message {
			var out []client.Message
			for _, m := range a.Messages() {
				if m.Type == "error" {
					out = append(out, m)
				}
			}
			return out
		}
		before := len(errs())
		if err := a.Send(protocol.Layout{Type: "layout", Tiles: tiles}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := budget.Context(t, budget.Step)
		err := a.Wait(ctx, func() bool { return len(errs()) > before })
		cancel()
		if err != nil {
			t.Fatalf("no error for a bad layout: %v", err)
		}
		var e protocol.Error
		if err := errs()[before].Decode(&e); err != nil || e.Code != protocol.CodeBadRequest || e.Ref != "layout" {
			t.Fatalf("got %+v, want bad_request about the layout", e)
		}
		if strings.Contains(e.Message, "protocol.") || strings.Contains(e.Message, "gigantic") || strings.Contains(e.Message, "json") {
			t.Errorf("message %q is not a plain sentence", e.Message)
		}
	}
	ts := int64(7)
	if err := a.Send(protocol.Ping{Type: "ping", TS: &ts}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	if _, err := a.WaitMessage(ctx, "pong", nil); err != nil {
		t.Fatalf("no pong after the refusals: %v", err)
	}
}

// TestLayoutLeavesScreenShare: a layout hiding the facilitator's camera
// stops that camera's video but not the screen the facilitator shares,
// which is forwarded whole.
func TestLayoutLeavesScreenShare(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	f := ctlJoin(t, srv, "layout-screen", "fran", room.RoleFacilitator, true)
	m := ctlJoin(t, srv, "layout-screen", "milo", room.RoleMember, false)
	// Each hears the other: every offer so far is answered, so fran's
	// offer of a screen crosses none of the server's.
	ctlExpect(t, "audio", map[string]*client.Client{"f": f, "m": m}, "f<m m<f")
	ctlSend(t, f, map[string]any{"type": "start_screen_share"})
	ctlWaitState(t, m, func(st protocol.RoomState) bool { return sharerOf(st) == f.ID() })
	publishScreen(t, f)
	sendLayout(t, m, f, protocol.TileHidden)

	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	// A window of 30 screen packets with no camera packet in it.
	err := m.Wait(ctx, func() bool { return screenCount(m, f) > 0 })
	for err == nil {
		v0, _, _ := videoOf(m, f)
		s0 := screenCount(m, f)
		err = m.Wait(ctx, func() bool { return screenCount(m, f) >= s0+30 })
		if v, _, _ := videoOf(m, f); err == nil && v == v0 {
			break
		}
	}
	if err != nil {
		v, _, _ := videoOf(m, f)
		t.Fatalf("the hidden camera: %d video packets, %d of the screen; never a stretch of screen without camera: %v",
			v, screenCount(m, f), err)
	}
}
