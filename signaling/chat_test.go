package signaling_test

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// Chat through the real server with real clients: who gets each message,
// removal, chat off, the limits, and that nothing of it stays.

// chatJoin joins identity with role, sending no media, and waits for its
// first room_state.
func chatJoin(t *testing.T, srv *hearthtest.Server, roomName, identity string, role room.Role) *client.Client {
	t.Helper()
	c := dial(t, srv, client.Options{Room: roomName, Name: identity, Token: ctlToken(t, roomName, identity, role)})
	if err := c.Join(); err != nil {
		t.Fatal(err)
	}
	ctlWaitState(t, c, func(st protocol.RoomState) bool { return ctlFind(st, c.ID()) != nil })
	return c
}

// chatsOf returns the chat messages c received, in order.
func chatsOf(c *client.Client) []protocol.Chat {
	var out []protocol.Chat
	for _, m := range c.Messages() {
		var v protocol.Chat
		if m.Type == "chat" && m.Decode(&v) == nil {
			out = append(out, v)
		}
	}
	return out
}

// chatSay sends a message from `from` and returns it as the server
// delivered it back to the sender; then everything the server queued for
// everyone in all has reached them (a ping's pong follows it), so that
// what they did not get, they will not get.
func chatSay(t *testing.T, all map[string]*client.Client, from *client.Client, to, text string) protocol.Chat {
	t.Helper()
	ctlSend(t, from, map[string]any{"type": "chat", "to": to, "text": text})
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	var got protocol.Chat
	if _, err := from.WaitMessage(ctx, "chat", func(m client.Message) bool {
		return m.Decode(&got) == nil && got.Text == text
	}); err != nil {
		t.Fatalf("%s: its message to %s did not come back: %v; got %v", from.ID(), to, err, types(from))
	}
	chatSettle(t, all, from)
	return got
}

// chatSettle makes sure that what the server did on from's messages so
// far has reached everyone in all.
func chatSettle(t *testing.T, all map[string]*client.Client, from *client.Client) {
	t.Helper()
	ctlSync(t, from) // from's messages are handled in order: its chat is done
	for _, c := range all {
		ctlSync(t, c)
	}
}

// chatExpect checks that exactly the clients named in want (by their keys
// in all) got one message with text, and nobody else got it.
func chatExpect(t *testing.T, all map[string]*client.Client, text, want string) {
	t.Helper()
	names := strings.Fields(want)
	for name, c := range all {
		n := 0
		for _, m := range chatsOf(c) {
			if m.Text == text {
				n++
			}
		}
		if w := map[bool]int{true: 1}[slices.Contains(names, name)]; n != w {
			t.Errorf("%q: %s got it %d times, want %d", text, name, n, w)
		}
	}
}

// chatError sends a chat frame and returns the error it gets.
func chatError(t *testing.T, c *client.Client, msg map[string]any, code string) errorReply {
	t.Helper()
	e := sendAndWaitError(t, c, frame(msg))
	checkPlain(t, e, code)
	if e.Ref != msg["type"] {
		t.Errorf("error ref %q, want %q", e.Ref, msg["type"])
	}
	return e
}

