package signaling_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/signaling"
)

// errorCode waits for the next error message after skip earlier ones and
// returns its code.
func waitError(t *testing.T, c *client.Client, code string) {
	t.Helper()
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	_, err := c.WaitMessage(ctx, "error", func(m client.Message) bool {
		var v struct{ Code, Message string }
		return m.Decode(&v) == nil && v.Code == code && v.Message != ""
	})
	if err != nil {
		t.Fatalf("no error %q: %v; messages %v", code, err, types(c))
	}
}

// TestBadInput sends each kind of bad input from one client while a group
// is meeting, and checks the sender gets a clear error and the others'
// media carries on.
func TestBadInput(t *testing.T) {
	// One client stays unjoined throughout: a join deadline well past the
	// test's length, however slow the machine.
	srv := hearthtest.Start(t, hearthtest.Options{JoinTimeout: 10 * time.Minute})
	a := joinPeer(t, srv, "steady", "Ann")
	b := joinPeer(t, srv, "steady", "Ben")
	waitMedia(t, a, 10, b)
	waitMedia(t, b, 10, a)

	// A client that has not joined.
	fresh := dial(t, srv, client.Options{Room: "steady", Name: "Eve"})
	cases := []struct {
		name  string
		c     *client.Client
		frame string
		typ   int
		code  string
	}{
		{"malformed json", fresh, `{"type": "join",`, websocket.TextMessage, "bad_json"},
		{"not an object", fresh, `[1,2,3]`, websocket.TextMessage, "bad_json"},
		{"no type", fresh, `{"room": "x"}`, websocket.TextMessage, "bad_json"},
		{"unknown type", fresh, `{"type": "shout"}`, websocket.TextMessage, "unknown_type"},
		{"binary frame", fresh, "\x00\x01\x02", websocket.BinaryMessage, "binary_unsupported"},
		{"offer before join", fresh, `{"type": "offer", "sdp": "v=0"}`, websocket.TextMessage, "not_joined"},
		{"candidate before join", fresh, `{"type": "candidate", "candidate": {"candidate": "x"}}`, websocket.TextMessage, "not_joined"},
		{"admit before join", fresh, `{"type": "admit", "participant": "*"}`, websocket.TextMessage, "not_joined"},
		{"bad room name", fresh, `{"type": "join", "room": "no spaces allowed", "name": "Eve"}`, websocket.TextMessage, "bad_request"},
		{"field of wrong type", fresh, `{"type": "join", "room": 7}`, websocket.TextMessage, "bad_request"},
		{"garbage sdp", a, `{"type": "offer", "sdp": "this is not sdp"}`, websocket.TextMessage, "bad_sdp"},
		{"answer without offer", a, `{"type": "answer", "sdp": "v=0\r\n"}`, websocket.TextMessage, "bad_sdp"},
		{"bad candidate", a, `{"type": "candidate", "candidate": {"candidate": "candidate:garbage", "sdpMid": "0"}}`, websocket.TextMessage, "bad_candidate"},
		{"second join", a, `{"type": "join", "room": "steady", "name": "Ann"}`, websocket.TextMessage, "already_joined"},
		{"bad mute", a, `{"type": "mute", "kind": "smell", "muted": true}`, websocket.TextMessage, "bad_request"},
		{"member admits", a, `{"type": "admit", "participant": "*"}`, websocket.TextMessage, "forbidden"},
		{"member locks", a, `{"type": "lock", "locked": true}`, websocket.TextMessage, "forbidden"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(tc.c.Messages())
			if err := tc.c.SendRaw(tc.typ, []byte(tc.frame)); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := budget.Context(t, budget.Step)
			defer cancel()
			err := tc.c.Wait(ctx, func() bool {
				for _, m := range tc.c.Messages()[before:] {
					var v struct{ Code, Message string }
					if m.Type == "error" && m.Decode(&v) == nil {
						if v.Code != tc.code {
							t.Errorf("got error %q (%s), want %q", v.Code, v.Message, tc.code)
						}
						if v.Message == "" {
							t.Error("error without a human message")
						}
						return true
					}
				}
				return false
			})
			if err != nil {
				t.Fatalf("no error reply: %v; messages %v", err, types(tc.c))
			}
		})
	}
	// The connections that erred are still usable, and media still flows.
	if err := fresh.Send(map[string]any{"type": "ping", "ts": 42}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	if _, err := fresh.WaitMessage(ctx, "pong", nil); err != nil {
		t.Fatalf("no pong after errors: %v", err)
	}
	n := a.Stream(b.ID(), "audio").Packets.Load()
	waitMedia(t, a, n+25, b)
	n = b.Stream(a.ID(), "audio").Packets.Load()
	waitMedia(t, b, n+25, a)
}

