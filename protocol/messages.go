package protocol

import (
	"github.com/hearth-rtc/hearth/room"
	"github.com/pion/webrtc/v4"
)

// Version is the version of PROTOCOL.md this package describes.
const Version = 1

// ClientMessages maps every message type a client may send to a new value
// of the Go type it decodes into. The server dispatches on it and refuses
// any other type; a test checks PROTOCOL.md against it.
func ClientMessages() map[string]func() any {
	m := map[string]func() any{
		"join":      func() any { return new(Join) },
		"offer":     func() any { return new(SDP) },
		"answer":    func() any { return new(SDP) },
		"candidate": func() any { return new(Candidate) },
		"mute":      func() any { return new(Mute) },
		"admit":     func() any { return new(Target) },
		"deny":      func() any { return new(Target) },
		"lock":      func() any { return new(Lock) },
		"leave":     func() any { return new(Leave) },
		"ping":      func() any { return new(Ping) },

		"chat":        func() any { return new(ChatSend) },
		"remove_chat": func() any { return new(RemoveChat) },

		"accept_agreement":  func() any { return new(AcceptAgreement) },
		"decline_agreement": func() any { return new(DeclineAgreement) },
		"layout":            func() any { return new(Layout) },
		"hearing_quality":   func() any { return new(HearingQuality) },
	}
	for _, k := range CommandKinds() {
		m[string(k)] = func() any { return new(Control) }
	}
	return m
}

// ServerMessages maps every message type the server sends to a new value of
// the Go type it is encoded from.
func ServerMessages() map[string]func() any {
	return map[string]func() any{
		"joined":              func() any { return new(Joined) },
		"waiting":             func() any { return new(Waiting) },
		"waiting_list":        func() any { return new(WaitingList) },
		"offer":               func() any { return new(SDP) },
		"answer":              func() any { return new(SDP) },
		"candidate":           func() any { return new(Candidate) },
		"sections":            func() any { return new(Sections) },
		"participant_joined":  func() any { return new(ParticipantEvent) },
		"participant_updated": func() any { return new(ParticipantEvent) },
		"participant_left":    func() any { return new(ParticipantLeft) },
		"track_published":     func() any { return new(TrackPublished) },
		"track_unpublished":   func() any { return new(TrackUnpublished) },
		"room_updated":        func() any { return new(RoomUpdated) },
		"room_state":          func() any { return new(RoomStateMsg) },
		"active_speaker":      func() any { return new(ActiveSpeaker) },
		"talk_time":           func() any { return new(TalkTimeMsg) },
		"pong":                func() any { return new(Pong) },
		"error":               func() any { return new(Error) },
		"bye":                 func() any { return new(Bye) },

		"chat":         func() any { return new(Chat) },
		"chat_removed": func() any { return new(ChatRemoved) },

		"agreement":          func() any { return new(Agreement) },
		"agreement_declined": func() any { return new(AgreementDeclined) },
		"roll":               func() any { return new(Roll) },
		"video_layers":       func() any { return new(VideoLayers) },
		"video_paused":       func() any { return new(VideoPaused) },
		"sending_quality":    func() any { return new(SendingQuality) },
	}
}

// Client messages. The server reads the envelope's type first, then
// decodes the frame into that type's struct.

// Envelope is what every message has: its type.
type Envelope struct {
	Type string `json:"type"`
}

// Join asks to enter a room, or to resume a held seat.
type Join struct {
	Type     string `json:"type"`
	Version  int    `json:"version"`
	Room     string `json:"room"`
	Name     string `json:"name,omitempty"`
	Token    string `json:"token,omitempty"`
	Passcode string `json:"passcode,omitempty"`
	// Resume takes back a seat held after a dropped connection; NewPeer
	// says the client's peer connection is gone too.
	Resume  string `json:"resume,omitempty"`
	NewPeer bool   `json:"newPeer,omitempty"`
}

// SDP is an offer or an answer (Type says which).
type SDP struct {
	Type string `json:"type"`
	SDP  string `json:"sdp"`
}

// Candidate is a trickled ICE candidate; a null candidate ends the trickle.
type Candidate struct {
	Type      string                   `json:"type"`
	Candidate *webrtc.ICECandidateInit `json:"candidate"`
}

// Mute is a participant's own mute of their audio or video.
type Mute struct {
	Type  string `json:"type"`
	Kind  string `json:"kind"`
	Muted *bool  `json:"muted"`
}

// Target names a participant, or "all" for everyone waiting (admit, deny).
type Target struct {
	Type        string `json:"type"`
	Participant string `json:"participant"`
}

// Lock locks or unlocks the room.
type Lock struct {
	Type   string `json:"type"`
	Locked *bool  `json:"locked"`
}

// Ping asks for a pong, echoing TS.
type Ping struct {
	Type string `json:"type"`
	TS   *int64 `json:"ts"`
}

// Leave says goodbye.
type Leave struct {
	Type string `json:"type"`
}

// Server messages.

// ICEServer is a STUN or TURN server for the client's peer connection.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// Self is who the joined participant is.
type Self struct {
	ID       string    `json:"id"`
	Identity string    `json:"identity"`
	Name     string    `json:"name"`
	Role     room.Role `json:"role"`
}

