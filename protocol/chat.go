package protocol

// Chat (PROTOCOL.md, "Chat"): messages are delivered to the people in the
// session now and kept nowhere, neither on the server nor in its logs.

// The addresses of a chat message besides a participant id.
const (
	// ChatToRoom: everyone seated.
	ChatToRoom = "room"
	// ChatToFacilitators: the facilitators and co-facilitators seated.
	ChatToFacilitators = "facilitators"
)

// MaxChatChars is the most characters (Unicode code points) a chat
// message may have once trimmed.
const MaxChatChars = 1000

// ChatMode says whether members may write to the whole room.
type ChatMode string

const (
	// ChatOn: everyone but observers may write to the room (the default).
	ChatOn ChatMode = "on"
	// ChatOff: only facilitators write to the room; anyone may still
	// write to the facilitators, and facilitators to one person.
	ChatOff ChatMode = "off"
)

// ChatSend is a chat message from a client: To is ChatToRoom,
// ChatToFacilitators or a participant id.
type ChatSend struct {
	Type string `json:"type"`
	To   string `json:"to"`
	Text string `json:"text"`
}

// RemoveChat asks to remove a chat message for everyone who got it.
type RemoveChat struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// Chat is a chat message as delivered: its id (for removal), the sender
// (From, by id, and Name), To as the sender addressed it, the text and
// when the server passed it on (RFC 3339).
type Chat struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	From string `json:"from"`
	Name string `json:"name"`
	To   string `json:"to"`
	Text string `json:"text"`
	Time string `json:"time"`
}

// ChatRemoved says a facilitator (By) removed a chat message.
type ChatRemoved struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	By   string `json:"by"`
}
