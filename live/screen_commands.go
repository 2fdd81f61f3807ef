package live

import (
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// The screen share commands: start one's own share, stop one's own (or,
// facilitators, anyone's), allow a member to share. What the gate makes
// of the share is in gate.go.

// authorizeScreen refines Authorize for the screen share command kind sent
// by actor about target, whose rules depend on the sender's permission and
// the target.
func (c *Controls) authorizeScreen(actor *seat, kind protocol.CommandKind, target string) error {
	switch kind {
	case protocol.CmdStartScreenShare:
		if !c.screen.may(actor.p) {
			return errForbidden("A facilitator has to allow you to share your screen first.")
		}
	case protocol.CmdStopScreenShare:
		if target != "" && target != actor.p.ID && !actor.p.Role.Can(room.PermModerate) {
			return errForbidden("Only facilitators may stop someone else's screen share.")
		}
	case protocol.CmdAllowScreenShare:
		t, ok := c.parts[target]
		if !ok {
			return errNotHere()
		}
		if t.p.Role != room.RoleMember {
			if t.p.Role.Can(room.PermModerate) {
				return errInvalid("Facilitators and co-facilitators may always share their screen.")
			}
			return errInvalid(t.p.Role.WithArticleCapital() + " only watches and listens, and cannot share a screen.")
		}
	}
	return nil
}

// startScreenShare makes by the one sharing, if nobody else is. Authorize
// has checked that by may.
func (c *Controls) startScreenShare(by string) (bool, error) {
	switch c.screen.sharer {
	case by:
		return false, nil
	case "":
		c.screen.sharer, c.screen.since = by, c.now()
		return true, nil
	}
	who := "Someone"
	if s, ok := c.parts[c.screen.sharer]; ok && s.p.Name != "" {
		who = s.p.Name
	}
	if c.parts[by].p.Role.Can(room.PermModerate) {
		return false, errInvalid(who + " is sharing their screen. One screen is shared at a time: stop their share first, then share yours.")
	}
	return false, errInvalid(who + " is sharing their screen. One screen is shared at a time; you can share when they stop.")
}

// stopScreenShare ends target's share (by's own when target is empty).
// Stopping a share that has already ended changes nothing: the sharer
// and a facilitator may both have stopped it.
func (c *Controls) stopScreenShare(by, target string) bool {
	if target == "" {
		target = by
	}
	if c.screen.sharer != target {
		return false
	}
	return c.screen.stop()
}

// allowScreenShare lets member share their screen or no longer; taking
// the permission back ends their share.
func (c *Controls) allowScreenShare(member string, allowed bool) bool {
	changed := c.screen.allow(member, allowed)
	if !allowed && c.screen.sharer == member {
		changed = c.screen.stop() || changed
	}
	return changed
}

// ScreenTrackEnded ends id's screen share because the track carrying it
// ended (the client stopped sending it, or its peer connection closed),
// and reports whether that changed anything.
func (c *Controls) ScreenTrackEnded(id string) bool {
	if c.ended || id == "" || c.screen.sharer != id {
		return false
	}
	c.screen.stop()
	c.bump(protocol.Change{Kind: protocol.CmdStopScreenShare, By: id, Participant: id})
	return true
}
