package main

import (
	"bytes"
	"context"
	"sync"
	"syscall"
	"testing"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/room"
	"time"
)

// TestClusterSplitHeals: Ann and Ben are in a room, through both nodes.
// Redis loses everything (FLUSHALL) while the room's node stands still
// (SIGSTOP), so that Cat's join through the other node claims the room
// there before its node renews its lease: two nodes run the room, and
// Cat hears nobody. Once the first node runs again it finds its lease
// held by the other and gives its people up: their connections close,
// they come back through either node, and all three are in one room on
// the node that holds the lease, each hearing the two others. Dee, who
// came in with a name and no token, resumes with the secret the first
// node gave her and is seated as herself (same participant id).
func TestClusterSplitHeals(t *testing.T) {
	tc := startCluster(t, 2)
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	ann := joinVia(t, ctx, tc.nodes[0], "split", "ann", room.RoleMember)
	ben := joinVia(t, ctx, tc.nodes[1], "split", "ben", room.RoleMember)
	var first, other clusterNode
	switch tc.owner("split") {
	case tc.nodes[0].id:
		first, other = tc.nodes[0], tc.nodes[1]
	case tc.nodes[1].id:
		first, other = tc.nodes[1], tc.nodes[0]
	default:
		t.Fatalf("split runs on %q", tc.owner("split"))
	}
	dee := joinVia(t, ctx, other, "split", "Dee", "")
	expectAudio(t, ctx, map[string]*client.Client{"ann": ann, "ben": ben, "dee": dee}, "ann<ben,dee ben<ann,dee dee<ann,ben")
	deeID := dee.ID()

	if err := first.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resume := sync.OnceFunc(func() { _ = first.cmd.Process.Signal(syscall.SIGCONT) })
	t.Cleanup(resume)
	if err := tc.rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	cat := joinRetryVia(t, ctx, other, "split", "cat", room.RoleMember)
	if o := tc.owner("split"); o != other.id {
		t.Fatalf("after Redis lost everything Cat's join claimed split for %q, want %s", o, other.id)
	}
	resume()
	for name, c := range map[string]*client.Client{"ann": ann, "ben": ben, "dee": dee} {
		if _, err := c.WaitMessage(ctx, "_closed", nil); err != nil {
			t.Fatalf("%s is still connected to the half of the room on %s: %v", name, first.id, err)
		}
	}
	ann = joinRetryVia(t, ctx, first, "split", "ann", room.RoleMember)
	ben = joinRetryVia(t, ctx, other, "split", "ben", room.RoleMember)
	reconnectVia(t, ctx, dee, other, deeID)
	expectAudio(t, ctx, map[string]*client.Client{"ann": ann, "ben": ben, "cat": cat, "dee": dee},
		"ann<ben,cat,dee ben<ann,cat,dee cat<ann,ben,dee dee<ann,ben,cat")
	if o := tc.owner("split"); o != other.id {
		t.Fatalf("after the heal split runs on %q, want %s", o, other.id)
	}
}

// joinRetryVia joins identity with a token for role through nd, trying
// again while the join is refused with unavailable (the nodes have not
// registered again yet, or the room's node cannot be reached).
func joinRetryVia(t *testing.T, ctx context.Context, nd clusterNode, roomName, identity string, role room.Role) *client.Client {
	t.Helper()
	for {
		c := sendJoinVia(t, ctx, nd, roomName, identity, role)
		m, err := firstReply(ctx, c, 0, "joined", "error")
		if err != nil {
			t.Fatalf("%s through %s: %v", identity, nd.id, err)
		}
		if m.Type == "joined" {
			return c
		}
		c.Close()
		if !bytes.Contains(m.Raw, []byte(`"unavailable"`)) {
			t.Fatalf("%s through %s: %s", identity, nd.id, m.Raw)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s through %s: still unavailable", identity, nd.id)
		case <-time.After(250 * time.Millisecond):
		}
	}
}
