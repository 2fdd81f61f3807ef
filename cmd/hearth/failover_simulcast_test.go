package main

import (
	"testing"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
)

// TestClusterOwnerKilledSimulcastRepublished: Ann sends her camera as
// three simulcast layers to a drop-in room, which Bo watches, each
// through another node. The room's node is killed (-9); Ann's and Bo's
// own clients resume through the node left and, on the new peer
// connections the server asks for, Ann publishes all three layers
// again: Bo receives her video anew, at the highest layer, from a
// keyframe.
func TestClusterOwnerKilledSimulcastRepublished(t *testing.T) {
	tc := startCluster(t, 2)
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	ann, err := client.Dial(ctx, nil, client.Options{URL: tc.nodes[0].ws(), Room: "cams", Name: "Ann", Audio: true,
		Video: true, Simulcast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ann.Close)
	if err := ann.Join(); err != nil {
		t.Fatal(err)
	}
	if _, err := ann.WaitMessage(ctx, "joined", nil); err != nil {
		t.Fatalf("ann: no joined: %v", err)
	}
	bo := joinVia(t, ctx, tc.nodes[1], "cams", "Bo", "")
	highest := func(before *client.Stream) func() bool {
		return func() bool {
			vi := bo.Stream(ann.ID(), "video")
			return vi != nil && vi != before && vi.Packets.Load() >= 30 && vi.Keyframes.Load() >= 1 && vi.Layer.Load() == 2
		}
	}
	if err := bo.Wait(ctx, highest(nil)); err != nil {
		t.Fatalf("before the kill Bo gets no video of Ann's highest layer: %v", err)
	}
	before := bo.Stream(ann.ID(), "video")

	var victim, survivor clusterNode
	switch tc.owner("cams") {
	case tc.nodes[0].id:
		victim, survivor = tc.nodes[0], tc.nodes[1]
	case tc.nodes[1].id:
		victim, survivor = tc.nodes[1], tc.nodes[0]
	default:
		t.Fatalf("cams runs on %q", tc.owner("cams"))
	}
	if err := victim.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = victim.cmd.Wait()
	for name, c := range map[string]*client.Client{"ann": ann, "bo": bo} {
		if _, err := c.WaitMessage(ctx, "_closed", nil); err != nil {
			t.Fatalf("%s's socket outlives the room's node: %v", name, err)
		}
	}
	reconnectVia(t, ctx, ann, survivor, ann.ID())
	reconnectVia(t, ctx, bo, survivor, bo.ID())
	if err := bo.Wait(ctx, highest(before)); err != nil {
		vi := bo.Stream(ann.ID(), "video")
		if vi != nil && vi != before {
			t.Logf("after the kill: %d packets, %d keyframes, layer %d", vi.Packets.Load(), vi.Keyframes.Load(), vi.Layer.Load())
		}
		t.Fatalf("after the kill Bo gets no video of Ann's highest layer: %v", err)
	}
	if errs := ann.NegotiationErrors(); len(errs) > 0 {
		t.Errorf("ann's negotiation errors: %v", errs)
	}
}
