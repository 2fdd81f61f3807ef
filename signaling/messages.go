package signaling

import (
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
	"github.com/pion/webrtc/v4"
)

// ProtocolVersion is the version of PROTOCOL.md this server speaks.
const ProtocolVersion = 1

// clientMessages maps every client message type to the Go type it decodes
// into: dispatch refuses any other type, and protocol_test.go checks
// PROTOCOL.md against it. Read-only.
var clientMessages = clientMessageTypes()

func clientMessageTypes() map[string]func() any {
	m := map[string]func() any{
		"join":      func() any { return new(joinMsg) },
		"offer":     func() any { return new(sdpMsg) },
		"answer":    func() any { return new(sdpMsg) },
		"candidate": func() any { return new(candidateMsg) },
		"mute":      func() any { return new(muteMsg) },
		"admit":     func() any { return new(targetMsg) },
		"deny":      func() any { return new(targetMsg) },
		"lock":      func() any { return new(lockMsg) },
		"leave":     func() any { return new(leaveMsg) },
		"ping":      func() any { return new(pingMsg) },
	}
	for _, k := range protocol.CommandKinds() {
		m[string(k)] = func() any { return new(controlMsg) }
	}
	return m
}

// serverMessages maps every message type the server sends to the Go type
// it is encoded from; protocol_test.go checks that each is sent only in
// that form and documented. Read-only.
var serverMessages = map[string]func() any{
	"joined":              func() any { return new(joinedMsg) },
	"waiting":             func() any { return new(waitingMsg) },
	"waiting_list":        func() any { return new(waitingListMsg) },
	"offer":               func() any { return new(sdpMsg) },
	"answer":              func() any { return new(sdpMsg) },
	"candidate":           func() any { return new(candidateMsg) },
	"participant_joined":  func() any { return new(participantMsg) },
	"participant_updated": func() any { return new(participantMsg) },
	"participant_left":    func() any { return new(participantLeftMsg) },
	"track_published":     func() any { return new(trackPublishedMsg) },
	"track_unpublished":   func() any { return new(trackUnpublishedMsg) },
	"room_updated":        func() any { return new(roomUpdatedMsg) },
	"room_state":          func() any { return new(roomStateMsg) },
	"active_speaker":      func() any { return new(activeSpeakerMsg) },
	"talk_time":           func() any { return new(talkTimeMsg) },
	"pong":                func() any { return new(pongMsg) },
	"error":               func() any { return new(errorMsg) },
	"bye":                 func() any { return new(byeMsg) },
}

// Inbound messages. Each has its own struct; the dispatcher reads only the
// envelope's type and hands the raw frame to the handler.

type envelope struct {
	Type string `json:"type"`
}

type joinMsg struct {
	Version  int    `json:"version"`
	Room     string `json:"room"`
	Name     string `json:"name"`
	Token    string `json:"token"`
	Passcode string `json:"passcode"`
	// Resume takes back a seat held after a dropped connection; NewPeer
	// says the client's peer connection is gone too.
	Resume  string `json:"resume"`
	NewPeer bool   `json:"newPeer"`
}

type sdpMsg struct {
	Type string `json:"type"`
	SDP  string `json:"sdp"`
}

type candidateMsg struct {
	Type      string                   `json:"type"`
	Candidate *webrtc.ICECandidateInit `json:"candidate"`
}

type muteMsg struct {
	Kind  string `json:"kind"`
	Muted *bool  `json:"muted"`
}

type targetMsg struct {
	Participant string `json:"participant"`
}

type lockMsg struct {
	Locked *bool `json:"locked"`
}

type pingMsg struct {
	TS *int64 `json:"ts"`
}

// leaveMsg has no fields.
type leaveMsg struct{}

// Outbound messages.

type iceServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

type selfInfo struct {
	ID       string    `json:"id"`
	Identity string    `json:"identity"`
	Name     string    `json:"name"`
	Role     room.Role `json:"role"`
}

type muteState struct {
	Audio bool `json:"audio"`
	Video bool `json:"video"`
}

type trackInfo struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	StreamID string `json:"streamId"`
}

type participantInfo struct {
	ID       string      `json:"id"`
	Identity string      `json:"identity"`
	Name     string      `json:"name"`
	Role     room.Role   `json:"role"`
	Muted    muteState   `json:"muted"`
	State    string      `json:"state"` // active or reconnecting
	Tracks   []trackInfo `json:"tracks"`
}

type joinedMsg struct {
	Type         string            `json:"type"`
	Version      int               `json:"version"`
	Room         room.Info         `json:"room"`
	Self         selfInfo          `json:"self"`
	Participants []participantInfo `json:"participants"`
	ICEServers   []iceServer       `json:"iceServers"`
	Resume       string            `json:"resume"`
	Resumed      bool              `json:"resumed"`
}

type waitingMsg struct {
	Type    string          `json:"type"`
	Reason  room.WaitReason `json:"reason"`
	Message string          `json:"message"`
}

type waitingEntry struct {
	ID       string `json:"id"`
	Identity string `json:"identity"`
	Name     string `json:"name"`
	Since    string `json:"since"`
}

type waitingListMsg struct {
	Type    string         `json:"type"`
	Entries []waitingEntry `json:"entries"`
}

type participantMsg struct {
	Type        string          `json:"type"`
	Participant participantInfo `json:"participant"`
}

type participantLeftMsg struct {
	Type        string `json:"type"`
	Participant string `json:"participant"`
	Reason      string `json:"reason"`
}

type trackPublishedMsg struct {
	Type        string    `json:"type"`
	Participant string    `json:"participant"`
	Track       trackInfo `json:"track"`
}

type trackUnpublishedMsg struct {
	Type        string `json:"type"`
	Participant string `json:"participant"`
	Track       string `json:"track"`
}

type roomUpdatedMsg struct {
	Type string    `json:"type"`
	Room room.Info `json:"room"`
}

type pongMsg struct {
	Type string `json:"type"`
	TS   *int64 `json:"ts,omitempty"`
}

type errorMsg struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Ref     string `json:"ref,omitempty"`
}

type byeMsg struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}
