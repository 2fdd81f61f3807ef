package protocol

import (
	"time"

	"github.com/hearth-rtc/hearth/room"
)

// CommandKind names a control command; the values are the protocol's
// message types.
type CommandKind string

const (
	CmdMute                CommandKind = "mute_participant"
	CmdMuteAll             CommandKind = "mute_all"
	CmdSetPolicy           CommandKind = "set_policy"
	CmdRequestUnmute       CommandKind = "request_unmute"
	CmdCancelUnmuteRequest CommandKind = "cancel_unmute_request"
	CmdDeclineUnmute       CommandKind = "decline_unmute"
	CmdRaiseHand           CommandKind = "raise_hand"
	CmdLowerHand           CommandKind = "lower_hand"
	CmdGiveFloor           CommandKind = "give_floor"
	CmdTakeFloor           CommandKind = "take_floor"
	CmdSetFloorMode        CommandKind = "set_floor_mode"
	CmdSetTimer            CommandKind = "set_timer"
	CmdStartRound          CommandKind = "start_round"
	CmdPass                CommandKind = "pass"
	CmdEndTurn             CommandKind = "end_turn"
	CmdNextTurn            CommandKind = "next_turn"
	CmdSkip                CommandKind = "skip"
	CmdEndRound            CommandKind = "end_round"
	CmdStartAside          CommandKind = "start_aside"
	CmdEndAside            CommandKind = "end_aside"
	CmdStartSideRoom       CommandKind = "start_side_room"
	CmdEndSideRoom         CommandKind = "end_side_room"
	CmdRemove              CommandKind = "remove"
	CmdEndSession          CommandKind = "end_session"
	CmdExtendTimer         CommandKind = "extend_timer"
)

// Peer-led groups: a facilitator hands the facilitator role to a member
// for the session, and it is taken back.
const (
	CmdHandFacilitation     CommandKind = "hand_facilitation"
	CmdTakeBackFacilitation CommandKind = "take_back_facilitation"
)

// The waiting room's and the lock's commands. Each has a message of its own
// (Target, Lock), not Control, so CommandKinds leaves them out; live
// authorizes them with the others.
const (
	CmdAdmit CommandKind = "admit"
	CmdDeny  CommandKind = "deny"
	CmdLock  CommandKind = "lock"
)

// CommandKinds lists every command sent as a Control message.
func CommandKinds() []CommandKind {
	return []CommandKind{CmdMute, CmdMuteAll, CmdSetPolicy, CmdRequestUnmute, CmdCancelUnmuteRequest,
		CmdDeclineUnmute, CmdRaiseHand, CmdLowerHand, CmdGiveFloor, CmdTakeFloor, CmdSetFloorMode, CmdSetTimer,
		CmdStartRound, CmdPass, CmdEndTurn, CmdNextTurn, CmdSkip, CmdEndRound, CmdStartAside, CmdEndAside,
		CmdRemove, CmdEndSession, CmdExtendTimer, CmdStartScreenShare, CmdStopScreenShare, CmdAllowScreenShare,
		CmdStartSideRoom, CmdEndSideRoom, CmdHandFacilitation, CmdTakeBackFacilitation}
}

// MediaKind is "audio" or "video", as on the wire.
type MediaKind string

const (
	MediaAudio MediaKind = "audio"
	MediaVideo MediaKind = "video"
)

// Valid reports whether k is audio or video.
func (k MediaKind) Valid() bool { return k == MediaAudio || k == MediaVideo }

// Media is a pair of audio and video flags (mutes, requests).
type Media struct {
	Audio bool `json:"audio"`
	Video bool `json:"video"`
}

// Get returns the flag for k.
func (m Media) Get(k MediaKind) bool {
	if k == MediaVideo {
		return m.Video
	}
	return m.Audio
}

// Set sets the flag for k.
func (m *Media) Set(k MediaKind, v bool) {
	if k == MediaVideo {
		m.Video = v
	} else {
		m.Audio = v
	}
}

// FloorReturn says where the floor goes when a timed share ends.
type FloorReturn string

const (
	// ReturnToFacilitator clears the floor holder (the default).
	ReturnToFacilitator FloorReturn = "facilitator"
	// ReturnToNext gives the floor to the first raised hand, for the same
	// length of time; with no hand raised it returns to the facilitator.
	ReturnToNext FloorReturn = "next"
)

// Policy is the session's mute and floor policy.
type Policy struct {
	// SelfUnmute lets members lift a facilitator's mute themselves; when
	// false they ask (request_unmute) and a facilitator allows it.
	SelfUnmute bool `json:"selfUnmute"`
	// JoinMuted mutes members' audio (enforced) when they are seated.
	JoinMuted   bool        `json:"joinMuted"`
	FloorReturn FloorReturn `json:"floorReturn"`
	// ShareEnd says what happens when a timed share's time is up: stop
	// (the floor moves on) or finish (nothing moves until a facilitator
	// does); the room's configuration gives the default.
	ShareEnd room.ShareEnd `json:"shareEnd"`
	// Chat says whether members may write to the room (chat.go).
	Chat ChatMode `json:"chat"`
}

// Change says what caused a new version, so clients can explain it
// ("Sam muted you"). Kind is a command kind or one of the ChangeX values.
type Change struct {
	Kind        CommandKind `json:"kind"`
	By          string      `json:"by,omitempty"`
	Participant string      `json:"participant,omitempty"`
}

