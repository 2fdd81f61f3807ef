package client

import (
	"encoding/json"

	"github.com/pion/webrtc/v4"
)

// The wire messages the client sends and reads, as signaling/PROTOCOL.md
// describes them. They are kept here, in one file, so that they can give
// way to shared protocol types.

// protocolVersion is the version of PROTOCOL.md the client speaks.
const protocolVersion = 1

// envelope is what every message carries: its type.
type envelope struct {
	Type string `json:"type"`
}

// joinMsg asks for a seat, or (with Resume) takes a held one back.
type joinMsg struct {
	Type     string `json:"type"`
	Version  int    `json:"version"`
	Room     string `json:"room"`
	Name     string `json:"name,omitempty"`
	Token    string `json:"token,omitempty"`
	Passcode string `json:"passcode,omitempty"`
	Resume   string `json:"resume,omitempty"`
	NewPeer  bool   `json:"newPeer,omitempty"`
}

// joinedMsg is the part of the server's joined message the client keeps.
type joinedMsg struct {
	Self struct {
		ID string `json:"id"`
	} `json:"self"`
	Resume string `json:"resume"`
}

// sdpMsg is an offer or an answer, either way.
type sdpMsg struct {
	Type string `json:"type"`
	SDP  string `json:"sdp"`
}

// candidateMsg is a trickled ICE candidate, either way.
type candidateMsg struct {
	Type      string                   `json:"type"`
	Candidate *webrtc.ICECandidateInit `json:"candidate"`
}

// Message is one server message, kept raw with its type. When the
// websocket ends, the client adds one of type "_closed" whose Raw is the
// read error as a JSON string.
type Message struct {
	Type string
	Raw  json.RawMessage
}

// Decode unmarshals the message into v.
func (m Message) Decode(v any) error { return json.Unmarshal(m.Raw, v) }
