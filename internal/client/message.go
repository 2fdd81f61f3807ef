package client

import (
	"encoding/json"
)

// Message is one server message, kept raw with its type. When the
// websocket ends, the client adds one of type "_closed" whose Raw is the
// read error as a JSON string.
type Message struct {
	Type string
	Raw  json.RawMessage
}

// Decode unmarshals the message into v.
func (m Message) Decode(v any) error { return json.Unmarshal(m.Raw, v) }