// Changes that are not commands.
const (
	ChangeJoined      CommandKind = "joined"
	ChangeLeft        CommandKind = "left"
	ChangeSelfMute    CommandKind = "self_mute"
	ChangeTimerExpiry CommandKind = "timer_expired"
)

// FloorMode says whose audio the floor lets through.
type FloorMode string

const (
	// FloorOpen: anyone unmuted may speak.
	FloorOpen FloorMode = "open"
	// FloorModerated: only the floor holder and facilitators are heard.
	FloorModerated FloorMode = "moderated"
)

// Hand is one raised hand in the queue, first come first served.
type Hand struct {
	Participant string    `json:"participant"`
	Since       time.Time `json:"since"`
}

// RoundOrder is the order of a go-around round.
type RoundOrder string

const (
	// OrderRoster follows the room's roster; people not on it come after,
	// in join order.
	OrderRoster RoundOrder = "roster"
	// OrderJoin follows arrival order.
	OrderJoin RoundOrder = "join"
	// OrderShuffle is a random order.
	OrderShuffle RoundOrder = "shuffle"
)

// TurnStatus is where one participant's turn stands.
type TurnStatus string

const (
	TurnPending  TurnStatus = "pending"
	TurnSpeaking TurnStatus = "speaking"
	TurnSpoke    TurnStatus = "spoke"
	TurnPassed   TurnStatus = "passed"
	TurnSkipped  TurnStatus = "skipped"
	TurnLeft     TurnStatus = "left"
)

// Turn is one participant's place in a round.
type Turn struct {
	Participant string     `json:"participant"`
	Status      TurnStatus `json:"status"`
}

// RoomState is the whole controls state at one version, as every client sees
// it (the protocol's room_state).
type RoomState struct {
	Version      uint64             `json:"version"`
	Ended        bool               `json:"ended"`
	Policy       Policy             `json:"policy"`
	Participants []ParticipantState `json:"participants"` // join order
	Hands        []Hand             `json:"hands"`        // queue order
	Floor        FloorState         `json:"floor"`
	Round        *RoundState        `json:"round"`    // nil: no round
	Aside        *AsideState        `json:"aside"`    // nil: no aside
	SideRoom     *SideRoomState     `json:"sideRoom"` // nil: no side room
	// Facilitation names the member facilitating for the session, handed
	// the role by a facilitator; nil when nobody was.
	Facilitation *FacilitationState `json:"facilitation"`
	// ScreenShare is who shares their screen now; nil: nobody.
	ScreenShare *ScreenShareState `json:"screenShare"`
	// Change is what caused this version; nil for the first.
	Change *Change `json:"change,omitempty"`
}

// ParticipantState is one seated participant's controls state.
type ParticipantState struct {
	ID       string    `json:"id"`
	Identity string    `json:"identity"`
	Name     string    `json:"name"`
	Role     room.Role `json:"role"`
	// SelfMuted is the participant's own mute; Muted a facilitator's.
	SelfMuted       Media `json:"selfMuted"`
	Muted           Media `json:"muted"`
	UnmuteRequested Media `json:"unmuteRequested"`
	// Audible says whether the group hears this participant's audio now
	// (false for the two in an aside and for everyone in the side room).
	Audible bool `json:"audible"`
	// CanShareScreen says whether the participant may share their screen:
	// facilitators and co-facilitators always, members once allowed.
	CanShareScreen bool `json:"canShareScreen"`
}

// FloorState is the floor mode, holder and timed share.
type FloorState struct {
	Mode   FloorMode `json:"mode"`
	Holder string    `json:"holder,omitempty"`
	Timer  *Timer    `json:"timer,omitempty"`
}

// Timer is a timed share: Seconds long (extensions included), ending at
// EndsAt. RemainingMs is computed when the state is taken, for clients
// whose clocks differ; it is 0 once the time is up (a share let finish
// keeps its timer until a facilitator moves on).
type Timer struct {
	Seconds     int       `json:"seconds"`
	EndsAt      time.Time `json:"endsAt"`
	RemainingMs int64     `json:"remainingMs"`
}

// RoundState is a go-around round: the turns in order, whose turn it is
// and who is next.
type RoundState struct {
	Order   RoundOrder `json:"order"`
	Seconds int        `json:"seconds"`
	Current string     `json:"current"`
	Next    string     `json:"next,omitempty"`
	Turns   []Turn     `json:"turns"`
}

// AsideState names the two people in a private aside.
type AsideState struct {
	Host   string `json:"host"`
	Member string `json:"member"`
}

// SideRoomState names the people in the side room: its host (a
// facilitator or co-facilitator) and those taken there, in the order they
// came.
type SideRoomState struct {
	Host         string   `json:"host"`
	Participants []string `json:"participants"`
}

// FacilitationState names the member a facilitator handed the facilitator
// role to for the session (Participant, whose role in Participants is then
// facilitator) and who handed it (By).
type FacilitationState struct {
	Participant string `json:"participant"`
	By          string `json:"by"`
}

// TalkTime is one seated participant's speaking time in this session.
type TalkTime struct {
	Participant string    `json:"participant"`
	Name        string    `json:"name"`
	Role        room.Role `json:"role"`
	SpeakingMs  int64     `json:"speakingMs"`
}
