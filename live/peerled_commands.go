package live

import (
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// Peer-led groups: a facilitator hands the facilitator role to a member
// for the session, and it is taken back; and, in a room whose peerLed
// setting says so, members run turn-taking while no facilitator is
// present.
//
// The role handed is the seat's in these controls only: the roster and
// the token are untouched, and it ends when the member leaves or it is
// taken back. A member holding it may do what a facilitator does, except
// act on facilitators and co-facilitators (mute or remove them) and hand
// it on. Facilitators and co-facilitators act on that member as on any
// member.

// peerCommand reports whether members may send k in a peer-led room while
// no facilitator is present: turn-taking, nothing else.
func peerCommand(k protocol.CommandKind) bool {
	switch k {
	case protocol.CmdGiveFloor, protocol.CmdTakeFloor, protocol.CmdSetFloorMode, protocol.CmdSetTimer,
		protocol.CmdStartRound, protocol.CmdNextTurn, protocol.CmdSkip, protocol.CmdEndRound:
		return true
	}
	return false
}

// SetPeerLed sets who may run turn-taking while no facilitator is present
// (the room's setting, read as people are seated).
func (c *Controls) SetPeerLed(p room.PeerLed) { c.peerLed = p }

// peerMay reports whether the member s may send kind because the room is
// peer-led and no facilitator is present.
func (c *Controls) peerMay(s *seat, kind protocol.CommandKind) bool {
	return c.peerLed.Members() && s.p.Role == room.RoleMember && peerCommand(kind) && !c.facilitatorPresent()
}

// facilitatorPresent reports whether anyone seated has a facilitator's or
// co-facilitator's role (a handed one too).
func (c *Controls) facilitatorPresent() bool {
	for _, s := range c.parts {
		if s.p.Role.IsFacilitator() {
			return true
		}
	}
	return false
}

// Role returns a seated participant's role now, handed or their own.
func (c *Controls) Role(id string) (room.Role, bool) {
	s, ok := c.parts[id]
	if !ok {
		return "", false
	}
	return s.p.Role, true
}

// authorizeHandover refines Authorize for the two hand-over commands:
// only a facilitator in their own right hands the role; it is taken back
// by a facilitator or co-facilitator in their own right, or given back by
// the member holding it.
func (c *Controls) authorizeHandover(actor *seat, kind protocol.CommandKind, by string) error {
	switch kind {
	case protocol.CmdHandFacilitation:
		if actor.own != room.RoleFacilitator {
			return errForbidden("Only a facilitator may hand the facilitator role to a member.")
		}
	case protocol.CmdTakeBackFacilitation:
		if !actor.own.IsFacilitator() && !c.handed.holds(by) {
			return errForbidden("Only facilitators, co-facilitators and the member facilitating may end the hand-over.")
		}
	}
	return nil
}

// handFacilitation makes member id the session's facilitator, handed by
// by; a role handed to someone else before returns to them.
func (c *Controls) handFacilitation(by, id string) (bool, error) {
	t, ok := c.parts[id]
	if !ok {
		return false, errNotHere()
	}
	if t.own != room.RoleMember {
		return false, errInvalid("The facilitator role can be handed to a member only.")
	}
	if c.handed.holds(id) {
		return false, nil
	}
	c.takeBack()
	t.p.Role = room.RoleFacilitator
	c.handed = &handedRole{to: id, by: by}
	return true, nil
}

// takeBackFacilitation returns a handed role to its holder's own.
func (c *Controls) takeBackFacilitation() (bool, error) {
	if c.handed == nil {
		return false, errInvalid("Nobody is facilitating in a facilitator's place.")
	}
	c.takeBack()
	return true, nil
}

// takeBack ends the hand-over, if any.
func (c *Controls) takeBack() {
	if c.handed == nil {
		return
	}
	if s, ok := c.parts[c.handed.to]; ok {
		s.p.Role = s.own
	}
	c.handed = nil
}
