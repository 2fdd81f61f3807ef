package live

import (
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// Commands in: who may send which (Authorize), and Apply, which dispatches
// to the handlers in the *_commands.go files.

// Command is one control command from a seated participant. Only the
// fields its Kind uses are read.
type Command struct {
	Kind protocol.CommandKind
	// By is the sender's participant id; its role is the one seated here,
	// never one the client claims.
	By string
	// Participant is the target (mute, lower_hand, give_floor, skip,
	// start_aside, remove, decline_unmute, end_side_room). Empty means the
	// sender for lower_hand, the next raised hand for give_floor, the
	// current turn for skip and everyone for end_side_room.
	Participant string
	// Participants are the targets of start_side_room.
	Participants []string
	Media        protocol.MediaKind // mute, mute_all, *_unmute*
	Muted        bool               // mute, mute_all
	Mode         protocol.FloorMode // set_floor_mode
	// Seconds is a timed share (give_floor, set_timer, start_round per
	// turn; 0 means untimed, and set_timer 0 cancels the timer), or the
	// time added to one (extend_timer).
	Seconds int
	Order   protocol.RoundOrder // start_round
	// Roster lists identities in roster order, for rounds in roster order.
	Roster []string
	Policy PolicyPatch // set_policy
	Block  bool        // remove: refuse the identity for the rest of the session
	Locked bool        // lock
	// Allowed lets a member share their screen (allow_screen_share).
	Allowed bool
}

// who classifies the sender for permission checks.
type who int

const (
	whoModerator who = iota // facilitator, co-facilitator: PermModerate
	whoSpeaker              // may publish audio: facilitators and members
	whoAdmitter             // may admit and deny: PermAdmit
)

// need says which role class a command requires. Commands whose rule
// depends on the target or on the turn are refined in Authorize and in
// their handlers.
func need(k protocol.CommandKind) (w who, known bool) {
	switch k {
	case protocol.CmdMute, protocol.CmdMuteAll, protocol.CmdSetPolicy, protocol.CmdDeclineUnmute, protocol.CmdGiveFloor, protocol.CmdTakeFloor, protocol.CmdSetFloorMode,
		protocol.CmdSetTimer, protocol.CmdStartRound, protocol.CmdNextTurn, protocol.CmdSkip, protocol.CmdEndRound, protocol.CmdStartAside, protocol.CmdRemove, protocol.CmdEndSession, protocol.CmdLock,
		protocol.CmdExtendTimer, protocol.CmdStartSideRoom, protocol.CmdHandFacilitation, protocol.CmdTakeBackFacilitation:
		return whoModerator, true
	case protocol.CmdAdmit, protocol.CmdDeny:
		return whoAdmitter, true
	case protocol.CmdRequestUnmute, protocol.CmdCancelUnmuteRequest, protocol.CmdRaiseHand, protocol.CmdLowerHand, protocol.CmdPass, protocol.CmdEndTurn, protocol.CmdEndAside, protocol.CmdEndSideRoom:
		return whoSpeaker, true
	case protocol.CmdStartScreenShare, protocol.CmdStopScreenShare:
		return whoSpeaker, true
	case protocol.CmdAllowScreenShare:
		return whoModerator, true
	}
	return 0, false
}

// Authorize checks, without changing anything, that cmd's sender is seated
// and its role allows the command on its target: ErrForbidden if not,
// ErrInvalid for an unknown command or a target that is not seated where
// one is needed. Apply calls it first; Room calls it alone before what
// the controls do not apply themselves (admit, deny and lock, which the
// door writes) or before side effects outside them (remove).
func (c *Controls) Authorize(cmd Command) error {
	actor, ok := c.parts[cmd.By]
	if !ok {
		return errForbidden("You are not seated in this session.")
	}
	w, known := need(cmd.Kind)
	if !known {
		return errInvalid("That is not a command this session knows.")
	}
	role := actor.p.Role
	switch w {
	case whoModerator:
		if !role.Can(room.PermModerate) && !c.peerMay(actor, cmd.Kind) {
			return errForbidden("Only facilitators and co-facilitators may do this.")
		}
	case whoSpeaker:
		if !role.Can(room.PermPublishAudio) {
			return errForbidden("As " + role.WithArticle() + " you can listen but not do this.")
		}
	case whoAdmitter:
		if !role.Can(room.PermAdmit) {
			return errForbidden("Only facilitators and co-facilitators may let people in or turn them away.")
		}
	}
	switch cmd.Kind {
	case protocol.CmdMute, protocol.CmdRemove:
		if cmd.Kind == protocol.CmdRemove && cmd.Participant == cmd.By {
			return errInvalid("You cannot remove yourself; leave the session instead.")
		}
		t, ok := c.parts[cmd.Participant]
		if !ok {
			return errNotHere()
		}
		// Rank is by one's own role: a member facilitating in a
		// facilitator's place acts on members and observers only.
		if t.own.Outranks(role) || (actor.acting() && t.own.IsFacilitator()) {
			verb := "mute"
			if cmd.Kind == protocol.CmdRemove {
				verb = "remove"
			}
			return errForbidden("You may not " + verb + " " + t.own.WithArticle() + ".")
		}
	case protocol.CmdLowerHand:
		if cmd.Participant != "" && cmd.Participant != cmd.By && !role.Can(room.PermModerate) {
			return errForbidden("Only facilitators may lower someone else's hand.")
		}
	case protocol.CmdEndAside:
		if !role.Can(room.PermModerate) && (c.aside == nil || c.aside.member != cmd.By) {
			return errForbidden("Only facilitators and the member in the private aside may end it.")
		}
	case protocol.CmdStartScreenShare, protocol.CmdStopScreenShare, protocol.CmdAllowScreenShare:
		return c.authorizeScreen(actor, cmd.Kind, cmd.Participant)
	case protocol.CmdHandFacilitation, protocol.CmdTakeBackFacilitation:
		return c.authorizeHandover(actor, cmd.Kind, cmd.By)
	case protocol.CmdEndSideRoom:
		own := cmd.Participant == "" || cmd.Participant == cmd.By
		if !role.Can(room.PermModerate) && (!own || !c.side.has(cmd.By)) {
			return errForbidden("Only facilitators and co-facilitators may bring people back from the side room; you may come back yourself.")
		}
	}
	return nil
}

// Apply checks and applies one command and returns the new state. On error
// nothing changed. A command that changes nothing (raising a raised hand)
// succeeds without a new version.
func (c *Controls) Apply(cmd Command) (protocol.RoomState, error) {
	if c.ended {
		return protocol.RoomState{}, errInvalid("The session has ended.")
	}
	if err := c.Authorize(cmd); err != nil {
		return protocol.RoomState{}, err
	}
	changed, err := c.apply(cmd)
	if err != nil {
		return protocol.RoomState{}, err
	}
	if changed {
		c.bump(protocol.Change{Kind: cmd.Kind, By: cmd.By, Participant: c.changeTarget(cmd)})
	}
	return c.Snapshot(), nil
}

// changeTarget names who a change was about, for the Change record.
func (c *Controls) changeTarget(cmd Command) string {
	switch cmd.Kind {
	case protocol.CmdGiveFloor, protocol.CmdExtendTimer:
		return c.floor.holder
	case protocol.CmdEndSideRoom:
		if cmd.Participant == "" && !c.parts[cmd.By].p.Role.Can(room.PermModerate) {
			return cmd.By // came back alone
		}
		return cmd.Participant // "": everyone
	case protocol.CmdMute, protocol.CmdDeclineUnmute, protocol.CmdLowerHand, protocol.CmdSkip, protocol.CmdStartAside, protocol.CmdRemove,
		protocol.CmdStartScreenShare, protocol.CmdStopScreenShare, protocol.CmdAllowScreenShare, protocol.CmdHandFacilitation:
		if cmd.Participant == "" {
			return cmd.By
		}
		return cmd.Participant
	}
	return ""
}

func (c *Controls) apply(cmd Command) (bool, error) {
	switch cmd.Kind {
	case protocol.CmdMute:
		return c.mute(cmd.Participant, cmd.Media, cmd.Muted)
	case protocol.CmdMuteAll:
		return c.muteAll(cmd.Media, cmd.Muted)
	case protocol.CmdSetPolicy:
		return c.setPolicy(cmd.Policy)
	case protocol.CmdRequestUnmute:
		return c.requestUnmute(cmd.By, cmd.Media)
	case protocol.CmdCancelUnmuteRequest:
		return c.setRequested(cmd.By, cmd.Media, false)
	case protocol.CmdDeclineUnmute:
		return c.declineUnmute(cmd.Participant, cmd.Media)
	case protocol.CmdRaiseHand:
		if c.side.has(cmd.By) {
			return false, errInvalid("You are in a side room; raise your hand when you are back with the group.")
		}
		return c.raiseHand(cmd.By), nil
	case protocol.CmdLowerHand:
		return c.lowerHandCmd(cmd.By, cmd.Participant)
	case protocol.CmdGiveFloor:
		return c.giveFloor(cmd.Participant, cmd.Seconds)
	case protocol.CmdTakeFloor:
		return c.takeFloor()
	case protocol.CmdSetFloorMode:
		return c.setFloorMode(cmd.Mode)
	case protocol.CmdSetTimer:
		return c.setTimer(cmd.Seconds)
	case protocol.CmdExtendTimer:
		return c.extendTimer(cmd.Seconds)
	case protocol.CmdStartRound:
		return c.startRound(cmd.Order, cmd.Seconds, cmd.Roster)
	case protocol.CmdPass:
		return c.ownTurn(cmd.By, protocol.TurnPassed)
	case protocol.CmdEndTurn:
		return c.ownTurn(cmd.By, protocol.TurnSpoke)
	case protocol.CmdNextTurn:
		return c.nextTurn()
	case protocol.CmdSkip:
		return c.skip(cmd.Participant)
	case protocol.CmdEndRound:
		return c.endRound()
	case protocol.CmdStartAside:
		return c.startAside(cmd.By, cmd.Participant)
	case protocol.CmdEndAside:
		return c.endAside()
	case protocol.CmdStartSideRoom:
		return c.startSideRoom(cmd.By, cmd.Participants)
	case protocol.CmdHandFacilitation:
		return c.handFacilitation(cmd.By, cmd.Participant)
	case protocol.CmdTakeBackFacilitation:
		return c.takeBackFacilitation()
	case protocol.CmdEndSideRoom:
		return c.endSideRoom(cmd.By, cmd.Participant)
	case protocol.CmdRemove:
		// The target leaves the controls at once, so its media stops before
		// its connection is closed. Authorize refused removing oneself.
		return c.drop(cmd.Participant), nil
	case protocol.CmdEndSession:
		c.ended = true
		return true, nil
	case protocol.CmdStartScreenShare:
		return c.startScreenShare(cmd.By)
	case protocol.CmdStopScreenShare:
		return c.stopScreenShare(cmd.By, cmd.Participant), nil
	case protocol.CmdAllowScreenShare:
		return c.allowScreenShare(cmd.Participant, cmd.Allowed), nil
	}
	return false, errInvalid("That is not a command this session knows.")
}