// TestOversizedFrame: a frame the size of a browser's answer in a full
// room passes; a frame over the limit gets too_large and a 1009 close; the
// others are unaffected.
func TestOversizedFrame(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	a := joinPeer(t, srv, "big", "Ann")
	b := joinPeer(t, srv, "big", "Ben")
	waitMedia(t, a, 10, b)

	// About what a browser answers in a room of 50 with cameras on after
	// a few dozen departures.
	large := `{"type": "ping", "pad": "` + strings.Repeat("x", 120<<10) + `"}`
	if err := b.SendRaw(websocket.TextMessage, []byte(large)); err != nil {
		t.Fatal(err)
	}
	ping(t, b)
	for _, m := range b.Messages() {
		if m.Type == "error" {
			t.Fatalf("a %d KiB message was refused: %s", len(large)>>10, m.Raw)
		}
	}

	huge := `{"type": "ping", "pad": "` + strings.Repeat("x", signaling.DefaultMaxMessageBytes+1) + `"}`
	if err := b.SendRaw(websocket.TextMessage, []byte(huge)); err != nil {
		t.Fatal(err)
	}
	waitError(t, b, "too_large")
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	m, err := b.WaitMessage(ctx, "_closed", nil)
	if err != nil {
		t.Fatalf("connection not closed: %v", err)
	}
	if !strings.Contains(string(m.Raw), "1009") {
		t.Errorf("close reason %s, want code 1009", m.Raw)
	}
	// Ben is gone from the session; Ann is told and carries on.
	if _, err := a.WaitMessage(ctx, "participant_left", nil); err != nil {
		t.Fatalf("others not told: %v", err)
	}
	c := joinPeer(t, srv, "big", "Cat")
	waitMedia(t, a, 10, c)
	waitMedia(t, c, 10, a)
}

// TestForeignOrigin: a browser page from another origin cannot open the
// websocket unless that origin is allowed.
func TestForeignOrigin(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{AllowedOrigins: []string{"https://friendly.example"}})
	dialWith := func(origin string) (int, error) {
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		ws, resp, err := websocket.DefaultDialer.Dial(srv.WSURL, h)
		if ws != nil {
			ws.Close()
		}
		code := 0
		if resp != nil {
			code = resp.StatusCode
			resp.Body.Close()
		}
		return code, err
	}
	if code, err := dialWith("https://evil.example"); err == nil || code != http.StatusForbidden {
		t.Errorf("foreign origin: status %d err %v, want 403 refusal", code, err)
	}
	if _, err := dialWith(srv.URL); err != nil {
		t.Errorf("own origin refused: %v", err)
	}
	if _, err := dialWith("https://friendly.example"); err != nil {
		t.Errorf("allowed origin refused: %v", err)
	}
	if _, err := dialWith(""); err != nil {
		t.Errorf("no origin (non-browser client) refused: %v", err)
	}
	if code, err := dialWith("null"); err == nil || code != http.StatusForbidden {
		t.Errorf("origin null: status %d err %v, want 403 refusal", code, err)
	}
}

// TestVersionMismatch: an unknown protocol version is refused plainly.
func TestVersionMismatch(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	c := dial(t, srv, client.Options{})
	if err := c.Send(map[string]any{"type": "join", "version": 99, "room": "x", "name": "Ann"}); err != nil {
		t.Fatal(err)
	}
	waitError(t, c, "version")
}