// TestChatReachesOnlyItsPeople: a message to the room reaches everyone
// seated; one to the facilitators reaches them and the sender; a
// facilitator's private message reaches that person and the facilitators;
// nobody else gets a single one. Someone in the waiting room gets nothing
// and cannot write; when let in, they see nothing said before.
func TestChatReachesOnlyItsPeople(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	createRoom(t, srv, room.RoomConfig{Name: "chat-circle", Kind: room.KindOpen, Capacity: 10})
	f := chatJoin(t, srv, "chat-circle", "fran", room.RoleFacilitator)
	co := chatJoin(t, srv, "chat-circle", "cody", room.RoleCoFacilitator)
	m := chatJoin(t, srv, "chat-circle", "milo", room.RoleMember)
	n := chatJoin(t, srv, "chat-circle", "nina", room.RoleMember)
	o := chatJoin(t, srv, "chat-circle", "otto", room.RoleObserver)
	ctlSend(t, f, map[string]any{"type": "lock", "locked": true})
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	if _, err := f.WaitMessage(ctx, "room_updated", nil); err != nil {
		t.Fatal(err)
	}
	w := joinWith(t, srv, client.Options{Room: "chat-circle", Name: "wren", Token: ctlToken(t, "chat-circle", "wren", room.RoleMember)})
	if _, err := w.WaitMessage(ctx, "waiting", nil); err != nil {
		t.Fatalf("wren does not wait: %v; got %v", err, types(w))
	}
	all := map[string]*client.Client{"f": f, "co": co, "m": m, "n": n, "o": o, "w": w}

	sent := []protocol.Chat{
		chatSay(t, all, m, "room", "Hello everyone."),
		chatSay(t, all, m, "facilitators", "My microphone is not working."),
		chatSay(t, all, o, "facilitators", "I am observing today."),
		chatSay(t, all, f, n.ID(), "Would you like to share today?"),
		chatSay(t, all, co, "facilitators", "Between the two of us."),
	}
	chatExpect(t, all, "Hello everyone.", "f co m n o")
	chatExpect(t, all, "My microphone is not working.", "f co m")
	chatExpect(t, all, "I am observing today.", "f co o")
	chatExpect(t, all, "Would you like to share today?", "f co n")
	chatExpect(t, all, "Between the two of us.", "f co")
	ids := map[string]bool{}
	for i, c := range sent {
		from := []*client.Client{m, m, o, f, co}[i]
		to := []string{"room", "facilitators", "facilitators", n.ID(), "facilitators"}[i]
		if _, err := time.Parse(time.RFC3339, c.Time); err != nil || c.From != from.ID() || c.To != to ||
			!strings.HasPrefix(c.ID, "m_") || ids[c.ID] || c.Name == "" {
			t.Errorf("message %d as delivered: %+v", i, c)
		}
		ids[c.ID] = true
	}
	if len(chatsOf(w)) != 0 {
		t.Fatalf("someone waiting got chat: %+v", chatsOf(w))
	}

	// Waiting, wren cannot write.
	chatError(t, w, map[string]any{"type": "chat", "to": "room", "text": "Can anyone hear me?"}, "waiting")
	chatSettle(t, all, w)
	chatExpect(t, all, "Can anyone hear me?", "")

	// Let in, wren sees nothing said before, and what is said now.
	ctlSend(t, f, map[string]any{"type": "admit", "participant": "*"})
	ctlWaitState(t, w, func(st protocol.RoomState) bool { return ctlFind(st, w.ID()) != nil })
	chatSettle(t, all, f)
	if got := chatsOf(w); len(got) != 0 {
		t.Fatalf("a late arrival got earlier messages: %+v", got)
	}
	chatSay(t, all, f, "room", "Welcome, Wren.")
	chatExpect(t, all, "Welcome, Wren.", "f co m n o w")
}

