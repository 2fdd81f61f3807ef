package signaling_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/room"
)

// TestJoinDeadline: a socket that has not joined within the deadline gets
// join_timeout and is closed, a join refused for bad input included; a
// member waiting in the waiting room has joined and stays.
func TestJoinDeadline(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{JoinTimeout: 500 * time.Millisecond})
	createRoom(t, srv, cohort("deadline"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	now := time.Now()

	member := joinWith(t, srv, client.Options{Room: "deadline", Audio: true,
		Token: token(t, "deadline", "client-01", "Rae", room.RoleMember, time.Hour, now)})
	if _, err := member.WaitMessage(ctx, "waiting", nil); err != nil {
		t.Fatalf("member not put in the waiting room: %v", err)
	}
	// Opened after the member, so their deadlines pass before these do.
	idle := dial(t, srv, client.Options{})
	bad := dial(t, srv, client.Options{})
	if err := bad.SendRaw(websocket.TextMessage, []byte(`{"type":"join","room":{}}`)); err != nil {
		t.Fatal(err)
	}
	waitError(t, bad, "bad_request")

	for name, c := range map[string]*client.Client{"a socket that never joined": idle, "a socket whose join was refused": bad} {
		m, err := c.WaitMessage(ctx, "error", func(m client.Message) bool {
			var v struct{ Code string }
			return m.Decode(&v) == nil && v.Code == "join_timeout"
		})
		if err != nil {
			t.Fatalf("%s got no join_timeout: %v (%v)", name, err, types(c))
		}
		var v struct{ Message string }
		_ = m.Decode(&v)
		if v.Message != "No join message arrived in time; reconnect to try again." {
			t.Errorf("%s: join_timeout message %q", name, v.Message)
		}
		closed, err := c.WaitMessage(ctx, "_closed", nil)
		if err != nil {
			t.Fatalf("%s not closed after join_timeout: %v", name, err)
		}
		if !strings.Contains(string(closed.Raw), "1008") {
			t.Errorf("%s closed with %s, want 1008 (policy violation)", name, closed.Raw)
		}
	}

	// The waiting member is still connected, and gets in once admitted.
	ping(t, member)
	fac := joinWith(t, srv, client.Options{Room: "deadline", Audio: true,
		Token: token(t, "deadline", "dr-lee", "Dr Lee", room.RoleFacilitator, time.Hour, now)})
	var waitingID string
	if _, err := fac.WaitMessage(ctx, "waiting_list", func(m client.Message) bool {
		var v struct {
			Entries []struct{ ID, Identity string }
		}
		if m.Decode(&v) != nil || len(v.Entries) != 1 {
			return false
		}
		waitingID = v.Entries[0].ID
		return v.Entries[0].Identity == "client-01"
	}); err != nil {
		t.Fatalf("facilitator does not see the waiting member: %v", err)
	}
	if err := fac.Send(map[string]any{"type": "admit", "participant": waitingID}); err != nil {
		t.Fatal(err)
	}
	if _, err := member.WaitMessage(ctx, "joined", nil); err != nil {
		t.Fatalf("waiting member not admitted: %v (%v)", err, types(member))
	}
	for _, m := range member.Messages() {
		if m.Type == "_closed" || (m.Type == "error" && strings.Contains(string(m.Raw), "join_timeout")) {
			t.Errorf("the waiting member got %s", m.Raw)
		}
	}
}

// TestUnjoinedBound: over MaxUnjoined sockets that have not joined, new
// upgrades are refused with 503 server_busy; a join or a close frees a
// place.
func TestUnjoinedBound(t *testing.T) {
	const bound = 3
	srv := hearthtest.Start(t, hearthtest.Options{MaxUnjoined: bound, JoinTimeout: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var open []*websocket.Conn
	t.Cleanup(func() {
		for _, ws := range open {
			ws.Close()
		}
	})
	// tryOpen reports whether an upgrade succeeds, and checks a refusal.
	tryOpen := func() bool {
		t.Helper()
		ws, resp, err := websocket.DefaultDialer.DialContext(ctx, srv.WSURL, nil)
		if err == nil {
			resp.Body.Close()
			open = append(open, ws)
			return true
		}
		if resp == nil {
			t.Fatalf("dial: %v", err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.HasPrefix(string(body), "server_busy: ") {
			t.Fatalf("refusal: %d %q; want 503 server_busy", resp.StatusCode, body)
		}
		if ra := resp.Header.Get("Retry-After"); ra != "60" {
			t.Errorf("Retry-After %q, want 60 (the join deadline)", ra)
		}
		return false
	}
	// waitOpen retries until an upgrade succeeds.
	waitOpen := func(what string) {
		t.Helper()
		for !tryOpen() {
			if ctx.Err() != nil {
				t.Fatalf("no place freed after %s", what)
			}
			time.Sleep(20 * time.Millisecond) // polling interval
		}
	}

	for i := range bound {
		if !tryOpen() {
			t.Fatalf("socket %d of %d refused", i+1, bound)
		}
	}
	if tryOpen() {
		t.Fatalf("socket %d accepted over the bound of %d", bound+1, bound)
	}

	// One of them joins: it no longer counts.
	joiner := open[0]
	if err := joiner.WriteJSON(map[string]any{"type": "join", "room": "bound", "name": "Ann"}); err != nil {
		t.Fatal(err)
	}
	_ = joiner.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		_, b, err := joiner.ReadMessage()
		if err != nil {
			t.Fatalf("no joined: %v", err)
		}
		var env struct{ Type string }
		if json.Unmarshal(b, &env) == nil && env.Type == "joined" {
			break
		}
	}
	waitOpen("a join")
	if tryOpen() {
		t.Fatalf("socket accepted over the bound of %d after a join", bound)
	}

	// One that has not joined leaves.
	open[1].Close()
	waitOpen("a close")
	if tryOpen() {
		t.Fatalf("socket accepted over the bound of %d after a close", bound)
	}
}
