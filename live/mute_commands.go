package live

import (
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// The mute commands: a facilitator's mute of one participant or of all
// members, unmute requests and their answers, and the policy (set_policy).

// PolicyPatch changes some of a Policy; nil fields are left alone.
type PolicyPatch struct {
	SelfUnmute  *bool
	JoinMuted   *bool
	FloorReturn *protocol.FloorReturn
	ShareEnd    *room.ShareEnd
	Chat        *protocol.ChatMode
}

// mute sets or lifts a facilitator's mute on one participant. Lifting it
// also settles the participant's request to be unmuted.
func (c *Controls) mute(id string, kind protocol.MediaKind, muted bool) (bool, error) {
	if !kind.Valid() {
		return false, errInvalid("The kind must be \"audio\" or \"video\".")
	}
	t := c.parts[id] // Authorize checked it is seated
	if !t.p.Role.Can(room.PermPublishAudio) {
		return false, errInvalid(t.p.Role.WithArticleCapital() + " sends no audio or video.")
	}
	changed := t.enforced.Get(kind) != muted
	t.enforced.Set(kind, muted)
	if !muted && t.requested.Get(kind) {
		t.requested.Set(kind, false)
		changed = true
	}
	c.remember(t)
	return changed, nil
}

// muteAll mutes, or unmutes, everyone present but facilitators. It does not
// affect later arrivals: that is the join-muted policy.
func (c *Controls) muteAll(kind protocol.MediaKind, muted bool) (bool, error) {
	if kind == "" {
		kind = protocol.MediaAudio
	}
	if !kind.Valid() {
		return false, errInvalid("The kind must be \"audio\" or \"video\".")
	}
	changed := false
	for _, s := range c.parts {
		if s.p.Role != room.RoleMember {
			continue
		}
		if s.enforced.Get(kind) != muted {
			s.enforced.Set(kind, muted)
			changed = true
		}
		if !muted && s.requested.Get(kind) {
			s.requested.Set(kind, false)
			changed = true
		}
		c.remember(s)
	}
	return changed, nil
}

// setPolicy applies a patch to the policy.
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
	if p.ShareEnd != nil {
		if !p.ShareEnd.Valid() {
			return false, errInvalid("\"shareEnd\" must be \"stop\" or \"finish\".")
		}
		next.ShareEnd = *p.ShareEnd
	}
	if p.Chat != nil {
		if *p.Chat != protocol.ChatOn && *p.Chat != protocol.ChatOff {
			return false, errInvalid("Chat can be \"on\" or \"off\".")
		}
		next.Chat = *p.Chat
	}
	changed := next != c.policy
	c.policy = next
	return changed, nil
}

// requestUnmute lifts the sender's enforced mute when it may do so itself
// (facilitators always; members when the policy allows), and otherwise
// records the request for a facilitator to allow (mute_participant with
// muted false) or decline. Not being muted is not an error.
func (c *Controls) requestUnmute(id string, kind protocol.MediaKind) (bool, error) {
	if !kind.Valid() {
		return false, errInvalid("The kind must be \"audio\" or \"video\".")
	}
	s := c.parts[id]
	if !s.enforced.Get(kind) {
		return c.setRequested(id, kind, false)
	}
	if s.p.Role.IsFacilitator() || c.policy.SelfUnmute {
		s.enforced.Set(kind, false)
		s.requested.Set(kind, false)
		c.remember(s)
		return true, nil
	}
	return c.setRequested(id, kind, true)
}

// setRequested records, or withdraws, id's request to be unmuted.
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

// declineUnmute refuses id's request to be unmuted; the mute stays.
func (c *Controls) declineUnmute(id string, kind protocol.MediaKind) (bool, error) {
	if _, ok := c.parts[id]; !ok {
		return false, errNotHere()
	}
	return c.setRequested(id, kind, false)
}