// TestChatRemoveAndOff: facilitators remove any message and others their
// own, once, and everyone who got it is told; chat off stops members writing to the
// room, not to the facilitators, and not the facilitators.
func TestChatRemoveAndOff(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	createRoom(t, srv, room.RoomConfig{Name: "chat-off", Kind: room.KindOpen, Capacity: 10})
	f := chatJoin(t, srv, "chat-off", "fran", room.RoleFacilitator)
	co := chatJoin(t, srv, "chat-off", "cody", room.RoleCoFacilitator)
	m := chatJoin(t, srv, "chat-off", "milo", room.RoleMember)
	o := chatJoin(t, srv, "chat-off", "otto", room.RoleObserver)
	all := map[string]*client.Client{"f": f, "co": co, "m": m, "o": o}
	removed := func(c *client.Client, id string) int {
		k := 0
		for _, msg := range c.Messages() {
			var v protocol.ChatRemoved
			if msg.Type == "chat_removed" && msg.Decode(&v) == nil && v.ID == id {
				k++
			}
		}
		return k
	}

	// The sender removes their own message; nobody else but facilitators.
	mine := chatSay(t, all, m, "room", "Wrong room, sorry.")
	chatError(t, o, map[string]any{"type": "remove_chat", "id": mine.ID}, "forbidden")
	ctlSend(t, m, map[string]any{"type": "remove_chat", "id": mine.ID})
	chatSettle(t, all, m)
	for name, c := range all {
		if removed(c, mine.ID) != 1 {
			t.Errorf("%s was not told once of the sender's removal: %v", name, types(c))
		}
	}

	hello := chatSay(t, all, co, "room", "Something I regret writing.")
	chatError(t, m, map[string]any{"type": "remove_chat", "id": hello.ID}, "forbidden")
	chatError(t, o, map[string]any{"type": "remove_chat", "id": hello.ID}, "forbidden")
	ctlSend(t, f, map[string]any{"type": "remove_chat", "id": hello.ID})
	chatSettle(t, all, f)
	for name, c := range all {
		if removed(c, hello.ID) != 1 {
			t.Errorf("%s was not told once of the removal: %v", name, types(c))
		}
	}
	chatError(t, co, map[string]any{"type": "remove_chat", "id": hello.ID}, "bad_request")
	chatError(t, co, map[string]any{"type": "remove_chat"}, "bad_request")

	private := chatSay(t, all, f, m.ID(), "A word just for you.")
	ctlSend(t, co, map[string]any{"type": "remove_chat", "id": private.ID})
	chatSettle(t, all, co)
	for name, c := range all {
		if want := map[bool]int{true: 1}[name != "o"]; removed(c, private.ID) != want {
			t.Errorf("%s told of a private message's removal %d times, want %d", name, removed(c, private.ID), want)
		}
	}

	chatError(t, m, map[string]any{"type": "set_policy", "chat": "off"}, "forbidden")
	chatError(t, f, map[string]any{"type": "set_policy", "chat": "maybe"}, "bad_request")
	ctlSend(t, f, map[string]any{"type": "set_policy", "chat": "off"})
	ctlWaitState(t, m, func(st protocol.RoomState) bool { return st.Policy.Chat == protocol.ChatOff })
	e := chatError(t, m, map[string]any{"type": "chat", "to": "room", "text": "Is chat off?"}, "forbidden")
	if !strings.Contains(e.Message, "facilitators") {
		t.Errorf("the refusal does not say where one can still write: %q", e.Message)
	}
	chatError(t, o, map[string]any{"type": "chat", "to": "room", "text": "An observer's word."}, "forbidden")
	chatError(t, m, map[string]any{"type": "chat", "to": o.ID(), "text": "Just to you."}, "forbidden")
	chatSay(t, all, m, "facilitators", "I still reach you.")
	chatSay(t, all, co, "room", "A five-minute pause.")
	chatExpect(t, all, "Is chat off?", "")
	chatExpect(t, all, "I still reach you.", "f co m")
	chatExpect(t, all, "A five-minute pause.", "f co m o")

	ctlSend(t, f, map[string]any{"type": "set_policy", "chat": "on"})
	ctlWaitState(t, m, func(st protocol.RoomState) bool { return st.Policy.Chat == protocol.ChatOn })
	chatSay(t, all, m, "room", "Back again.")
	chatExpect(t, all, "Back again.", "f co m o")
}

