package live

import "github.com/hearth-rtc/hearth/sfu"

// Gate builds, from the media rules (see Controls), the gate the SFU is
// given: who may receive whose media now. It shares nothing with c; the SFU
// evaluates it without calling back here.
func (c *Controls) Gate() *sfu.Gate {
	fwd := make(map[string]sfu.Forward, len(c.parts))
	for id, s := range c.parts {
		f := sfu.Forward{
			Video: !s.self.Video && !s.enforced.Video,
			Audio: c.audibleToGroup(s),
		}
		if c.aside.has(id) {
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
