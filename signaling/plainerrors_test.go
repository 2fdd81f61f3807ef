package signaling_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/room"
)

// errorReply is an error message as a client receives it.
type errorReply struct {
	Code, Message, Ref string
}

// internalWords must never reach a person: Go, JSON decoder and library
// internals, and the grammar of a template filled with a role.
var internalWords = []string{"json:", "struct", "go ", "golang", "unmarshal", "unifiedplan", "planb", "sfu:", "room:",
	"pion", "webrtc", "msg", "<nil>", "%!", "invalid character", "a observer", "a co-facilitator may not",
	"icecandidateinit", "rtcerr", "typeerror", "error:"}

// goPath matches a dotted path such as a Go struct field ("joinMsg.room").
var goPath = regexp.MustCompile(`\w\.\w`)

// maxMessage is the longest error message a person should have to read.
const maxMessage = 160

// checkPlain fails unless e has the code and a short sentence for people
// that names nothing internal and does not echo the input.
func checkPlain(t *testing.T, e errorReply, code string) {
	t.Helper()
	if e.Code != code {
		t.Errorf("code %q (%q), want %q", e.Code, e.Message, code)
	}
	m := e.Message
	if m == "" || len(m) > maxMessage {
		t.Errorf("message %q: want a sentence of 1-%d bytes", m, maxMessage)
		return
	}
	if r, _ := utf8.DecodeRuneInString(m); !unicode.IsUpper(r) || !strings.ContainsAny(m[len(m)-1:], ".?!") {
		t.Errorf("message %q is not a sentence (capital first, full stop last)", m)
	}
	lower := strings.ToLower(m)
	for _, w := range internalWords {
		if strings.Contains(lower, w) {
			t.Errorf("message %q says %q", m, w)
		}
	}
	if p := goPath.FindString(m); p != "" {
		t.Errorf("message %q has a dotted path (%q)", m, p)
	}
	if len(e.Ref) > 64 {
		t.Errorf("ref is %d bytes, want at most 64", len(e.Ref))
	}
}