// Track is one published track.
type Track struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	StreamID string `json:"streamId"`
	// Screen marks a screen share's track (stream id "<participant>-screen").
	Screen bool `json:"screen,omitempty"`
}

// Participant is a seated participant as others see them.
type Participant struct {
	ID       string    `json:"id"`
	Identity string    `json:"identity"`
	Name     string    `json:"name"`
	Role     room.Role `json:"role"`
	Muted    Media     `json:"muted"`
	State    string    `json:"state"` // active or reconnecting
	Tracks   []Track   `json:"tracks"`
	// WeakConnection: much of the sound they send is lost on its way in
	// (sending_quality), or their client says much of what it receives
	// is (hearing_quality).
	WeakConnection bool `json:"weakConnection,omitempty"`
}

// Joined says the participant is seated: the room, themselves, the others.
type Joined struct {
	Type         string        `json:"type"`
	Version      int           `json:"version"`
	Room         room.Info     `json:"room"`
	Self         Self          `json:"self"`
	Participants []Participant `json:"participants"`
	ICEServers   []ICEServer   `json:"iceServers"`
	Resume       string        `json:"resume"`
	Resumed      bool          `json:"resumed"`
	// NewPeer, with Resumed, says the seat came back on a new peer
	// connection, whose offer follows: the client closes its old one.
	NewPeer bool `json:"newPeer,omitempty"`
}

// Waiting says the participant is in the waiting room, and why. It is
// sent again whenever FacilitatorPresent changes.
type Waiting struct {
	Type    string          `json:"type"`
	Reason  room.WaitReason `json:"reason"`
	Message string          `json:"message"`
	// FacilitatorPresent says whether a facilitator or co-facilitator is
	// in the session, so the waiting screen can say who lets one in.
	FacilitatorPresent bool      `json:"facilitatorPresent"`
	Room               room.Info `json:"room"`
}

// WaitingEntry is one person in the waiting room.
type WaitingEntry struct {
	ID       string `json:"id"`
	Identity string `json:"identity"`
	Name     string `json:"name"`
	Since    string `json:"since"`
}

// WaitingList is the waiting room, sent to those who may admit.
type WaitingList struct {
	Type    string         `json:"type"`
	Entries []WaitingEntry `json:"entries"`
}

// ParticipantEvent is participant_joined or participant_updated.
type ParticipantEvent struct {
	Type        string      `json:"type"`
	Participant Participant `json:"participant"`
}

// ParticipantLeft says a participant left, and why.
type ParticipantLeft struct {
	Type        string `json:"type"`
	Participant string `json:"participant"`
	Reason      string `json:"reason"`
}

// TrackPublished announces a new track.
type TrackPublished struct {
	Type        string `json:"type"`
	Participant string `json:"participant"`
	Track       Track  `json:"track"`
}

// TrackUnpublished says a track ended.
type TrackUnpublished struct {
	Type        string `json:"type"`
	Participant string `json:"participant"`
	Track       string `json:"track"`
}

// RoomUpdated carries the room's changed information (e.g. the lock).
type RoomUpdated struct {
	Type string    `json:"type"`
	Room room.Info `json:"room"`
}

// Pong answers a ping.
type Pong struct {
	Type string `json:"type"`
	TS   *int64 `json:"ts,omitempty"`
}

// Error refuses a message: a stable code, a sentence for people, and the
// ref of the message it answers when known.
type Error struct {
	Type    string `json:"type"`
	Code    Code   `json:"code"`
	Message string `json:"message"`
	Ref     string `json:"ref,omitempty"`
}

// Bye is the last message before the server closes the connection.
type Bye struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

// Control holds the fields of every control message (PROTOCOL.md,
// "Facilitator controls and turn-taking"); each message uses a few.
type Control struct {
	Type        string  `json:"type"`
	Participant string  `json:"participant"`
	Kind        string  `json:"kind"`
	Muted       *bool   `json:"muted"`
	Mode        string  `json:"mode"`
	Seconds     int     `json:"seconds"`
	Order       string  `json:"order"`
	Block       bool    `json:"block"`
	SelfUnmute  *bool   `json:"selfUnmute"`
	JoinMuted   *bool   `json:"joinMuted"`
	FloorReturn *string `json:"floorReturn"`
	ShareEnd    *string `json:"shareEnd"`
	Chat        *string `json:"chat"`
	Allowed     *bool   `json:"allowed"`
	// Participants names several participants (start_side_room).
	Participants []string `json:"participants"`
}

// RoomStateMsg is the versioned controls snapshot, sent on seating and
// after every change.
type RoomStateMsg struct {
	Type string `json:"type"`
	RoomState
}

// ActiveSpeaker names who is speaking; Participant is null for nobody.
type ActiveSpeaker struct {
	Type        string  `json:"type"`
	Participant *string `json:"participant"`
}

// TalkTimeMsg is sent to facilitators only.
type TalkTimeMsg struct {
	Type    string     `json:"type"`
	Entries []TalkTime `json:"entries"`
}