// TestChatLimits: empty, over-long and misaddressed messages get a plain
// error quoting none of the text; a burst gets rate_limited and the socket
// stays; once the allowance refills the person writes again.
func TestChatLimits(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	createRoom(t, srv, room.RoomConfig{Name: "chat-limits", Kind: room.KindOpen, Capacity: 10})
	f := chatJoin(t, srv, "chat-limits", "fran", room.RoleFacilitator)
	m := chatJoin(t, srv, "chat-limits", "milo", room.RoleMember)
	all := map[string]*client.Client{"f": f, "m": m}

	long := strings.Repeat("word ", 201) // 1,004 characters, 1,004 once trimmed
	for _, tc := range []struct {
		from *client.Client
		msg  map[string]any
	}{
		{m, map[string]any{"type": "chat", "to": "room", "text": "  \n\t "}},
		{m, map[string]any{"type": "chat", "to": "room"}},
		{m, map[string]any{"type": "chat", "to": "room", "text": long}},
		{m, map[string]any{"type": "chat", "text": "Whom is this for?"}},
		{m, map[string]any{"type": "chat", "to": "room", "text": 42}},
		{f, map[string]any{"type": "chat", "to": "p_nobody", "text": "Hello?"}},
		{f, map[string]any{"type": "chat", "to": f.ID(), "text": "To myself."}},
		{f, map[string]any{"type": "chat", "to": "facilitators", "text": "Anyone?"}},
	} {
		e := chatError(t, tc.from, tc.msg, "bad_request")
		if strings.Contains(e.Message, "word word") {
			t.Errorf("the refusal quotes the text: %q", e.Message)
		}
	}
	e := chatError(t, m, map[string]any{"type": "chat", "to": "room", "text": long}, "bad_request")
	if !strings.Contains(e.Message, "1,000") {
		t.Errorf("an over-long message's refusal does not say the limit: %q", e.Message)
	}
	full := strings.Repeat("é", protocol.MaxChatChars)
	if got := chatSay(t, all, m, "room", full); got.Text != full {
		t.Errorf("a message of exactly the limit arrived as %d characters", len([]rune(got.Text)))
	}

	// A burst: the allowance runs out long before 40 messages, whatever
	// the machine's pace.
	before := len(m.Messages())
	for i := range 40 {
		ctlSend(t, m, map[string]any{"type": "chat", "to": "room", "text": fmt.Sprint("Burst ", i)})
	}
	ctlSync(t, m)
	var limited []errorReply
	for _, msg := range m.Messages()[before:] {
		var e errorReply
		if msg.Type == "error" && msg.Decode(&e) == nil {
			checkPlain(t, e, "rate_limited")
			limited = append(limited, e)
		}
	}
	if len(limited) == 0 {
		t.Fatal("40 chat messages at once: none refused")
	}
	if limited[0].Ref != "chat" {
		t.Errorf("rate_limited ref %q", limited[0].Ref)
	}
	// The socket stays, and the person writes again once the allowance
	// refills (refused messages cost nothing). Tries are paced well under
	// the connection's own limit.
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		text := fmt.Sprint("After the burst ", i)
		ctlSend(t, m, map[string]any{"type": "chat", "to": "room", "text": text})
		ctlSync(t, m)
		if slices.ContainsFunc(chatsOf(m), func(c protocol.Chat) bool { return c.Text == text }) {
			break
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatal("the chat allowance never refilled")
		}
	}
}

// TestChatLeavesNoTrace: at the most verbose level, the server's logs hold
// nothing of what was written, whether delivered, refused or removed.
func TestChatLeavesNoTrace(t *testing.T) {
	var logs syncBuffer
	srv := hearthtest.Start(t, hearthtest.Options{
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	createRoom(t, srv, room.RoomConfig{Name: "chat-trace", Kind: room.KindOpen, Capacity: 10})
	f := chatJoin(t, srv, "chat-trace", "fran", room.RoleFacilitator)
	m := chatJoin(t, srv, "chat-trace", "milo", room.RoleMember)
	o := chatJoin(t, srv, "chat-trace", "otto", room.RoleObserver)
	all := map[string]*client.Client{"f": f, "m": m, "o": o}

	const secret = "Quillfeather"
	said := chatSay(t, all, m, "room", "My sister "+secret+" died in March.")
	chatSay(t, all, m, "facilitators", secret+" is the name I use at home.")
	chatSay(t, all, f, m.ID(), "Thank you for telling us about "+secret+".")
	chatSay(t, all, o, "facilitators", "Observer notes on "+secret+".")
	ctlSend(t, f, map[string]any{"type": "remove_chat", "id": said.ID})
	chatError(t, m, map[string]any{"type": "chat", "to": "room", "text": strings.Repeat(secret, 100)}, "bad_request")
	chatError(t, o, map[string]any{"type": "chat", "to": "room", "text": secret}, "forbidden")
	chatError(t, m, map[string]any{"type": "chat", "to": secret, "text": secret}, "forbidden")
	chatError(t, m, map[string]any{"type": "remove_chat", "id": secret}, "forbidden")
	chatError(t, f, map[string]any{"type": "remove_chat", "id": secret}, "bad_request")
	_ = m.SendRaw(1, []byte(`{"type":"chat","to":"room","text":["`+secret+`"]}`))
	waitError(t, m, "bad_request")
	chatSettle(t, all, f)
	m.Close()
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	if _, err := f.WaitMessage(ctx, "participant_left", nil); err != nil {
		t.Fatal(err)
	}

	out := logs.String()
	if !strings.Contains(out, "milo") {
		t.Fatalf("the logs are empty or name nobody:\n%s", out)
	}
	if strings.Contains(strings.ToLower(out), strings.ToLower(secret)) {
		t.Errorf("the logs hold chat text:\n%s", out)
	}
}