// sendAndWaitError sends a frame and returns the first error that
// arrives after it.
func sendAndWaitError(t *testing.T, c *client.Client, frame string) errorReply {
	t.Helper()
	before := len(c.Messages())
	if err := c.SendRaw(websocket.TextMessage, []byte(frame)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got errorReply
	err := c.Wait(ctx, func() bool {
		for _, m := range c.Messages()[before:] {
			if m.Type == "error" && m.Decode(&got) == nil {
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("no error for %.80q: %v; messages %v", frame, err, types(c)[before:])
	}
	return got
}

func frame(v map[string]any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// planB turns an offer into Plan B: a second track in its first audio
// section.
func planB(sdp string) string {
	i := strings.Index(sdp, "m=audio")
	end := strings.Index(sdp[i:], "\r\nm=")
	extra := "a=ssrc:4242 cname:other\r\na=ssrc:4242 msid:other other-audio\r\n"
	if end < 0 {
		return sdp + extra
	}
	at := i + end + 2
	return sdp[:at] + extra + sdp[at:]
}

// TestErrorsArePlain provokes every kind of error a client can cause and
// checks each answer: the stable code, and a short sentence a person can
// read that names no Go type, field path or library and quotes at most an
// excerpt of the input. The connections stay usable.
func TestErrorsArePlain(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	fac := ctlJoin(t, srv, "plain", "dr-lee", room.RoleFacilitator, false)
	mem := ctlJoin(t, srv, "plain", "client-01", room.RoleMember, false)
	obs := ctlJoin(t, srv, "plain", "trainee", room.RoleObserver, false)
	// Both have answered the offers that carry each other's audio: the
	// member's connection is stable, so its offer below is not a collision.
	for _, c := range [][2]*client.Client{{fac, mem}, {mem, fac}} {
		sub, pub := c[0], c[1]
		if err := sub.Wait(ctx, func() bool { return ctlCount(sub, pub, "audio") > 10 }); err != nil {
			t.Fatalf("no audio between facilitator and member: %v", err)
		}
	}

	createRoom(t, srv, room.RoomConfig{Name: "knock", Kind: room.KindOpen, Capacity: 5, Knock: true})
	waiting := joinWith(t, srv, client.Options{Room: "knock", Audio: true,
		Token: token(t, "knock", "client-02", "Sol", room.RoleMember, time.Hour, time.Now())})
	if _, err := waiting.WaitMessage(ctx, "waiting", nil); err != nil {
		t.Fatal(err)
	}
	fresh := dial(t, srv, client.Options{Room: "plain", Name: "Eve"})

	huge := strings.Repeat("x", 100<<10)
	hostCandidate := "candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host"
	offer, err := mem.PC().CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name  string
		c     *client.Client
		frame string
		code  string
		says  string // a word the message must contain, if any
	}{
		{"bad json", fresh, `{"type": "join",`, "bad_json", ""},
		{"not an object", fresh, `[1, 2, 3]`, "bad_json", ""},
		{"wrong field type", fresh, `{"type": "join", "room": 7}`, "bad_request", `"room"`},
		{"wrong version type", fresh, `{"type": "join", "version": "one", "room": "plain", "name": "Eve"}`, "bad_request", `"version"`},
		{"huge unknown type", fresh, frame(map[string]any{"type": huge}), "unknown_type", ""},
		{"huge room name", fresh, frame(map[string]any{"type": "join", "room": huge, "name": "Eve"}), "bad_request", ""},
		{"offer before join", fresh, `{"type": "offer", "sdp": "v=0"}`, "not_joined", ""},
		{"control before join", fresh, `{"type": "raise_hand"}`, "not_joined", ""},

		{"offer while waiting", waiting, `{"type": "offer", "sdp": "v=0"}`, "waiting", "waiting room"},
		{"candidate while waiting", waiting, frame(map[string]any{"type": "candidate",
			"candidate": map[string]any{"candidate": hostCandidate, "sdpMid": "0"}}), "waiting", ""},
		{"mute while waiting", waiting, `{"type": "mute", "kind": "audio", "muted": true}`, "waiting", ""},
		{"hand while waiting", waiting, `{"type": "raise_hand"}`, "waiting", ""},
		{"admit while waiting", waiting, `{"type": "admit", "participant": "*"}`, "waiting", ""},

		{"number out of range", mem, `{"type": "ping", "ts": 1e30}`, "bad_request", `"ts"`},
		{"text for a number", mem, `{"type": "ping", "ts": "soon"}`, "bad_request", `"ts"`},
		{"nested field type", mem, frame(map[string]any{"type": "candidate",
			"candidate": map[string]any{"candidate": hostCandidate, "sdpMLineIndex": "zero"}}), "bad_request", `"sdpMLineIndex"`},
		{"huge candidate", mem, frame(map[string]any{"type": "candidate",
			"candidate": map[string]any{"candidate": "candidate:" + huge, "sdpMid": "0"}}), "bad_candidate", ""},
		{"unknown sdpMid", mem, frame(map[string]any{"type": "candidate",
			"candidate": map[string]any{"candidate": hostCandidate, "sdpMid": "nope", "sdpMLineIndex": 0}}), "bad_candidate", "media section"},
		{"unknown sdpMLineIndex", mem, frame(map[string]any{"type": "candidate",
			"candidate": map[string]any{"candidate": hostCandidate, "sdpMLineIndex": 99}}), "bad_candidate", "media section"},
		{"garbage candidate", mem, frame(map[string]any{"type": "candidate",
			"candidate": map[string]any{"candidate": "candidate:garbage", "sdpMid": "0"}}), "bad_candidate", ""},
		{"answer without offer", mem, `{"type": "answer", "sdp": "v=0\r\n"}`, "bad_sdp", ""},
		{"garbage sdp", mem, `{"type": "offer", "sdp": "this is not sdp"}`, "bad_sdp", ""},
		{"plan b sdp", mem, frame(map[string]any{"type": "offer", "sdp": planB(offer.SDP)}), "bad_sdp", ""},
		{"bad mute", mem, `{"type": "mute", "kind": "smell", "muted": true}`, "bad_request", ""},
		{"member mutes the facilitator", mem, frame(map[string]any{"type": "mute_participant", "participant": fac.ID(),
			"kind": "audio", "muted": true}), "forbidden", ""},
		{"member gives the floor", mem, `{"type": "give_floor"}`, "forbidden", ""},
		{"member locks", mem, `{"type": "lock", "locked": true}`, "forbidden", ""},
		{"pass without a round", mem, `{"type": "pass"}`, "bad_request", ""},

		{"observer mutes itself", obs, `{"type": "mute", "kind": "audio", "muted": true}`, "forbidden", ""},
		{"observer raises a hand", obs, `{"type": "raise_hand"}`, "forbidden", "observer"},
		{"observer asks to speak", obs, `{"type": "request_unmute", "kind": "audio"}`, "forbidden", ""},
		{"observer mutes someone", obs, frame(map[string]any{"type": "mute_participant", "participant": mem.ID(),
			"kind": "audio", "muted": true}), "forbidden", ""},

		{"floor to a huge id", fac, frame(map[string]any{"type": "give_floor", "participant": "p_" + huge}), "bad_request", ""},
		{"mute an observer", fac, frame(map[string]any{"type": "mute_participant", "participant": obs.ID(),
			"kind": "audio", "muted": true}), "bad_request", "observer"},
		{"aside with an observer", fac, frame(map[string]any{"type": "start_aside", "participant": obs.ID()}), "bad_request", "observer"},
		{"bad floor mode", fac, `{"type": "set_floor_mode", "mode": "sideways"}`, "bad_request", ""},
		{"long timer", fac, `{"type": "set_timer", "seconds": 99999}`, "bad_request", ""},
		{"remove oneself", fac, frame(map[string]any{"type": "remove", "participant": fac.ID()}), "bad_request", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := sendAndWaitError(t, tc.c, tc.frame)
			t.Logf("%s: %s", e.Code, e.Message)
			checkPlain(t, e, tc.code)
			if tc.says != "" && !strings.Contains(e.Message, tc.says) {
				t.Errorf("message %q does not mention %s", e.Message, tc.says)
			}
		})
	}

	// Unknown fields are ignored, and every connection that erred is
	// still open and answers.
	for _, c := range []*client.Client{fresh, waiting, mem, obs, fac} {
		before := len(c.Messages())
		if err := c.SendRaw(websocket.TextMessage, []byte(`{"type": "ping", "ts": 5, "later": {"field": true}}`)); err != nil {
			t.Fatal(err)
		}
		if _, err := c.WaitMessage(ctx, "pong", nil); err != nil {
			t.Fatalf("no pong after the errors: %v", err)
		}
		for _, m := range c.Messages()[before:] {
			if m.Type == "error" {
				t.Errorf("a ping with an unknown field got %s", m.Raw)
			}
		}
	}
}
