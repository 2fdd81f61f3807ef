package live

import (
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// mute sets or lifts a facilitator's mute on one participant. Lifting it
// also settles the participant's request to be unmuted.
func (c *Controls) mute(cmd Command) (bool, error) {
	if !cmd.Media.Valid() {
		return false, errInvalid("The kind must be \"audio\" or \"video\".")
	}
	t := c.parts[cmd.Participant] // Authorize checked it is seated
	if !t.p.Role.Can(room.PermPublishAudio) {
		return false, errInvalid(t.p.Role.WithArticleCapital() + " sends no audio or video.")
	}
	changed := t.enforced.Get(cmd.Media) != cmd.Muted
	t.enforced.Set(cmd.Media, cmd.Muted)
	if !cmd.Muted && t.requested.Get(cmd.Media) {
		t.requested.Set(cmd.Media, false)
		changed = true
	}
	c.remember(t)
	return changed, nil
}

// muteAll mutes, or unmutes, everyone present but facilitators. It does not
// affect later arrivals: that is the join-muted policy.
func (c *Controls) muteAll(cmd Command) (bool, error) {
	if cmd.Media == "" {
		cmd.Media = protocol.MediaAudio
	}
	if !cmd.Media.Valid() {
		return false, errInvalid("The kind must be \"audio\" or \"video\".")
	}
	changed := false
	for _, s := range c.parts {
		if s.p.Role != room.RoleMember {
			continue
		}
		if s.enforced.Get(cmd.Media) != cmd.Muted {
			s.enforced.Set(cmd.Media, cmd.Muted)
			changed = true
		}
		if !cmd.Muted && s.requested.Get(cmd.Media) {
			s.requested.Set(cmd.Media, false)
			changed = true
		}
		c.remember(s)
	}
	return changed, nil
}

func (c *Controls) setPolicy(p PolicyPatch) (bool, error) {
	next := c.policy
	if p.SelfUnmute != nil {
		next.SelfUnmute = *p.SelfUnmute
	}
	if p.JoinMuted != nil {
		next.JoinMuted = *p.JoinMuted
	}
	if p.FloorReturn != nil {
		if *p.FloorReturn != protocol.ReturnToFacilitator && *p.FloorReturn != protocol.ReturnToNext {
			return false, errInvalid("\"floorReturn\" must be \"facilitator\" or \"next\".")
		}
		next.FloorReturn = *p.FloorReturn
	}
	changed := next != c.policy
	c.policy = next
	return changed, nil
}

// requestUnmute lifts the sender's enforced mute when it may do so itself
// (facilitators always; members when the policy allows), and otherwise
// records the request for a facilitator to allow (mute_participant with
// muted false) or decline. Not being muted is not an error.
func (c *Controls) requestUnmute(cmd Command) (bool, error) {
	if !cmd.Media.Valid() {
		return false, errInvalid("The kind must be \"audio\" or \"video\".")
	}
	s := c.parts[cmd.By]
	if !s.enforced.Get(cmd.Media) {
		return c.setRequested(cmd.By, cmd.Media, false)
	}
	if s.p.Role.IsFacilitator() || c.policy.SelfUnmute {
		s.enforced.Set(cmd.Media, false)
		s.requested.Set(cmd.Media, false)
		c.remember(s)
		return true, nil
	}
	return c.setRequested(cmd.By, cmd.Media, true)
}

func (c *Controls) setRequested(id string, kind protocol.MediaKind, v bool) (bool, error) {
	if !kind.Valid() {
		return false, errInvalid("The kind must be \"audio\" or \"video\".")
	}
	s := c.parts[id]
	if s.requested.Get(kind) == v {
		return false, nil
	}
	s.requested.Set(kind, v)
	return true, nil
}

func (c *Controls) declineUnmute(cmd Command) (bool, error) {
	if _, ok := c.parts[cmd.Participant]; !ok {
		return false, errNotHere()
	}
	return c.setRequested(cmd.Participant, cmd.Media, false)
}
