package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/cluster"
	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/redistest"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
	"github.com/redis/go-redis/v9"
)

const (
	clusterTokenSecret = "a-long-enough-secret-for-tests"
	clusterSecret      = "the-nodes-share-this-secret"
	clusterAPISecret   = "ops-secret-0123456789"
)

// clusterNode is one hearth process of a test cluster.
type clusterNode struct {
	id, base string
	cmd      *exec.Cmd
}

func (n clusterNode) ws() string { return "ws" + strings.TrimPrefix(n.base, "http") + "/ws" }

// testCluster is n hearth processes on one redis-server.
type testCluster struct {
	rs    *redistest.Server
	rdb   *redis.Client
	nodes []clusterNode
}

// startCluster runs n nodes (with extra flags) and waits until every one
// is registered.
func startCluster(t *testing.T, n int, extra ...string) *testCluster {
	t.Helper()
	tc := &testCluster{rs: redistest.Start(t)}
	for i := range n {
		id := fmt.Sprintf("node-%c", 'a'+i)
		args := append([]string{"-redis", tc.rs.URL(), "-secret", clusterTokenSecret, "-cluster-secret", clusterSecret,
			"-node-id", id, "-api-key", "ops", "-api-secret", clusterAPISecret}, extra...)
		cmd, base := startBinary(t, args...)
		tc.nodes = append(tc.nodes, clusterNode{id: id, base: base, cmd: cmd})
	}
	o, err := redis.ParseURL(tc.rs.URL())
	if err != nil {
		t.Fatal(err)
	}
	o.DisableIdentity = true
	tc.rdb = redis.NewClient(o)
	t.Cleanup(func() { _ = tc.rdb.Close() })
	tc.waitFor(t, "every node registered", func() bool {
		for _, nd := range tc.nodes {
			if _, ok := tc.record(nd.id); !ok {
				return false
			}
		}
		return true
	})
	return tc
}

// record is a node's record in the registry.
func (tc *testCluster) record(id string) (cluster.Record, bool) {
	var rec cluster.Record
	s, err := tc.rdb.Get(context.Background(), cluster.DefaultPrefix+"node:"+id).Result()
	return rec, err == nil && json.Unmarshal([]byte(s), &rec) == nil
}

// owner is the id of the node a room's lease names ("" if none).
func (tc *testCluster) owner(name string) string {
	id, _ := tc.rdb.Get(context.Background(), cluster.DefaultPrefix+"owner:"+name).Result()
	return id
}

// waitFor polls cond until it holds, within budget.Step.
func (tc *testCluster) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(budget.Step)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %s", what, budget.Step)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// admin calls the admin API of node nd.
func (tc *testCluster) admin(t *testing.T, nd clusterNode, method, path string, body any) (*http.Response, []byte) {
	t.Helper()
	var rd bytes.Buffer
	if body != nil {
		_ = json.NewEncoder(&rd).Encode(body)
	}
	req, err := http.NewRequest(method, nd.base+path, &rd)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("ops", clusterAPISecret)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	_, _ = out.ReadFrom(resp.Body)
	return resp, out.Bytes()
}

