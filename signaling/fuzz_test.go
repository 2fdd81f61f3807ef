package signaling

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hearth-rtc/hearth/live"
	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
	"github.com/hearth-rtc/hearth/sfu"
)

// closeRule says whether an error closes the socket, from the "closes"
// column of PROTOCOL.md's error table.
type closeRule int

const (
	neverCloses closeRule = iota
	alwaysCloses
	mayClose // it depends on what was answered
)

// documentedCodes are the error codes of PROTOCOL.md, with their rule.
func documentedCodes(t testing.TB) map[string]closeRule {
	out := map[string]closeRule{}
	for code, closes := range readProtocol(t).codes {
		switch {
		case closes == "no":
			out[code] = neverCloses
		case strings.HasPrefix(closes, "yes"):
			out[code] = alwaysCloses
		default:
			out[code] = mayClose
		}
	}
	return out
}

const fuzzSecret = "fuzz-secret-0123456789abcdef"

// fuzzHarness is a signaling server (memory store, loopback SFU) and one
// server-side websocket that per-input connections share; they never read
// or write it (the writer goroutine is not started), so what the server
// sends stays in the connection's queue for the test to read.
type fuzzHarness struct {
	srv   *Server
	ws    *websocket.Conn
	token string
}

func newFuzzHarness(f *testing.F) *fuzzHarness {
	f.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	store := membership.NewMemStore(membership.MemStoreOptions{})
	rooms, err := membership.NewService(membership.ServiceConfig{Store: store, Secret: []byte(fuzzSecret), NodeID: "fuzz", Logger: log})
	if err != nil {
		f.Fatal(err)
	}
	engine, err := sfu.NewEngine(sfu.Config{UDPAddr: "127.0.0.1:0", LoopbackOnly: true, Logger: log})
	if err != nil {
		f.Fatal(err)
	}
	lv := live.NewRooms(live.Config{Door: rooms, Engine: engine, Logger: log})
	srv := New(Config{Membership: rooms, Rooms: lv, Logger: log})
	f.Cleanup(func() {
		_ = srv.Shutdown(f.Context())
		lv.Close()
		_ = engine.Close()
	})

	conns := make(chan *websocket.Conn, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err == nil {
			conns <- ws
		}
	}))
	f.Cleanup(hs.Close)
	client, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	if err != nil {
		f.Fatal(err)
	}
	resp.Body.Close()
	ws := <-conns
	f.Cleanup(func() {
		ws.Close()
		client.Close()
	})
	tok, err := room.IssueToken([]byte(fuzzSecret), room.TokenParams{Room: "fuzz", Identity: "fuzzer", Name: "Fuzzer",
		Role: room.RoleFacilitator, TTL: 24 * time.Hour})
	if err != nil {
		f.Fatal(err)
	}
	return &fuzzHarness{srv: srv, ws: ws, token: tok}
}

// sent is one message the server queued, decoded.
type sent struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Ref     string `json:"ref"`
	Reason  string `json:"reason"`
	TS      *int64 `json:"ts"`
	raw     []byte
}

// run feeds frame to a fresh connection (joined first as a facilitator
// when join is set) and returns what the server queued in answer to the
// frame and whether the connection was closing afterwards. The
// participant leaves before run returns.
func (h *fuzzHarness) run(t *testing.T, join bool, frame []byte) (out []sent, closed bool) {
	c := newConn(h.srv, h.ws)
	// The harness stands in for the writer: what is sent stays queued
	// for drain to read.
	c.writing = true
	defer func() {
		c.leave()
		c.closeOut(websocket.CloseNormalClosure, "")
	}()
	if join {
		j, _ := json.Marshal(map[string]any{"type": "join", "version": 1, "room": "fuzz", "token": h.token})
		c.dispatch(j)
		first := drain(t, c)
		if len(first) == 0 || first[0].Type != "joined" {
			t.Fatalf("setup join answered %v", first)
		}
	}
	c.dispatch(frame)
	closed = c.isClosed()
	return drain(t, c), closed
}

// drain takes what is queued now, checking that each is a JSON object
// with a type.
func drain(t *testing.T, c *conn) []sent {
	t.Helper()
	var out []sent
	c.mu.Lock()
	q := c.out
	c.out = nil
	c.mu.Unlock()
	for _, b := range q {
		var s sent
		if err := json.Unmarshal(b, &s); err != nil || s.Type == "" {
			t.Fatalf("server sent %q: not a JSON object with a type (%v)", b, err)
		}
		s.raw = b
		out = append(out, s)
	}
	return out
}

// envelopeType is how the protocol reads a frame's type: "" when the
// frame is not a JSON object with a string type.
func envelopeType(frame []byte) string {
	var env protocol.Envelope
	if json.Unmarshal(frame, &env) != nil {
		return ""
	}
	return env.Type
}

// unsolicited are messages a session sends by itself.
var unsolicited = map[string]bool{"candidate": true, "offer": true, "room_state": true, "active_speaker": true,
	"talk_time": true, "participant_updated": true, "participant_joined": true, "participant_left": true,
	"waiting_list": true, "track_published": true, "track_unpublished": true, "room_updated": true}

