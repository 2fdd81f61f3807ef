package live

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// Chat's rules, with no I/O: who may write to whom and who gets a message
// (chatAudience), what a message's text may be (chatText), how fast one
// person may write (chatBucket), and what a room remembers of recent
// messages to remove them (chatLog): ids and addresses, never text. The
// room delivers in chat_room.go.
//
// Private messages are between one person and the facilitators: a
// member's or an observer's goes to every facilitator and co-facilitator
// seated, and a facilitator's message to one person goes to that person
// and to the other facilitators too, so that co-facilitators know what
// was said and a reply to "the facilitators" makes sense to all of them.

// chatPerson is someone seated, as chat's rules see them.
type chatPerson struct {
	id   string
	role room.Role
	// away: the seat is held for a dropped connection; nothing reaches it.
	away bool
}

// chatAudience returns who gets a message from `from` addressed to `to`
// (protocol.ChatToRoom, protocol.ChatToFacilitators or a participant id),
// the sender included, among the people seated. Those away get nothing.
func chatAudience(from chatPerson, to string, mode protocol.ChatMode, seated []chatPerson) ([]string, error) {
	fac := func(p chatPerson) bool { return p.role.Can(room.PermModerate) }
	var out []string
	switch to {
	case "":
		return nil, errInvalid("Say who the message is for: \"room\", \"facilitators\" or a participant id.")
	case protocol.ChatToRoom:
		switch {
		case !from.role.Can(room.PermPublishAudio):
			return nil, errForbidden("As " + from.role.WithArticle() + " you can write to the facilitators only.")
		case mode == protocol.ChatOff && !fac(from):
			return nil, errForbidden("The facilitator has turned off messages to everyone. You can still write to the facilitators.")
		}
		for _, p := range seated {
			if !p.away {
				out = append(out, p.id)
			}
		}
		return out, nil
	case protocol.ChatToFacilitators:
		others := 0
		for _, p := range seated {
			if p.away || (p.id != from.id && !fac(p)) {
				continue
			}
			out = append(out, p.id)
			if p.id != from.id {
				others++
			}
		}
		if others == 0 {
			if fac(from) {
				return nil, errInvalid("No other facilitator is here just now.")
			}
			return nil, errInvalid("No facilitator is here to read it just now.")
		}
		return out, nil
	}
	if !fac(from) {
		return nil, errForbidden("Only facilitators write to one person privately. You can write to the facilitators.")
	}
	if to == from.id {
		return nil, errInvalid("You cannot write to yourself.")
	}
	found := false
	for _, p := range seated {
		if p.id != to {
			continue
		}
		if p.away {
			return nil, errInvalid("That participant is reconnecting; try again in a moment.")
		}
		found = true
	}
	if !found {
		return nil, errNotHere()
	}
	for _, p := range seated {
		if !p.away && (p.id == to || fac(p)) {
			out = append(out, p.id)
		}
	}
	return out, nil
}

// chatText is a message's text as delivered: line breaks as "\n", no other
// control characters, trimmed; empty or longer than
// protocol.MaxChatChars characters is refused, quoting none of it.
func chatText(s string) (string, error) {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(r rune) rune {
		if r != '\n' && r != '\t' && unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errInvalid("The message is empty.")
	}
	if n := utf8.RuneCountInString(s); n > protocol.MaxChatChars {
		return "", errInvalid(fmt.Sprintf("A message can have at most %s characters; this one has %s.",
			thousands(protocol.MaxChatChars), thousands(n)))
	}
	return s, nil
}

// thousands writes n with commas: 12,345.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// How fast one person may write: chatBurst messages at once, then
// chatRate a second.
const (
	chatBurst = 10
	chatRate  = 2
)

// chatBucket is one person's allowance of chat messages (a token bucket).
// The zero value is full.
type chatBucket struct {
	used float64 // tokens spent and not yet refilled
	last time.Time
}

// allow reports whether a message sent at now is within the allowance,
// and spends it if so.
func (b *chatBucket) allow(now time.Time) bool {
	if b.last.IsZero() || now.After(b.last) {
		if !b.last.IsZero() {
			b.used = max(0, b.used-now.Sub(b.last).Seconds()*chatRate)
		}
		b.last = now
	}
	if b.used+1 > chatBurst {
		return false
	}
	b.used++
	return true
}

// chatLogSize is how many recent messages a room can still remove.
const chatLogSize = 256

// chatEntry is what a room remembers of one message: its id, who sent it,
// and who got it (everyone seated, or these participant ids). Never its
// text.
type chatEntry struct {
	id   string
	from string
	room bool
	to   []string
}

// chatLog is a ring of the last chatLogSize messages' entries.
type chatLog struct {
	entries [chatLogSize]chatEntry
	next    int
}

func (l *chatLog) add(e chatEntry) {
	l.entries[l.next] = e
	l.next = (l.next + 1) % chatLogSize
}

// take returns the entry of id and forgets it, when may allows it: a
// message is removed once. found says whether id is among the entries.
func (l *chatLog) take(id string, may func(chatEntry) bool) (e chatEntry, found, taken bool) {
	for i, e := range l.entries {
		if e.id != "" && e.id == id {
			if !may(e) {
				return e, true, false
			}
			l.entries[i] = chatEntry{}
			return e, true, true
		}
	}
	return chatEntry{}, false, false
}
