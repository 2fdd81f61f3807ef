package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hearth-rtc/hearth/cluster"
	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// TestClusterOneRoomThroughThreeNodes: three people of one room join
// through three nodes; the room runs on one of them (b: a already runs a
// room), and they hear each other. The facilitator, connected through
// node a, mutes a member who came in through node b: nobody receives that
// member's audio. The admin API answers about the room from its owner
// whichever node is asked. Node c, which only relays, is killed: media
// goes on (it flows straight to the owner), and its member resumes the
// seat through node a, still who they were. end_session through node a
// ends the session for everyone.
func TestClusterOneRoomThroughThreeNodes(t *testing.T) {
	tc := startCluster(t, 3)
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	a, b, c := tc.nodes[0], tc.nodes[1], tc.nodes[2]
	if resp, body := tc.admin(t, a, http.MethodPost, "/admin/rooms", map[string]any{"name": "evening", "kind": "closed",
		"roster": []map[string]string{{"identity": "dr-lee", "role": "facilitator"}, {"identity": "ann", "role": "member"},
			{"identity": "ben", "role": "member"}}}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("create the room: %d %s", resp.StatusCode, body)
	}
	joinVia(t, ctx, a, "filler", "guest", "")
	if owner := tc.owner("filler"); owner != a.id {
		t.Fatalf("filler runs on %q, want %s (all idle: the first id)", owner, a.id)
	}
	lee := joinVia(t, ctx, a, "evening", "dr-lee", room.RoleFacilitator)
	ann := joinVia(t, ctx, b, "evening", "ann", room.RoleMember)
	ben := joinVia(t, ctx, c, "evening", "ben", room.RoleMember)
	owner := tc.owner("evening")
	if owner != b.id {
		t.Fatalf("evening runs on %q, want %s, the least loaded", owner, b.id)
	}
	cs := map[string]*client.Client{"lee": lee, "ann": ann, "ben": ben}
	expectAudio(t, ctx, cs, "lee<ann,ben ann<lee,ben ben<lee,ann")

	// The owner's record counts the room and its three people.
	tc.waitFor(t, "the owner's load", func() bool {
		rec, ok := tc.record(owner)
		return ok && rec.Rooms == 1 && rec.Participants == 3 && len(rec.Media) > 0 && rec.URL == b.base
	})
	// Whichever node is asked, the owner answers about the room.
	for _, nd := range tc.nodes {
		resp, body := tc.admin(t, nd, http.MethodGet, "/admin/rooms/evening/session", nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get(cluster.NodeHeader) != owner {
			t.Fatalf("session asked of %s: %d, served by %q, want %s: %s", nd.id, resp.StatusCode, resp.Header.Get(cluster.NodeHeader), owner, body)
		}
		var sess struct{ Participants []json.RawMessage }
		if err := json.Unmarshal(body, &sess); err != nil || len(sess.Participants) != 3 {
			t.Fatalf("session asked of %s: %s", nd.id, body)
		}
	}

	if err := lee.Send(map[string]any{"type": "mute_participant", "participant": ann.ID(), "muted": true}); err != nil {
		t.Fatal(err)
	}
	if err := lee.Wait(ctx, func() bool {
		st, ok := newestState(lee)
		for _, p := range st.Participants {
			if ok && p.ID == ann.ID() {
				return p.Muted.Audio && !p.Audible
			}
		}
		return false
	}); err != nil {
		t.Fatalf("the facilitator is not told Ann is muted: %v", err)
	}
	expectAudio(t, ctx, cs, "lee<ben ann<lee,ben ben<lee")

	// Node c, through which Ben came, dies.
	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = c.cmd.Wait()
	expectAudio(t, ctx, cs, "lee<ben ann<lee,ben ben<lee")
	id, seen := ben.ID(), len(ben.Messages())
	if err := ben.ReconnectVia(ctx, a.ws()); err != nil {
		t.Fatal(err)
	}
	if _, err := ben.WaitMessage(ctx, "joined", func(m client.Message) bool {
		var j protocol.Joined
		return m.Decode(&j) == nil && j.Resumed && j.Self.ID == id
	}); err != nil {
		t.Fatalf("Ben did not resume his seat through node a: %v", err)
	}
	if err := ben.Wait(ctx, func() bool {
		for _, m := range ben.Messages()[seen:] {
			var st protocol.RoomState
			if m.Type != "room_state" || m.Decode(&st) != nil {
				continue
			}
			for _, p := range st.Participants {
				if p.ID == ann.ID() && p.Muted.Audio {
					return true
				}
			}
		}
		return false
	}); err != nil {
		t.Fatalf("after the resume Ben is not shown Ann muted: %v", err)
	}
	expectAudio(t, ctx, cs, "lee<ben ann<lee,ben ben<lee")

	endSession(t, ctx, lee, cs)
	// The room is over: its lease goes at the owner's next refresh.
	tc.waitFor(t, "the lease of the ended room released", func() bool { return tc.owner("evening") == "" })
}

// TestClusterSpreadsRooms: ten rooms, each joined through one of three
// nodes in turn, are claimed by load: every node runs some, each room
// runs where its lease says (the owner's record counts it), and the
// spread is even. Node a, drained through the admin API, takes no new
// room, even one joined through it, and keeps the rooms it runs.
func TestClusterSpreadsRooms(t *testing.T) {
	tc := startCluster(t, 3)
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	names := make([]string, 10)
	guests := make([]*client.Client, 10)
	for i := range names {
		names[i] = fmt.Sprintf("group-%d", i)
		guests[i] = joinVia(t, ctx, tc.nodes[i%3], names[i], fmt.Sprintf("guest-%d", i), "")
	}
	owned := map[string]int{}
	for _, name := range names {
		id := tc.owner(name)
		if id == "" {
			t.Fatalf("%s has no owner", name)
		}
		owned[id]++
	}
	t.Logf("rooms per node: %v", owned)
	for _, nd := range tc.nodes {
		if owned[nd.id] < 3 || owned[nd.id] > 4 {
			t.Errorf("%s owns %d of 10 rooms, want 3 or 4 (by load)", nd.id, owned[nd.id])
		}
	}
	tc.waitFor(t, "every node's record counts the rooms it owns", func() bool {
		for _, nd := range tc.nodes {
			rec, ok := tc.record(nd.id)
			if !ok || rec.Rooms != owned[nd.id] || rec.Participants != owned[nd.id] {
				return false
			}
		}
		return true
	})

	a := tc.nodes[0]
	if resp, body := tc.admin(t, a, http.MethodPut, "/admin/node", map[string]bool{"draining": true}); resp.StatusCode != http.StatusOK ||
		!bytes.Contains(body, []byte(`"draining": true`)) || !bytes.Contains(body, []byte(a.id)) {
		t.Fatalf("drain node a: %d %s", resp.StatusCode, body)
	}
	for i := range 3 {
		name := fmt.Sprintf("late-%d", i)
		joinVia(t, ctx, a, name, fmt.Sprintf("late-guest-%d", i), "")
		if id := tc.owner(name); id == a.id || id == "" {
			t.Fatalf("%s, joined through the drained node a, runs on %q", name, id)
		}
	}
	if rec, ok := tc.record(a.id); !ok || !rec.Draining || rec.Rooms != owned[a.id] {
		t.Fatalf("the drained node's record: %+v", rec)
	}

	// "hearth room end", asked of a node that does not run the room, ends
	// the session where it runs.
	var other clusterNode
	for _, nd := range tc.nodes {
		if nd.id != tc.owner(names[0]) {
			other = nd
		}
	}
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"room", "end", names[0], "-server", other.base, "-api-key", "ops", "-api-secret", clusterAPISecret},
		&out, &errOut); err != nil {
		t.Fatalf("hearth room end through %s: %v\n%s%s", other.id, err, out.String(), errOut.String())
	}
	if _, err := guests[0].WaitMessage(ctx, "bye", func(m client.Message) bool { return bytes.Contains(m.Raw, []byte(`"ended"`)) }); err != nil {
		t.Fatalf("the session was not ended: %v", err)
	}
	if err := run(ctx, []string{"room", "end", "nobody-here", "-server", other.base, "-api-key", "ops", "-api-secret", clusterAPISecret},
		&out, &errOut); err == nil {
		t.Error("ending a session that runs nowhere succeeds")
	}
}