func isKnown(typ string) bool {
	_, ok := protocol.ClientMessages()[typ]
	return ok
}

// FuzzDispatch feeds arbitrary text frames through the message decoder
// and dispatcher, on a fresh connection and on a joined one. Whatever
// arrives, the server answers with JSON objects only, with documented
// error codes and never "internal"; it closes the socket exactly when a
// closing error or a bye says so; frames that are not JSON objects with a
// string type get bad_json and nothing else; unknown types get
// unknown_type; before join everything but join, ping and leave gets
// not_joined; and ping echoes its ts.
func FuzzDispatch(f *testing.F) {
	for _, s := range []string{
		`{"type":"join","version":1,"room":"tuesday-grief","name":"Ann"}`,
		`{"type":"join","version":2,"room":"r","name":"A"}`,
		`{"type":"join","room":"r","name":"A","token":"eyJhbGciOiJub25lIn0.e30."}`,
		`{"type":"offer","sdp":"v=0\r\n"}`, `{"type":"answer","sdp":"garbage"}`,
		`{"type":"candidate","candidate":{"candidate":"candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host","sdpMid":"0","sdpMLineIndex":0}}`,
		`{"type":"candidate","candidate":null}`, `{"type":"mute","kind":"audio","muted":true}`,
		`{"type":"mute","kind":"smell","muted":1}`, `{"type":"admit","participant":"*"}`,
		`{"type":"deny","participant":"p_00000000"}`, `{"type":"lock","locked":true}`, `{"type":"lock"}`,
		`{"type":"ping","ts":1732532400000}`, `{"type":"ping","ts":"soon"}`, `{"type":"leave"}`,
		`{"type":"mute_participant","participant":"p_1","kind":"audio","muted":true}`,
		`{"type":"mute_all","muted":true}`, `{"type":"set_policy","selfUnmute":false,"floorReturn":"x"}`,
		`{"type":"start_round","order":"roster"}`, `{"type":"remove","participant":"p_1","block":true}`,
		`{"type":"end_session"}`, `{"type":"shout"}`, `{"TYPE":"ping"}`, `{"type":7}`, `[]`, `null`, `"join"`,
		`{"type":""}`, `{"type":"ping","type":"join"}`, "{\"type\":\"\xff\xfe\"}",
		`{"type":"chat","to":"room","text":"hello"}`, `{"type":"chat","to":"facilitators","text":"\u0000"}`,
		`{"type":"chat","to":"p_1","text":["x"]}`, `{"type":"remove_chat","id":"m_0"}`, `{"type":"set_policy","chat":"off"}`,
	} {
		f.Add(false, []byte(s))
		f.Add(true, []byte(s))
	}
	h := newFuzzHarness(f)
	codes := documentedCodes(f)
	f.Fuzz(func(t *testing.T, join bool, frame []byte) {
		all, closed := h.run(t, join, frame)
		// A joined connection also gets what its session and peer
		// connection send on their own; only replies are checked below.
		var out []sent
		for _, s := range all {
			if !unsolicited[s.Type] {
				out = append(out, s)
			}
		}
		typ := envelopeType(frame)
		sawBye := false
		sawFatal, sawMaybe := false, false
		for _, s := range out {
			switch s.Type {
			case "error":
				rule, ok := codes[s.Code]
				if !ok || s.Code == "internal" || s.Message == "" {
					t.Fatalf("frame %q: error %s", frame, s.raw)
				}
				sawFatal = sawFatal || rule == alwaysCloses
				sawMaybe = sawMaybe || rule == mayClose
				if typ != "" && s.Ref != "" && !strings.HasPrefix(typ, s.Ref) && !strings.ContainsRune(s.Ref, '\uFFFD') {
					t.Fatalf("frame %q: ref %q is not its type", frame, s.Ref)
				}
			case "bye":
				sawBye = true
			}
		}
		if closed != (sawFatal || sawBye) && !sawMaybe {
			t.Fatalf("frame %q: closed=%v after %s", frame, closed, summary(out))
		}
		switch {
		case typ == "":
			if len(out) != 1 || out[0].Code != "bad_json" || closed {
				t.Fatalf("frame %q is not a typed JSON object; got %s", frame, summary(out))
			}
		case !isKnown(typ):
			if len(out) != 1 || out[0].Code != "unknown_type" {
				t.Fatalf("unknown type %q: got %s", typ, summary(out))
			}
		case typ == "ping":
			var p protocol.Ping
			if err := json.Unmarshal(frame, &p); err != nil {
				if len(out) != 1 || out[0].Code != "bad_request" {
					t.Fatalf("bad ping %q: got %s", frame, summary(out))
				}
			} else if len(out) != 1 || out[0].Type != "pong" || !reflect.DeepEqual(out[0].TS, p.TS) {
				t.Fatalf("ping %q: got %s", frame, summary(out))
			}
		case typ == "leave":
			if len(out) != 1 || out[0].Type != "bye" || out[0].Reason != "left" {
				t.Fatalf("leave: got %s", summary(out))
			}
		case !join && typ != "join":
			if len(out) != 1 || out[0].Code != "not_joined" {
				t.Fatalf("%q before join: got %s", frame, summary(out))
			}
		case join && typ == "join":
			if len(out) != 1 || (out[0].Code != "already_joined" && out[0].Code != "bad_request") {
				t.Fatalf("second join %q: got %s", frame, summary(out))
			}
		}
	})
}

