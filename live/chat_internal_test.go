package live

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// chatRoom is who is seated in the chat tests: facilitator f,
// co-facilitator c, members m and n, observer o, and member a, whose
// connection dropped.
var chatRoom = []chatPerson{
	{id: "f", role: room.RoleFacilitator},
	{id: "c", role: room.RoleCoFacilitator},
	{id: "m", role: room.RoleMember},
	{id: "n", role: room.RoleMember},
	{id: "o", role: room.RoleObserver},
	{id: "a", role: room.RoleMember, away: true},
}

// TestChatAudience: for every sender, address and chat mode, exactly who
// gets the message, or the refusal. Nobody away gets anything, and a
// private message reaches the person and the facilitators only.
func TestChatAudience(t *testing.T) {
	const (
		fac    = "f c"
		all    = "f c m n o"
		refuse = "forbidden"
		bad    = "bad_request"
	)
	cases := []struct {
		from, to string
		off      bool
		want     string // recipients, or a refusal's code
	}{
		{"f", "room", false, all},
		{"f", "room", true, all},
		{"c", "room", true, all},
		{"m", "room", false, all},
		{"m", "room", true, refuse},
		{"o", "room", false, refuse},
		{"o", "room", true, refuse},

		{"m", "facilitators", false, "f c m"},
		{"m", "facilitators", true, "f c m"},
		{"o", "facilitators", true, "f c o"},
		{"f", "facilitators", false, fac},

		{"f", "m", false, "f c m"},
		{"c", "m", true, "f c m"},
		{"f", "o", false, "f c o"},
		{"f", "c", false, fac},
		{"m", "n", false, refuse},
		{"m", "f", false, refuse},
		{"o", "f", false, refuse},
		{"f", "f", false, bad},
		{"f", "a", false, bad},
		{"f", "gone", false, bad},
		{"m", "", false, bad},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s>%s off=%v", tc.from, tc.to, tc.off), func(t *testing.T) {
			mode := protocol.ChatOn
			if tc.off {
				mode = protocol.ChatOff
			}
			from := chatRoom[slices.IndexFunc(chatRoom, func(p chatPerson) bool { return p.id == tc.from })]
			got, err := chatAudience(from, tc.to, mode, chatRoom)
			if tc.want == refuse || tc.want == bad {
				var re *room.RefusedError
				if !errors.As(err, &re) || string(re.Code) != tc.want {
					t.Fatalf("got %v, %v; want a %s refusal", got, err, tc.want)
				}
				plain(t, re.Message)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			want := strings.Fields(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("audience %v, want %v", got, want)
			}
		})
	}
}

// TestChatNoFacilitator: with no facilitator present (or only away), a
// message to the facilitators is refused, not lost.
func TestChatNoFacilitator(t *testing.T) {
	seated := []chatPerson{
		{id: "f", role: room.RoleFacilitator, away: true},
		{id: "m", role: room.RoleMember},
	}
	_, err := chatAudience(seated[1], protocol.ChatToFacilitators, protocol.ChatOn, seated)
	if !errors.Is(err, room.ErrInvalid) {
		t.Fatalf("err = %v, want a refusal", err)
	}
	alone := []chatPerson{{id: "f", role: room.RoleFacilitator}}
	if _, err := chatAudience(alone[0], protocol.ChatToFacilitators, protocol.ChatOn, alone); !errors.Is(err, room.ErrInvalid) {
		t.Fatalf("a facilitator alone writing to the facilitators: err = %v", err)
	}
}

func plain(t *testing.T, msg string) {
	t.Helper()
	if msg == "" || !strings.HasSuffix(msg, ".") || strings.ContainsAny(msg, "{}*") || strings.Contains(msg, "live") {
		t.Errorf("refusal %q is not a plain sentence", msg)
	}
}

