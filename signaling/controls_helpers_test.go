package signaling_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// ctlToken issues a join token for identity with role.
func ctlToken(t *testing.T, roomName, identity string, role room.Role) string {
	t.Helper()
	tok, err := room.IssueToken([]byte(hearthtest.DefaultSecret), room.TokenParams{Room: roomName, Identity: identity,
		Name: identity, Role: role, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// ctlJoin joins identity with role; it publishes audio (and video if
// asked) unless it is an observer, and waits for its first room_state.
func ctlJoin(t *testing.T, srv *hearthtest.Server, roomName, identity string, role room.Role, video bool) *client.Client {
	t.Helper()
	pub := role != room.RoleObserver
	c := dial(t, srv, client.Options{Room: roomName, Name: identity, Token: ctlToken(t, roomName, identity, role),
		Audio: pub, Video: pub && video})
	if err := c.Join(); err != nil {
		t.Fatal(err)
	}
	ctlWaitState(t, c, func(st protocol.RoomState) bool { return ctlFind(st, c.ID()) != nil })
	return c
}

func ctlSend(t *testing.T, c *client.Client, msg map[string]any) {
	t.Helper()
	if err := c.Send(msg); err != nil {
		t.Fatalf("send %v: %v", msg, err)
	}
}

// ctlState returns the newest room_state c received.
func ctlState(c *client.Client) (protocol.RoomState, bool) {
	var best protocol.RoomState
	found := false
	for _, m := range c.Messages() {
		if m.Type != "room_state" {
			continue
		}
		var st protocol.RoomState
		if m.Decode(&st) == nil && (!found || st.Version > best.Version) {
			best, found = st, true
		}
	}
	return best, found
}

// ctlWaitState waits until c's newest room_state satisfies pred.
func ctlWaitState(t *testing.T, c *client.Client, pred func(protocol.RoomState) bool) protocol.RoomState {
	t.Helper()
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	var st protocol.RoomState
	err := c.Wait(ctx, func() bool {
		var ok bool
		st, ok = ctlState(c)
		return ok && pred(st)
	})
	if err != nil {
		b, _ := json.Marshal(st)
		t.Fatalf("%s: room_state not reached: %v\nnewest: %s\nmessages: %v", c.ID(), err, b, types(c))
	}
	return st
}

func ctlFind(st protocol.RoomState, id string) *protocol.ParticipantState {
	for i := range st.Participants {
		if st.Participants[i].ID == id {
			return &st.Participants[i]
		}
	}
	return nil
}

// ctlSync makes sure every message c sent before has been handled and
// every message the server queued for c before has arrived: a ping's pong
// comes after both.
func ctlSync(t *testing.T, c *client.Client) {
	t.Helper()
	ts := time.Now().UnixNano()
	ctlSend(t, c, map[string]any{"type": "ping", "ts": ts})
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	if _, err := c.WaitMessage(ctx, "pong", func(m client.Message) bool {
		var v struct{ TS int64 }
		return m.Decode(&v) == nil && v.TS == ts
	}); err != nil {
		t.Fatalf("%s: no pong: %v", c.ID(), err)
	}
}

// ctlWaitError waits for an error with code whose ref is typ.
func ctlWaitError(t *testing.T, c *client.Client, typ, code string) {
	t.Helper()
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	if _, err := c.WaitMessage(ctx, "error", func(m client.Message) bool {
		var v struct{ Code, Ref string }
		return m.Decode(&v) == nil && v.Ref == typ && v.Code == code
	}); err != nil {
		t.Fatalf("%s: no %s error for %s: %v; got %v", c.ID(), code, typ, err, types(c))
	}
}

func ctlCount(sub, pub *client.Client, kind string) uint64 {
	if s := sub.Stream(pub.ID(), kind); s != nil {
		return s.Packets.Load()
	}
	return 0
}

// ctlExpect checks exactly who receives whose media of kind: every pair in
// want flows, and no other pair among cs receives a single packet.
//
// Packets already on their way when the gate changed may still arrive, so
// it first waits (bounded) for a window in which the allowed pairs each got
// settle packets and the others nothing; then a second, longer window must
// be clean too, or the gate leaks. No sleeps: windows are measured in
// packets that did arrive.
func ctlExpect(t *testing.T, kind string, cs map[string]*client.Client, want string) {
	t.Helper()
	const settle, verify = 10, 25
	allowed := map[[2]string]bool{}
	for _, row := range strings.Fields(want) {
		sub, pubs, ok := strings.Cut(row, "<")
		if !ok || cs[sub] == nil {
			t.Fatalf("bad expectation %q", row)
		}
		for _, p := range strings.Split(pubs, ",") {
			if p != "" {
				allowed[[2]string{p, sub}] = true
			}
		}
	}
	if len(allowed) == 0 {
		t.Fatal("ctlExpect needs at least one flowing pair as a clock")
	}
	counts := func() map[[2]string]uint64 {
		out := map[[2]string]uint64{}
		for pn, p := range cs {
			for sn, s := range cs {
				if pn != sn {
					out[[2]string{pn, sn}] = ctlCount(s, p, kind)
				}
			}
		}
		return out
	}
	// window waits until every allowed pair got n packets and returns the
	// pairs outside want that received something meanwhile.
	var clock *client.Client
	for _, c := range cs {
		clock = c
		break
	}
	window := func(ctx context.Context, n uint64) ([]string, error) {
		start := counts()
		err := clock.Wait(ctx, func() bool {
			now := counts()
			for pair := range allowed {
				if now[pair] < start[pair]+n {
					return false
				}
			}
			return true
		})
		var leaks []string
		now := counts()
		for pair, n := range now {
			if !allowed[pair] && n != start[pair] {
				leaks = append(leaks, fmt.Sprintf("%s>%s +%d", pair[0], pair[1], n-start[pair]))
			}
		}
		return leaks, err
	}
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	for {
		leaks, err := window(ctx, settle)
		if err != nil {
			t.Fatalf("%s: allowed pairs did not flow (want %s): %v\n%s", kind, want, err, ctlDescribe(cs, kind))
		}
		if len(leaks) == 0 {
			break
		}
	}
	leaks, err := window(ctx, verify)
	if err != nil {
		t.Fatalf("%s: allowed pairs stopped (want %s): %v\n%s", kind, want, err, ctlDescribe(cs, kind))
	}
	if len(leaks) > 0 {
		t.Fatalf("%s: forwarded against the gate (want %s): %v", kind, want, leaks)
	}
}

func ctlDescribe(cs map[string]*client.Client, kind string) string {
	var b strings.Builder
	for sn, s := range cs {
		for pn, p := range cs {
			if pn != sn {
				fmt.Fprintf(&b, "  %s<%s: %d\n", sn, pn, ctlCount(s, p, kind))
			}
		}
	}
	return b.String()
}