// sendJoinVia connects identity (with a token for role, or none when role
// is empty) through node nd, sending audio, and sends its join.
func sendJoinVia(t *testing.T, ctx context.Context, nd clusterNode, roomName, identity string, role room.Role) *client.Client {
	t.Helper()
	var tok string
	if role != "" {
		var err error
		tok, err = room.IssueToken([]byte(clusterTokenSecret), room.TokenParams{Room: roomName, Identity: identity,
			Name: identity, Role: role, TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
	}
	c, err := client.Dial(ctx, nil, client.Options{URL: nd.ws(), Room: roomName, Name: identity, Token: tok, Audio: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if err := c.Join(); err != nil {
		t.Fatal(err)
	}
	return c
}

// joinVia joins identity (with a token for role, or none when role is
// empty) to a room through node nd, sending audio, and waits for joined.
func joinVia(t *testing.T, ctx context.Context, nd clusterNode, roomName, identity string, role room.Role) *client.Client {
	t.Helper()
	c := sendJoinVia(t, ctx, nd, roomName, identity, role)
	if _, err := c.WaitMessage(ctx, "joined", nil); err != nil {
		t.Fatalf("%s through %s: no joined: %v", identity, nd.id, err)
	}
	return c
}

// newestState is the newest room_state c received.
func newestState(c *client.Client) (protocol.RoomState, bool) {
	var best protocol.RoomState
	found := false
	for _, m := range c.Messages() {
		var st protocol.RoomState
		if m.Type == "room_state" && m.Decode(&st) == nil && (!found || st.Version > best.Version) {
			best, found = st, true
		}
	}
	return best, found
}

// expectAudio checks exactly who receives whose audio: every pair in want
// ("sub<pub,pub ...") flows, and no other pair among cs gets a packet.
// Packets on their way when the gate changed may still arrive, so it
// waits for a window in which the allowed pairs each got some packets and
// the others none, then checks a longer window is clean too. Windows are
// counted in packets that arrived, not in time.
func expectAudio(t *testing.T, ctx context.Context, cs map[string]*client.Client, want string) {
	t.Helper()
	allowed := map[[2]string]bool{}
	for _, row := range strings.Fields(want) {
		sub, pubs, _ := strings.Cut(row, "<")
		for _, p := range strings.Split(pubs, ",") {
			allowed[[2]string{p, sub}] = true
		}
	}
	counts := func() map[[2]string]uint64 {
		out := map[[2]string]uint64{}
		for pn, p := range cs {
			for sn, s := range cs {
				if pn != sn {
					out[[2]string{pn, sn}] = s.Received(p.ID(), "audio")
				}
			}
		}
		return out
	}
	var clock *client.Client
	for _, c := range cs {
		clock = c
		break
	}
	window := func(n uint64) []string {
		start := counts()
		if err := clock.Wait(ctx, func() bool {
			now := counts()
			for pair := range allowed {
				if now[pair] < start[pair]+n {
					return false
				}
			}
			return true
		}); err != nil {
			t.Fatalf("audio: allowed pairs did not flow (want %s): %v; counts %v", want, err, counts())
		}
		var leaks []string
		for pair, n := range counts() {
			if !allowed[pair] && n != start[pair] {
				leaks = append(leaks, fmt.Sprintf("%s>%s +%d", pair[0], pair[1], n-start[pair]))
			}
		}
		return leaks
	}
	for len(window(10)) > 0 {
	}
	if leaks := window(25); len(leaks) > 0 {
		t.Fatalf("audio forwarded against the gate (want %s): %v", want, leaks)
	}
}

// rejoinVia joins through nd as a client does after losing its room's
// node: while the room's node cannot be reached (its lease has not
// lapsed yet) the join is refused with unavailable, and it tries again.
func rejoinVia(t *testing.T, ctx context.Context, nd clusterNode, roomName, name string) *client.Client {
	t.Helper()
	for {
		c, err := client.Dial(ctx, nil, client.Options{URL: nd.ws(), Room: roomName, Name: name, Audio: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Join(); err != nil {
			t.Fatal(err)
		}
		m, err := firstReply(ctx, c, 0, "joined", "error")
		if err != nil {
			t.Fatalf("%s through %s: %v", name, nd.id, err)
		}
		if m.Type == "joined" {
			t.Cleanup(c.Close)
			return c
		}
		c.Close()
		if !bytes.Contains(m.Raw, []byte(`"unavailable"`)) {
			t.Fatalf("%s through %s: %s", name, nd.id, m.Raw)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s through %s: still unavailable", name, nd.id)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// firstReply waits for the first of c's messages, from its from-th on,
// whose type is one of types.
func firstReply(ctx context.Context, c *client.Client, from int, types ...string) (client.Message, error) {
	var m client.Message
	err := c.Wait(ctx, func() bool {
		for _, x := range c.Messages()[from:] {
			if slices.Contains(types, x.Type) {
				m = x
				return true
			}
		}
		return false
	})
	return m, err
}

// endSession has facilitator end the session and checks that everyone in
// cs is told it ended.
func endSession(t *testing.T, ctx context.Context, facilitator *client.Client, cs map[string]*client.Client) {
	t.Helper()
	if err := facilitator.Send(map[string]any{"type": "end_session"}); err != nil {
		t.Fatal(err)
	}
	for name, cl := range cs {
		if _, err := cl.WaitMessage(ctx, "bye", func(m client.Message) bool { return bytes.Contains(m.Raw, []byte(`"ended"`)) }); err != nil {
			t.Fatalf("%s not told the session ended: %v", name, err)
		}
	}
}
