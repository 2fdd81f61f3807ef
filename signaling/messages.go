package signaling

import (
	"github.com/hearth-rtc/hearth/room"
	"github.com/pion/webrtc/v4"
)

// ProtocolVersion is the version of PROTOCOL.md this server speaks.
const ProtocolVersion = 1

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
	Room         room.RoomInfo     `json:"room"`
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
	Type string        `json:"type"`
	Room room.RoomInfo `json:"room"`
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
