package protocol

import "time"

// Screen sharing's commands (Control messages) and its part of the room
// state (PROTOCOL.md, "Screen sharing").
const (
	// CmdStartScreenShare makes the sender the one sharing a screen:
	// facilitators and co-facilitators may, members once a facilitator
	// allowed them, and only while nobody else shares.
	CmdStartScreenShare CommandKind = "start_screen_share"
	// CmdStopScreenShare ends the sender's share, or (facilitators) the
	// named participant's.
	CmdStopScreenShare CommandKind = "stop_screen_share"
	// CmdAllowScreenShare lets a member share their screen, or no longer
	// (Control.Allowed); taking it back ends their share.
	CmdAllowScreenShare CommandKind = "allow_screen_share"
)

// ScreenShareState names who is sharing their screen and since when.
type ScreenShareState struct {
	Participant string    `json:"participant"`
	Since       time.Time `json:"since"`
}