// TestClusterOwnerGone: the node running a room is killed (-9). Its
// members, connected through the other nodes, lose their sockets; joining
// again through the same nodes (the first try may find the dead node
// still named, and get unavailable), they are back in the room, now run
// by a live node, and hear each other within 20 s of the kill. Then that node
// is stopped with SIGTERM: it hands the room back at once (its lease and
// record go), and the members are back through the other nodes without
// waiting for a lease to lapse.
func TestClusterOwnerGone(t *testing.T) {
	tc := startCluster(t, 3)
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	a, b, c := tc.nodes[0], tc.nodes[1], tc.nodes[2]
	joinVia(t, ctx, a, "filler", "guest", "")
	ann := joinVia(t, ctx, a, "drop-in", "Ann", "")
	ben := joinVia(t, ctx, c, "drop-in", "Ben", "")
	if owner := tc.owner("drop-in"); owner != b.id {
		t.Fatalf("drop-in runs on %q, want %s", owner, b.id)
	}
	expectAudio(t, ctx, map[string]*client.Client{"ann": ann, "ben": ben}, "ann<ben ben<ann")

	if err := b.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	_ = b.cmd.Wait()
	for name, cl := range map[string]*client.Client{"Ann": ann, "Ben": ben} {
		if _, err := cl.WaitMessage(ctx, "_closed", nil); err != nil {
			t.Fatalf("%s's socket outlives the room's node: %v", name, err)
		}
	}
	ann2 := rejoinVia(t, ctx, a, "drop-in", "Ann")
	ben2 := rejoinVia(t, ctx, c, "drop-in", "Ben")
	back := time.Since(killed)
	owner := tc.owner("drop-in")
	if owner != a.id && owner != c.id {
		t.Fatalf("after the kill drop-in runs on %q", owner)
	}
	expectAudio(t, ctx, map[string]*client.Client{"ann": ann2, "ben": ben2}, "ann<ben ben<ann")
	t.Logf("back in the room on %s %s after the kill; media %s", owner, back.Round(100*time.Millisecond),
		time.Since(killed).Round(100*time.Millisecond))
	if back > 20*time.Second {
		t.Errorf("members back %s after the owner's death, want within 20 s", back)
	}

	// The new owner is stopped gracefully: the room is claimed again at
	// once through the remaining node.
	var next, other clusterNode
	if owner == a.id {
		next, other = a, c
	} else {
		next, other = c, a
	}
	if err := next.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = next.cmd.Wait()
	if id := tc.owner("drop-in"); id != "" {
		t.Fatalf("the lease stays with %s after it stopped", id)
	}
	ann3 := rejoinVia(t, ctx, other, "drop-in", "Ann")
	ben3 := rejoinVia(t, ctx, other, "drop-in", "Ben")
	if owner := tc.owner("drop-in"); owner != other.id {
		t.Fatalf("after the handover drop-in runs on %q, want %s", owner, other.id)
	}
	expectAudio(t, ctx, map[string]*client.Client{"ann": ann3, "ben": ben3}, "ann<ben ben<ann")
}

