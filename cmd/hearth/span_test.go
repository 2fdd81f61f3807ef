package main

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/room"
)

// TestClusterRoomAcrossNodes: a room's media outgrows its node. With
// -span-after 1, the facilitator's media is served by the room's node, and
// the two members who came in through the other node have theirs served
// there, by a router of the room linked to the owner's: that node
// forwards the room's tracks, and everyone hears everyone. The controls
// stay with the owner: a facilitator's mute of a member served by the
// other node reaches nobody on either node. The session ends for all.
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

	if err := lee.Send(map[string]any{"type": "mute_participant", "participant": ann.ID(), "muted": true}); err != nil {
		t.Fatal(err)
	}
	expectAudio(t, ctx, cs, "lee<ben ann<lee,ben ben<lee")

	if err := lee.Send(map[string]any{"type": "end_session"}); err != nil {
		t.Fatal(err)
	}
	for name, cl := range cs {
		if _, err := cl.WaitMessage(ctx, "bye", func(m client.Message) bool { return bytes.Contains(m.Raw, []byte(`"ended"`)) }); err != nil {
			t.Fatalf("%s not told the session ended: %v", name, err)
		}
	}
	tc.waitFor(t, "node b forwards nothing once the session ended", func() bool {
		n, err := hearthtest.Metric(ctx, b.base+"/metrics", "hearth_sfu_tracks")
		return err == nil && n == 0
	})
}
