package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/membership/redisstore"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// TestClusterOwnerKilledDropInResume: a drop-in room (Ann and Ben come in
// with a name, no token) runs on one of three nodes, its people connected
// through all three. The facilitator mutes Ann and Ann raises her hand;
// once the owner has mirrored that it is killed (-9). Everyone resumes
// through a surviving node with the resume secret the dead node gave
// them (Ann and Ben from the same clients, which start a new peer
// connection as the server asks) and, within 20 s of the kill, is back
// in the same seat (same participant id, resumed, no waiting room): Ann
// still muted (nobody receives her audio, counted in packets) with her
// hand up, three seats and no seat left reconnecting.
func TestClusterOwnerKilledDropInResume(t *testing.T) {
	tc := startCluster(t, 3)
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	joinVia(t, ctx, tc.nodes[0], "filler", "guest", "")
	lee := joinVia(t, ctx, tc.nodes[0], "drop-in", "dr-lee", room.RoleFacilitator)
	ann := joinVia(t, ctx, tc.nodes[1], "drop-in", "Ann", "")
	ben := joinVia(t, ctx, tc.nodes[2], "drop-in", "Ben", "")
	owner := tc.owner("drop-in")
	var victim clusterNode
	var survivors []clusterNode
	for _, nd := range tc.nodes {
		if nd.id == owner {
			victim = nd
		} else {
			survivors = append(survivors, nd)
		}
	}
	if len(survivors) != 2 {
		t.Fatalf("drop-in runs on %q", owner)
	}
	if err := lee.Send(map[string]any{"type": "mute_participant", "participant": ann.ID(), "kind": "audio", "muted": true}); err != nil {
		t.Fatal(err)
	}
	if err := ann.Send(map[string]any{"type": "raise_hand"}); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("hands [%s] muted [%s ] seated 3", ann.ID(), ann.ID())
	if err := lee.Wait(ctx, func() bool { st, ok := newestState(lee); return ok && controlsOf(st) == want }); err != nil {
		st, _ := newestState(lee)
		t.Fatalf("before the kill: %s, want %s", controlsOf(st), want)
	}
	expectAudio(t, ctx, map[string]*client.Client{"lee": lee, "ann": ann, "ben": ben}, "lee<ben ann<lee,ben ben<lee")
	st, _ := newestState(lee)
	mirrorKey := redisstore.DefaultPrefix + "room:{drop-in}:mirror"
	tc.waitFor(t, "the controls mirrored", func() bool {
		v, err := tc.rdb.HGet(context.Background(), mirrorKey, "version").Uint64()
		return err == nil && v >= st.Version
	})
	data, err := tc.rdb.HGet(context.Background(), mirrorKey, "data").Bytes()
	if err != nil {
		t.Fatalf("read the mirror: %v", err)
	}
	for name, c := range map[string]*client.Client{"lee": lee, "ann": ann, "ben": ben} {
		if bytes.Contains(data, []byte(c.ResumeSecret())) {
			t.Fatalf("the mirror in Redis holds %s's resume secret", name)
		}
	}
	ids := map[string]string{"lee": lee.ID(), "ann": ann.ID(), "ben": ben.ID()}
	secrets := map[string]string{"lee": lee.ResumeSecret(), "ann": ann.ResumeSecret(), "ben": ben.ResumeSecret()}

	if err := victim.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	_ = victim.cmd.Wait()
	for name, c := range map[string]*client.Client{"lee": lee, "ann": ann, "ben": ben} {
		if _, err := c.WaitMessage(ctx, "_closed", nil); err != nil {
			t.Fatalf("%s's socket outlives the room's node: %v", name, err)
		}
	}
	// Ann and Ben come back as the browser does: the same client resumes
	// and, seated on a new peer connection, starts a new one. Lee comes
	// back as a client that lost everything, on a fresh one.
	back := map[string]*client.Client{"ann": ann, "ben": ben}
	for i, name := range slices.Sorted(maps.Keys(ids)) {
		if name == "lee" {
			back[name] = resumeVia(t, ctx, survivors[i%2], "drop-in", secrets[name], ids[name])
			continue
		}
		reconnectVia(t, ctx, back[name], survivors[i%2], ids[name])
	}
	took := time.Since(killed)
	lee = back["lee"]
	if err := lee.Wait(ctx, func() bool { st, ok := newestState(lee); return ok && controlsOf(st) == want }); err != nil {
		st, _ := newestState(lee)
		t.Fatalf("after the kill: %s, want %s", controlsOf(st), want)
	}
	if err := lee.Wait(ctx, func() bool { return seenBy(lee) == "ann:active ben:active" }); err != nil {
		t.Fatalf("after the kill the facilitator sees %q, want Ann and Ben active, nobody else", seenBy(lee))
	}
	expectAudio(t, ctx, back, "lee<ben ann<lee,ben ben<lee")
	if o := tc.owner("drop-in"); o == "" || o == victim.id {
		t.Fatalf("after the kill drop-in runs on %q", o)
	}
	t.Logf("resumed on %s %s after the kill; controls and media checked %s after it", tc.owner("drop-in"),
		took.Round(100*time.Millisecond), time.Since(killed).Round(100*time.Millisecond))
	if took > 20*time.Second {
		t.Errorf("members back %s after the owner's death, want within 20 s", took)
	}
}

