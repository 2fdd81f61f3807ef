package live

import (
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/sfu"
)

// The media rules (see Controls) applied: whose audio the group hears, and
// the gate built from them for the SFU.

// moderated reports whether only the holder and facilitators are heard: in
// moderated mode and during any round.
func (c *Controls) moderated() bool { return c.floor.mode == protocol.FloorModerated || c.round != nil }

// audibleToGroup applies the mute and floor rules to s's audio, leaving the
// aside aside.
func (c *Controls) audibleToGroup(s *seat) bool {
	holder := c.floor.holder == s.p.ID
	switch {
	case s.self.Audio:
		return false
	case s.enforced.Audio && !holder:
		return false
	case c.moderated() && !holder && !s.p.Role.IsFacilitator():
		return false
	}
	return true
}

// heardByGroup reports whether the group hears id's speech, and id's
// identity: seated, not in the aside or the side room, and audible to the
// group.
func (c *Controls) heardByGroup(id string) (identity string, ok bool) {
	s, ok := c.parts[id]
	if !ok || c.aside.has(id) || c.side.has(id) || !c.audibleToGroup(s) {
		return "", false
	}
	return s.p.Identity, true
}

// Gate builds, from the media rules (see Controls), the gate the SFU is
// given: who may receive whose media now. It shares nothing with c; the SFU
// evaluates it without calling back here.
func (c *Controls) Gate() *sfu.Gate {
	fwd := make(map[string]sfu.Forward, len(c.parts))
	for id, s := range c.parts {
		f := sfu.Forward{
			Video: !s.self.Video && !s.enforced.Video,
			Audio: c.audibleToGroup(s),
			// The share, while it is theirs and they may share.
			Screen: c.screen.sharer == id && c.screen.may(s.p),
		}
		switch {
		case c.side.has(id):
			// Apart from the group: only their own mute silences them, and
			// only those in the side room receive them, or are received.
			f.Audio = !s.self.Audio
			f.Space = sideRoomSpace
		case c.aside.has(id):
			// The two in an aside hear each other whatever the floor or an
			// enforced mute says; only their own mute silences them. Nobody
			// else hears them.
			f.Audio = !s.self.Audio
			f.AudioOnlyTo = []string{c.aside.host, c.aside.member}
		}
		fwd[id] = f
	}
	return sfu.NewGate(fwd)
}