// TestClusterRelayLimits: a websocket that claims to come from another
// node with a wrong secret is refused; a relayed join that reaches a node
// not running its room is refused there; a relayed client is held to the
// same limits as any other (an oversized message gets too_large and the
// socket closes, on the node it reached) and gets the owner's answers to
// what it sends.
func TestClusterRelayLimits(t *testing.T) {
	// A held seat would keep the room for longer than any wait here.
	tc := startCluster(t, 2, "-reconnect-grace", "5m")
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	a, b := tc.nodes[0], tc.nodes[1]
	h := http.Header{cluster.SecretHeader: {"not-the-secret"}, cluster.ClientHeader: {"203.0.113.9"}}
	if _, resp, err := websocket.DefaultDialer.DialContext(ctx, b.ws(), h); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a wrong cluster secret: %v, %+v", err, resp)
	}

	joinVia(t, ctx, a, "filler", "guest", "")
	ann := joinVia(t, ctx, a, "evening", "Ann", "")
	if owner := tc.owner("evening"); owner != b.id {
		t.Fatalf("evening runs on %q, want %s", owner, b.id)
	}
	// A join a peer relays to a node that does not run the room (it moved
	// meanwhile) is refused there, not served beside the room's node.
	h = http.Header{cluster.SecretHeader: {clusterSecret}, cluster.ClientHeader: {"203.0.113.9"}}
	stale, _, err := websocket.DefaultDialer.DialContext(ctx, a.ws(), h)
	if err != nil {
		t.Fatal(err)
	}
	defer stale.Close()
	if err := stale.WriteJSON(protocol.Join{Type: "join", Version: protocol.Version, Room: "evening", Name: "Cy"}); err != nil {
		t.Fatal(err)
	}
	var refusal protocol.Error
	if err := stale.ReadJSON(&refusal); err != nil || refusal.Code != protocol.CodeUnavailable {
		t.Fatalf("a stale relay: %+v (%v)", refusal, err)
	}
	if err := ann.SendRaw(websocket.TextMessage, []byte(`{"type":"nonsense"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := ann.WaitMessage(ctx, "error", func(m client.Message) bool { return bytes.Contains(m.Raw, []byte(`"unknown_type"`)) }); err != nil {
		t.Fatalf("no answer from the owner through the relay: %v", err)
	}
	tc.waitFor(t, "the room live on its owner", func() bool {
		rec, ok := tc.record(b.id)
		return ok && rec.Rooms == 1 && rec.Participants == 1
	})
	big := append([]byte(`{"type":"chat","text":"`), bytes.Repeat([]byte("x"), 300<<10)...)
	big = append(big, `"}`...)
	if err := ann.SendRaw(websocket.TextMessage, big); err != nil {
		t.Fatal(err)
	}
	if _, err := ann.WaitMessage(ctx, "error", func(m client.Message) bool { return bytes.Contains(m.Raw, []byte(`"too_large"`)) }); err != nil {
		t.Fatalf("an oversized message through the relay: %v", err)
	}
	if _, err := ann.WaitMessage(ctx, "_closed", nil); err != nil {
		t.Fatalf("the socket stays open after too_large: %v", err)
	}
	// The owner lets the seat go (it holds none for a resume, as it
	// would not for a client of its own): the room ends there.
	tc.waitFor(t, "the room ended on its owner", func() bool {
		rec, ok := tc.record(b.id)
		return ok && rec.Rooms == 0 && rec.Participants == 0
	})
}

// TestClusterRelayLatency measures what relaying adds to a join: joins to
// one room straight to its node and through the other, alternately, from
// join sent to joined received. It reports; it asserts nothing of time.
func TestClusterRelayLatency(t *testing.T) {
	tc := startCluster(t, 2)
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	joinVia(t, ctx, tc.nodes[0], "timing", "host", "")
	b, a := tc.nodes[0], tc.nodes[1] // b runs the room, a relays
	if owner := tc.owner("timing"); owner != b.id {
		a, b = b, a
	}
	const n = 20
	var direct, relayed []time.Duration
	for i := range 2 * n {
		nd := b
		if i%2 == 1 {
			nd = a
		}
		c := joinVia(t, ctx, nd, "timing", fmt.Sprintf("guest-%d", i), "")
		tl := c.Times()
		if i%2 == 1 {
			relayed = append(relayed, tl.Joined.Sub(tl.Join))
		} else {
			direct = append(direct, tl.Joined.Sub(tl.Join))
		}
		c.Close()
	}
	slices.Sort(direct)
	slices.Sort(relayed)
	t.Logf("join to joined over %d joins each: straight to the owner p50 %s p90 %s; through another node p50 %s p90 %s",
		n, direct[n/2].Round(10*time.Microsecond), direct[n*9/10].Round(10*time.Microsecond),
		relayed[n/2].Round(10*time.Microsecond), relayed[n*9/10].Round(10*time.Microsecond))
}