// resumeVia resumes a seat through nd with secret, on a new peer
// connection, as a client does after losing its room's node: while the
// room's node cannot be reached the resume is refused with unavailable,
// and it tries again. It must be back in the seat id.
func resumeVia(t *testing.T, ctx context.Context, nd clusterNode, roomName, secret, id string) *client.Client {
	t.Helper()
	for {
		c, err := client.Dial(ctx, nil, client.Options{URL: nd.ws(), Room: roomName, Audio: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Send(protocol.Join{Type: "join", Version: protocol.Version, Room: roomName, Resume: secret, NewPeer: true}); err != nil {
			t.Fatal(err)
		}
		m, err := firstReply(ctx, c, 0, "joined", "waiting", "error")
		if err != nil {
			t.Fatalf("resume of %s through %s: %v", id, nd.id, err)
		}
		if m.Type == "error" && bytes.Contains(m.Raw, []byte(`"unavailable"`)) {
			c.Close()
			select {
			case <-ctx.Done():
				t.Fatalf("resume of %s through %s: still unavailable", id, nd.id)
			case <-time.After(250 * time.Millisecond):
			}
			continue
		}
		t.Cleanup(c.Close)
		var j protocol.Joined
		if m.Type != "joined" || m.Decode(&j) != nil || !j.Resumed || !j.NewPeer || j.Self.ID != id {
			t.Fatalf("resume of %s through %s: %s, want joined, resumed on a new peer, same id", id, nd.id, m.Raw)
		}
		return c
	}
}

// reconnectVia resumes c's seat through nd with c's own resume secret,
// as a client does after losing its room's node: while the room's node
// cannot be reached the resume is refused with unavailable, and it tries
// again. It must be back in the seat id, on a new peer connection, which
// c starts itself.
func reconnectVia(t *testing.T, ctx context.Context, c *client.Client, nd clusterNode, id string) {
	t.Helper()
	for {
		from := len(c.Messages())
		if err := c.ReconnectVia(ctx, nd.ws()); err != nil {
			t.Fatal(err)
		}
		m, err := firstReply(ctx, c, from, "joined", "waiting", "error")
		if err != nil {
			t.Fatalf("resume of %s through %s: %v", id, nd.id, err)
		}
		if m.Type == "error" && bytes.Contains(m.Raw, []byte(`"unavailable"`)) {
			select {
			case <-ctx.Done():
				t.Fatalf("resume of %s through %s: still unavailable", id, nd.id)
			case <-time.After(250 * time.Millisecond):
			}
			continue
		}
		var j protocol.Joined
		if m.Type != "joined" || m.Decode(&j) != nil || !j.Resumed || !j.NewPeer || j.Self.ID != id {
			t.Fatalf("resume of %s through %s: %s, want joined, resumed on a new peer, same id", id, nd.id, m.Raw)
		}
		if errs := c.NegotiationErrors(); len(errs) > 0 {
			t.Fatalf("resume of %s through %s: %v", id, nd.id, errs)
		}
		return
	}
}

// seenBy sums up the others as c sees them now, from its joined and the
// participant events after it: "name:state ..." sorted, names in lower
// case.
func seenBy(c *client.Client) string {
	people := map[string]protocol.Participant{}
	for _, m := range c.Messages() {
		switch m.Type {
		case "joined":
			var j protocol.Joined
			if m.Decode(&j) == nil {
				clear(people)
				for _, p := range j.Participants {
					people[p.ID] = p
				}
			}
		case "participant_joined", "participant_updated":
			var e protocol.ParticipantEvent
			if m.Decode(&e) == nil {
				people[e.Participant.ID] = e.Participant
			}
		case "participant_left":
			var e protocol.ParticipantLeft
			if m.Decode(&e) == nil {
				delete(people, e.Participant)
			}
		}
	}
	var out []string
	for _, p := range people {
		out = append(out, strings.ToLower(p.Name)+":"+p.State)
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}
