package main

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// TestClusterRoomAcrossNodes: a room's media outgrows its node. With
// -span-after 1, the facilitator's media is served by the room's node, and
// the two members who came in through the other node have theirs served
// there, by a router of the room linked to the owner's: that node
// forwards the room's tracks, and everyone hears everyone. The controls
// stay with the owner: a facilitator's mute of a member served by the
// other node reaches nobody on either node, and a bad answer to that
// node's offer gets the usual error. When the other node dies, its
// members resume through the room's node with new peer connections
// served there, their seats and the mute as they were. The session ends
// for all.
func TestClusterRoomAcrossNodes(t *testing.T) {
	tc := startCluster(t, 2, "-span-after", "1")
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	a, b := tc.nodes[0], tc.nodes[1]
	if resp, body := tc.admin(t, a, http.MethodPost, "/admin/rooms", map[string]any{"name": "evening", "kind": "closed",
		"roster": []map[string]string{{"identity": "dr-lee", "role": "facilitator"}, {"identity": "ann", "role": "member"},
			{"identity": "ben", "role": "member"}}}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("create the room: %d %s", resp.StatusCode, body)
	}
	lee := joinVia(t, ctx, a, "evening", "dr-lee", room.RoleFacilitator)
	if owner := tc.owner("evening"); owner != a.id {
		t.Fatalf("evening runs on %q, want %s", owner, a.id)
	}
	ann := joinVia(t, ctx, b, "evening", "ann", room.RoleMember)
	ben := joinVia(t, ctx, b, "evening", "ben", room.RoleMember)
	cs := map[string]*client.Client{"lee": lee, "ann": ann, "ben": ben}
	expectAudio(t, ctx, cs, "lee<ann,ben ann<lee,ben ben<lee,ann")

	// Node b forwards the room: its router has every track, Lee's over
	// the link.
	tc.waitFor(t, "the room's tracks on node b", func() bool {
		n, err := hearthtest.Metric(ctx, b.base+"/metrics", "hearth_sfu_tracks")
		return err == nil && n >= 3
	})

	// A bad answer from Ann, whose media node b serves, gets the error a
	// bad answer gets; nothing else changes.
	seen := len(ann.Messages())
	if err := ann.Send(map[string]any{"type": "answer", "sdp": "v=0 not a description"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ann.WaitMessage(ctx, "error", func(m client.Message) bool {
		return bytes.Contains(m.Raw, []byte(`"bad_sdp"`)) && len(ann.Messages()) > seen
	}); err != nil {
		t.Fatalf("a bad answer to node b's offer: %v", err)
	}

	if err := lee.Send(map[string]any{"type": "mute_participant", "participant": ann.ID(), "muted": true}); err != nil {
		t.Fatal(err)
	}
	expectAudio(t, ctx, cs, "lee<ben ann<lee,ben ben<lee")

	// Node b dies: Ann and Ben lost their signaling and their media with
	// it. Back through node a, their seats are theirs, with new peer
	// connections served by the room's node, and Ann still muted.
	if err := b.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = b.cmd.Wait()
	for _, c := range []*client.Client{ann, ben} {
		id := c.ID()
		if err := c.ReconnectVia(ctx, a.ws()); err != nil {
			t.Fatal(err)
		}
		if _, err := c.WaitMessage(ctx, "joined", func(m client.Message) bool {
			var j protocol.Joined
			return m.Decode(&j) == nil && j.Resumed && j.NewPeer && j.Self.ID == id
		}); err != nil {
			t.Fatalf("no new peer connection on resuming through node a: %v", err)
		}
	}
	expectAudio(t, ctx, cs, "lee<ben ann<lee,ben ben<lee")

	endSession(t, ctx, lee, cs)
}

// TestClusterRoomLetsNodeGo: once the last participant whose media
// another node serves leaves, that node stops serving the room: nothing of
// it is forwarded there any more, while the room goes on on its node.
func TestClusterRoomLetsNodeGo(t *testing.T) {
	tc := startCluster(t, 2, "-span-after", "1")
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	a, b := tc.nodes[0], tc.nodes[1]
	lee := joinVia(t, ctx, a, "drop-in", "lee", "")
	ann := joinVia(t, ctx, b, "drop-in", "ann", "")
	ben := joinVia(t, ctx, a, "drop-in", "ben", "")
	expectAudio(t, ctx, map[string]*client.Client{"lee": lee, "ann": ann, "ben": ben}, "lee<ann,ben ann<lee,ben ben<lee,ann")
	tracks := func(nd clusterNode) float64 {
		n, err := hearthtest.Metric(ctx, nd.base+"/metrics", "hearth_sfu_tracks")
		if err != nil {
			return -1
		}
		return n
	}
	tc.waitFor(t, "node b forwarding the room's 3 tracks", func() bool { return tracks(b) == 3 })
	if err := ann.Send(map[string]any{"type": "leave"}); err != nil {
		t.Fatal(err)
	}
	tc.waitFor(t, "node b forwarding nothing", func() bool { return tracks(b) == 0 })
	expectAudio(t, ctx, map[string]*client.Client{"lee": lee, "ben": ben}, "lee<ben ben<lee")
	if n := tracks(a); n != 2 {
		t.Errorf("node a forwards %v tracks, want the two left", n)
	}
}
