package live

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// Room's chat: a message goes to the people seated now whom chat.go's
// rules name, and is then forgotten. Nothing of its text is kept or
// logged; the room keeps only the ids and addresses of recent messages
// (chatLog), for removal. Nobody waiting gets anything, and a late arrival
// gets nothing said before.

// ErrChatTooFast: the sender wrote more messages than its allowance
// (chat.go); the message was not sent.
var ErrChatTooFast = errors.New("live: chat messages too fast")

// Chat passes a chat message from the person seated as id (through from)
// to whom it is addressed: to is protocol.ChatToRoom,
// protocol.ChatToFacilitators or a participant id. Everyone who gets it,
// the sender included, gets the same protocol.Chat with the id that
// removes it. Refusals are room.RefusedError (bad_request, forbidden) or
// ErrChatTooFast; ErrWaiting and ErrNotSeated say the sender holds no seat.
func (r *Room) Chat(id string, from Conn, to, text string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	x, err := r.senderLocked(id, from)
	if err != nil {
		return err
	}
	if r.ctl == nil {
		return ErrNotSeated
	}
	now := time.Now()
	if !x.chat.allow(now) {
		return ErrChatTooFast
	}
	text, err = chatText(text)
	if err != nil {
		return err
	}
	seated := make([]chatPerson, 0, len(r.people))
	for pid, o := range r.people {
		if o.seated() {
			seated = append(seated, chatPerson{id: pid, role: o.p.Role, away: o.state != room.StateActive})
		}
	}
	audience, err := chatAudience(chatPerson{id: id, role: x.p.Role}, to, r.ctl.Policy().Chat, seated)
	if err != nil {
		return err
	}
	msg := protocol.Chat{Type: "chat", ID: newChatID(), From: id, Name: x.p.Name, To: to, Text: text,
		Time: now.UTC().Format(time.RFC3339)}
	raw, ok := r.encode(msg)
	if !ok {
		return errInvalid("That message could not be sent.")
	}
	for _, pid := range audience {
		r.people[pid].conn.Send(raw)
	}
	e := chatEntry{id: msg.ID, from: id, room: to == protocol.ChatToRoom}
	if !e.room {
		e.to = audience
	}
	r.chats.add(e)
	return nil
}

// RemoveChat removes a recent chat message for everyone who got it: each
// of them still here gets chat_removed. Facilitators remove any message,
// others their own; each once.
func (r *Room) RemoveChat(id string, from Conn, msgID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	x, err := r.senderLocked(id, from)
	if err != nil {
		return err
	}
	moderator := x.p.Role.Can(room.PermModerate)
	e, found, taken := r.chats.take(msgID, func(e chatEntry) bool { return moderator || e.from == id })
	switch {
	case found && !taken:
		return errForbidden("You can remove your own messages; only facilitators remove others'.")
	case !found && !moderator:
		// Said without telling whether the message exists.
		return errForbidden("You can remove your own recent messages; only facilitators remove others'.")
	case !found:
		return errInvalid("That message cannot be removed: it is not among the recent messages, or it was removed already.")
	}
	msg := protocol.ChatRemoved{Type: "chat_removed", ID: msgID, By: id}
	if e.room {
		r.broadcastLocked(msg, "")
		return nil
	}
	raw, ok := r.encode(msg)
	if !ok {
		return nil
	}
	told := false
	for _, pid := range e.to {
		if o := r.people[pid]; o != nil && o.state == room.StateActive {
			o.conn.Send(raw)
			told = told || pid == id
		}
	}
	if !told {
		x.conn.Send(raw)
	}
	return nil
}

// newChatID returns a fresh message id: random, so that ids say nothing
// of how many messages others exchanged.
func newChatID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return "m_" + hex.EncodeToString(b[:])
}
