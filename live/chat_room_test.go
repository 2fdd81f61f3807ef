package live_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hearth-rtc/hearth/live"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// chats returns the chat messages c received.
func chats(t *testing.T, c *conn) []protocol.Chat {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []protocol.Chat
	for _, m := range c.msgs {
		if m.Type == "chat" {
			var v protocol.Chat
			if err := json.Unmarshal(m.raw, &v); err != nil {
				t.Fatal(err)
			}
			out = append(out, v)
		}
	}
	return out
}

// TestRoomChat: a room's chat reaches exactly the people seated whom the
// rules name; someone waiting and someone whose connection dropped get
// nothing, and whoever arrives later gets nothing said before. Removal
// reaches those who got the message, once; chat off keeps members from
// the room but not from the facilitators; a burst is cut short.
func TestRoomChat(t *testing.T) {
	n := newNode(t, live.Config{})
	n.create(room.RoomConfig{Name: "circle", Kind: room.KindOpen, Knock: true, Capacity: 10})
	f := n.join("circle", "fran", room.RoleFacilitator)
	co := n.join("circle", "cody", room.RoleCoFacilitator)
	admitted := func(identity string, role room.Role) person {
		x := n.join("circle", identity, role)
		if err := f.apply(n.ctx, live.Command{Kind: protocol.CmdAdmit, Participant: x.p.ID}); err != nil {
			t.Fatal(err)
		}
		return x
	}
	m, o, d := admitted("milo", room.RoleMember), admitted("otto", room.RoleObserver), admitted("dora", room.RoleMember)
	w := n.join("circle", "wren", room.RoleMember) // waits
	if !w.c.has("waiting") {
		t.Fatalf("wren: %v", w.c.types())
	}
	if !d.room.Drop(d.p.ID, d.c) { // dora's connection drops: her seat is held
		t.Fatal("dora's seat is not held")
	}
	everyone := []person{f, co, m, o, d, w}
	send := func(from person, to, text string) error {
		return from.room.Chat(from.p.ID, from.c, to, text)
	}
	// expect checks who got a message with text: exactly want.
	expect := func(text string, want ...person) {
		t.Helper()
		for _, x := range everyone {
			got := 0
			for _, c := range chats(t, x.c) {
				if c.Text == text {
					got++
				}
			}
			if wanted := containsPerson(want, x); got != map[bool]int{true: 1, false: 0}[wanted] {
				t.Errorf("%q: %s got it %d times", text, x.p.Identity, got)
			}
		}
	}

	if err := send(m, protocol.ChatToRoom, "hello all"); err != nil {
		t.Fatal(err)
	}
	expect("hello all", f, co, m, o)
	if err := send(m, protocol.ChatToFacilitators, "my mic is broken"); err != nil {
		t.Fatal(err)
	}
	expect("my mic is broken", f, co, m)
	if err := send(o, protocol.ChatToFacilitators, "observer here"); err != nil {
		t.Fatal(err)
	}
	expect("observer here", f, co, o)
	if err := send(f, m.p.ID, "are you all right?"); err != nil {
		t.Fatal(err)
	}
	expect("are you all right?", f, co, m)
	for _, c := range chats(t, m.c) {
		if c.Text == "are you all right?" && (c.From != f.p.ID || c.Name != "Name fran" || c.To != m.p.ID || c.ID == "" || c.Time == "") {
			t.Errorf("the private message as delivered: %+v", c)
		}
	}
	for _, x := range []person{w, d} {
		if err := send(x, protocol.ChatToRoom, "from outside"); !errors.Is(err, live.ErrWaiting) && !errors.Is(err, live.ErrNotSeated) {
			t.Errorf("%s, not active, sends: %v", x.p.Identity, err)
		}
	}
	if err := send(f, d.p.ID, "to a dropped seat"); !errors.Is(err, room.ErrInvalid) {
		t.Errorf("to someone reconnecting: %v", err)
	}
	expect("from outside")

	// A late arrival gets nothing said before.
	if err := f.apply(n.ctx, live.Command{Kind: protocol.CmdAdmit, Participant: w.p.ID}); err != nil {
		t.Fatal(err)
	}
	if got := chats(t, w.c); len(got) != 0 {
		t.Fatalf("a late arrival got earlier messages: %+v", got)
	}

	// Removal: a member may not remove others' messages; a facilitator
	// removes a room message for everyone here and a private one for those
	// who got it, once.
	var hello, private protocol.Chat
	for _, c := range chats(t, m.c) {
		switch c.Text {
		case "hello all":
			hello = c
		case "are you all right?":
			private = c
		}
	}
	if err := m.room.RemoveChat(m.p.ID, m.c, "m_unknown"); !errors.Is(err, room.ErrForbidden) {
		t.Fatalf("a member removes an unknown message: %v", err)
	}
	if err := m.room.RemoveChat(m.p.ID, m.c, private.ID); !errors.Is(err, room.ErrForbidden) {
		t.Fatalf("a member removes the facilitator's message: %v", err)
	}
	if err := co.room.RemoveChat(co.p.ID, co.c, hello.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.room.RemoveChat(f.p.ID, f.c, hello.ID); !errors.Is(err, room.ErrInvalid) {
		t.Fatalf("removed twice: %v", err)
	}
	if err := f.room.RemoveChat(f.p.ID, f.c, private.ID); err != nil {
		t.Fatal(err)
	}
	removed := func(x person, id string) bool {
		var r protocol.ChatRemoved
		x.c.mu.Lock()
		defer x.c.mu.Unlock()
		for _, msg := range x.c.msgs {
			if msg.Type == "chat_removed" && json.Unmarshal(msg.raw, &r) == nil && r.ID == id {
				return true
			}
		}
		return false
	}
	for _, x := range []person{f, co, m, o, w} {
		if !removed(x, hello.ID) {
			t.Errorf("%s not told the room message was removed", x.p.Identity)
		}
		if want := x.p.ID == f.p.ID || x.p.ID == co.p.ID || x.p.ID == m.p.ID; removed(x, private.ID) != want {
			t.Errorf("%s told of the private message's removal: %v, want %v", x.p.Identity, !want, want)
		}
	}

	// A member removes their own message, for everyone who got it.
	if err := send(m, protocol.ChatToRoom, "wrong room, sorry"); err != nil {
		t.Fatal(err)
	}
	var oops protocol.Chat
	for _, c := range chats(t, f.c) {
		if c.Text == "wrong room, sorry" {
			oops = c
		}
	}
	if err := o.room.RemoveChat(o.p.ID, o.c, oops.ID); !errors.Is(err, room.ErrForbidden) {
		t.Fatalf("an observer removes a member's message: %v", err)
	}
	if err := m.room.RemoveChat(m.p.ID, m.c, oops.ID); err != nil {
		t.Fatalf("a member removes their own message: %v", err)
	}
	for _, x := range []person{f, co, m, o} {
		if !removed(x, oops.ID) {
			t.Errorf("%s not told the member's own message was removed", x.p.Identity)
		}
	}

	// Chat off: members no longer write to the room, facilitators do, and
	// anyone still writes to the facilitators.
	off := protocol.ChatOff
	if err := m.apply(n.ctx, live.Command{Kind: protocol.CmdSetPolicy, Policy: live.PolicyPatch{Chat: &off}}); !errors.Is(err, room.ErrForbidden) {
		t.Fatalf("a member turns chat off: %v", err)
	}
	if err := f.apply(n.ctx, live.Command{Kind: protocol.CmdSetPolicy, Policy: live.PolicyPatch{Chat: &off}}); err != nil {
		t.Fatal(err)
	}
	var st protocol.RoomStateMsg
	if !m.c.lastOf(t, "room_state", &st) || st.Policy.Chat != protocol.ChatOff {
		t.Fatalf("room_state after chat off: %+v", st.Policy)
	}
	if err := send(m, protocol.ChatToRoom, "still here?"); !errors.Is(err, room.ErrForbidden) {
		t.Errorf("a member writes to the room with chat off: %v", err)
	}
	if err := send(m, protocol.ChatToFacilitators, "yes"); err != nil {
		t.Errorf("a member writes to the facilitators with chat off: %v", err)
	}
	if err := send(co, protocol.ChatToRoom, "a short break"); err != nil {
		t.Errorf("a co-facilitator writes to the room with chat off: %v", err)
	}

	// The pace: a burst, then refusals.
	var tooFast error
	for i := 0; i < 100 && tooFast == nil; i++ {
		tooFast = send(w, protocol.ChatToFacilitators, fmt.Sprint("burst ", i))
	}
	if !errors.Is(tooFast, live.ErrChatTooFast) {
		t.Errorf("100 messages at once: %v", tooFast)
	}
	if err := send(f, protocol.ChatToRoom, strings.Repeat("x", protocol.MaxChatChars+1)); !errors.Is(err, room.ErrInvalid) {
		t.Errorf("an over-long message: %v", err)
	}
}

func containsPerson(list []person, x person) bool {
	for _, y := range list {
		if y.p.ID == x.p.ID {
			return true
		}
	}
	return false
}