func summary(out []sent) string {
	var b strings.Builder
	for _, s := range out {
		b.Write(s.raw)
		b.WriteString(" ")
	}
	return b.String()
}

// FuzzDecode feeds arbitrary bytes to every inbound message's decoder:
// each either fails with bad_request or decodes to a value that survives
// a JSON round trip unchanged.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"type":"join","version":1,"room":"r","name":"Ann","token":"t","passcode":"p"}`,
		`{"type":"offer","sdp":"v=0\r\n"}`,
		`{"type":"candidate","candidate":{"candidate":"candidate:1 1 udp 1 127.0.0.1 9 typ host","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"u"}}`,
		`{"kind":"audio","muted":false}`, `{"participant":"*"}`, `{"locked":true}`, `{"ts":-1}`,
		`{"participant":"p","kind":"video","muted":true,"mode":"moderated","seconds":60,"order":"join","block":true,"selfUnmute":true,"joinMuted":false,"floorReturn":"open"}`,
		`{"version":1e400}`, `{"ts":1.5}`, `{"muted":null}`, `{"sdpMLineIndex":70000}`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	decoders := []func() any{func() any { return &protocol.Envelope{} }}
	for _, mk := range protocol.ClientMessages() {
		decoders = append(decoders, mk)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, mk := range decoders {
			v := mk()
			if err := decode(data, v); err != nil {
				var pe *protoError
				if !errors.As(err, &pe) || pe.code != protocol.CodeBadRequest || pe.close {
					t.Fatalf("decode %q into %T: %v", data, v, err)
				}
				continue
			}
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("re-encode %T from %q: %v", v, data, err)
			}
			w := mk()
			if err := decode(b, w); err != nil {
				t.Fatalf("decode %q (re-encoded from %q) into %T: %v", b, data, w, err)
			}
			if !reflect.DeepEqual(v, w) {
				t.Fatalf("%T from %q: %+v, after a round trip %+v", v, data, v, w)
			}
		}
	})
}

// FuzzCheckOrigin: with no extra origins allowed, a browser may open the
// websocket only from the server's own origin, however the Origin header
// is written.
func FuzzCheckOrigin(f *testing.F) {
	for _, s := range []string{"", "https://hearth.example:8443", "https://HEARTH.example:8443", "https://evil.example",
		"https://hearth.example:8443@evil.example", "null", "https://hearth.example:8443.evil.example", "//hearth.example:8443",
		"https://evil.example/https://hearth.example:8443", "hearth.example:8443", "http://[::1]:80"} {
		f.Add(s)
	}
	s := New(Config{})
	f.Fuzz(func(t *testing.T, origin string) {
		r := httptest.NewRequest(http.MethodGet, "https://hearth.example:8443/ws", nil)
		r.Host = "hearth.example:8443"
		r.Header.Set("Origin", origin)
		ok := s.checkOrigin(r)
		if origin == "" {
			if !ok {
				t.Fatal("no Origin (not a browser) refused")
			}
			return
		}
		if !ok {
			return
		}
		// Accepted: the origin's host must be this server's (a browser
		// always sends a scheme; other clients need no Origin at all).
		scheme, rest, found := strings.Cut(origin, "//")
		if !found || !(scheme == "" || strings.HasSuffix(scheme, ":")) || strings.ContainsAny(scheme, "/?#@") {
			t.Fatalf("origin %q accepted", origin)
		}
		authority := rest
		if i := strings.IndexAny(rest, "/?#"); i >= 0 {
			authority = rest[:i]
		}
		host := authority[strings.LastIndex(authority, "@")+1:]
		if !strings.EqualFold(host, r.Host) {
			t.Fatalf("origin %q accepted for host %q", origin, r.Host)
		}
	})
}

// TestOriginNull: the opaque origin "null" (a sandboxed frame, a local
// file, a cross-origin redirect) is refused, even where any origin is
// allowed; a missing Origin is a client that is not a browser.
func TestOriginNull(t *testing.T) {
	for _, allowed := range [][]string{nil, {"*"}, {"null"}} {
		s := New(Config{AllowedOrigins: allowed})
		for origin, want := range map[string]bool{"null": false, "NULL": false, "": true, "https://hearth.example": true} {
			r := httptest.NewRequest(http.MethodGet, "https://hearth.example/ws", nil)
			if origin != "" {
				r.Header.Set("Origin", origin)
			}
			if got := s.checkOrigin(r); got != want {
				t.Errorf("allowed %q, Origin %q: accepted %v, want %v", allowed, origin, got, want)
			}
		}
	}
}