// TestChatText: line breaks kept, other control characters dropped,
// trimmed; empty and over-long texts refused with a sentence that quotes
// none of them.
func TestChatText(t *testing.T) {
	for in, want := range map[string]string{
		"  hello  ":                       "hello",
		"one\r\ntwo":                      "one\ntwo",
		"a\x00b\x1bc\u0085d":              "abcd",
		"tab\there":                       "tab\there",
		"👩‍👩‍👧 family":                    "👩‍👩‍👧 family",
		strings.Repeat("é", 1000):         strings.Repeat("é", 1000),
		"\n " + strings.Repeat("x", 1000): strings.Repeat("x", 1000),
	} {
		got, err := chatText(in)
		if err != nil || got != want {
			t.Errorf("chatText(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "   \n\t ", "\x00\x01", strings.Repeat("y", 1001), strings.Repeat("ü", 5000)} {
		_, err := chatText(in)
		var re *room.RefusedError
		if !errors.As(err, &re) || re.Code != room.CodeBadRequest {
			t.Errorf("chatText(%.20q…): %v, want bad_request", in, err)
			continue
		}
		plain(t, re.Message)
		if strings.Contains(re.Message, "yyy") || strings.Contains(re.Message, "üüü") {
			t.Errorf("refusal quotes the text: %q", re.Message)
		}
	}
	_, err := chatText(strings.Repeat("z", 12345))
	if err == nil || !strings.Contains(err.Error(), "at most 1,000 characters; this one has 12,345.") {
		t.Errorf("long text: %v", err)
	}
}

// TestChatBucket: a burst, then the rate; time refills it, never beyond
// the burst, and a clock that steps back takes nothing.
func TestChatBucket(t *testing.T) {
	var b chatBucket
	t0 := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	for i := range chatBurst {
		if !b.allow(t0) {
			t.Fatalf("message %d of the burst refused", i+1)
		}
	}
	if b.allow(t0) {
		t.Fatal("a message beyond the burst allowed")
	}
	if b.allow(t0.Add(-time.Hour)) {
		t.Fatal("a clock stepping back refilled the bucket")
	}
	half := time.Second / chatRate
	if !b.allow(t0.Add(half)) || b.allow(t0.Add(half)) {
		t.Fatal("the rate does not allow exactly one message per interval")
	}
	later := t0.Add(time.Hour)
	n := 0
	for b.allow(later) {
		n++
	}
	if n != chatBurst {
		t.Fatalf("after an hour %d messages allowed at once, want the burst of %d", n, chatBurst)
	}
}

// TestChatLog: the log keeps the last chatLogSize entries, each removable
// once, and never more.
func TestChatLog(t *testing.T) {
	var l chatLog
	for i := range chatLogSize + 10 {
		l.add(chatEntry{id: fmt.Sprint("m", i), from: fmt.Sprint("p", i%3), room: i%2 == 0, to: []string{"x"}})
	}
	any := func(chatEntry) bool { return true }
	if _, ok, _ := l.take("m5", any); ok {
		t.Error("an entry older than the log's size is still there")
	}
	if _, found, taken := l.take("m10", func(e chatEntry) bool { return e.from == "p0" }); !found || taken {
		t.Errorf("m10, sent by p1, taken for p0: found %v, taken %v", found, taken)
	}
	e, ok, taken := l.take("m10", func(e chatEntry) bool { return e.from == "p1" })
	if !ok || !taken || e.id != "m10" || !e.room {
		t.Errorf("take(m10) = %+v, %v, %v", e, ok, taken)
	}
	if _, ok, _ := l.take("m10", any); ok {
		t.Error("an entry was taken twice")
	}
	if _, ok, _ := l.take(fmt.Sprint("m", chatLogSize+9), any); !ok {
		t.Error("the newest entry is missing")
	}
	if _, ok, _ := l.take("", any); ok {
		t.Error("an empty id found an entry")
	}
}

// TestChatPolicy: chat is on unless a facilitator turns it off, with
// set_policy's "chat", which takes "on" or "off" only.
func TestChatPolicy(t *testing.T) {
	c := NewControls(ControlsConfig{})
	c.Seat(room.Participant{ID: "f", Identity: "fran", Role: room.RoleFacilitator})
	if got := c.Snapshot().Policy.Chat; got != protocol.ChatOn {
		t.Fatalf("chat starts %q", got)
	}
	bad := protocol.ChatMode("maybe")
	if _, err := c.Apply(Command{Kind: protocol.CmdSetPolicy, By: "f", Policy: PolicyPatch{Chat: &bad}}); !errors.Is(err, room.ErrInvalid) {
		t.Fatalf("chat %q: %v", bad, err)
	}
	off := protocol.ChatOff
	st, err := c.Apply(Command{Kind: protocol.CmdSetPolicy, By: "f", Policy: PolicyPatch{Chat: &off}})
	if err != nil || st.Policy.Chat != protocol.ChatOff || st.Change == nil || st.Change.Kind != protocol.CmdSetPolicy {
		t.Fatalf("chat off: %+v, %v", st.Policy, err)
	}
}
