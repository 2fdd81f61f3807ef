package live

import (
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// Snapshot returns a snapshot of the current state; it shares nothing with c.
func (c *Controls) Snapshot() protocol.RoomState {
	now := c.now()
	st := protocol.RoomState{
		Version: c.version, Ended: c.ended, Policy: c.policy,
		Participants: []protocol.ParticipantState{}, Hands: append([]protocol.Hand{}, c.hands...),
		Floor: protocol.FloorState{Mode: c.floor.mode, Holder: c.floor.holder},
	}
	if c.change != nil {
		ch := *c.change
		st.Change = &ch
	}
	for _, s := range c.participants() {
		st.Participants = append(st.Participants, protocol.ParticipantState{
			ID: s.p.ID, Identity: s.p.Identity, Name: s.p.Name, Role: s.p.Role,
			SelfMuted: s.self, Muted: s.enforced, UnmuteRequested: s.requested,
			Audible: s.p.Role.Can(room.PermPublishAudio) && !c.aside.has(s.p.ID) && c.audibleToGroup(s),
		})
	}
	if !c.floor.deadline.IsZero() {
		st.Floor.Timer = &protocol.Timer{Seconds: c.floor.seconds, EndsAt: c.floor.deadline.UTC(),
			RemainingMs: max(0, c.floor.deadline.Sub(now).Milliseconds())}
	}
	if r := c.round; r != nil {
		rs := &protocol.RoundState{Order: r.order, Seconds: r.seconds, Turns: append([]protocol.Turn{}, r.turns...),
			Current: r.turns[r.current].Participant}
		if n := r.nextPending(r.current); n >= 0 {
			rs.Next = r.turns[n].Participant
		}
		st.Round = rs
	}
	if c.aside != nil {
		st.Aside = &protocol.AsideState{Host: c.aside.host, Member: c.aside.member}
	}
	return st
}

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

// Gate is an immutable snapshot of who may receive whose media, for the
// SFU. It is safe for concurrent use and takes no locks.
type Gate struct {
	video  map[string]bool // publisher id -> video forwarded
	audio  map[string]bool // publisher id -> audio reaches the group
	member map[string]bool // seated ids
	aside  aside
}

// Gate snapshots the media rules (see Controls) for the SFU.
func (c *Controls) Gate() *Gate {
	g := &Gate{
		video:  make(map[string]bool, len(c.parts)),
		audio:  make(map[string]bool, len(c.parts)),
		member: make(map[string]bool, len(c.parts)),
	}
	for id, s := range c.parts {
		g.member[id] = true
		g.video[id] = !s.self.Video && !s.enforced.Video
		g.audio[id] = c.audibleToGroup(s)
		if c.aside.has(id) {
			// The two in an aside hear each other whatever the floor or an
			// enforced mute says; only their own mute silences them.
			g.audio[id] = !s.self.Audio
		}
	}
	if c.aside != nil {
		g.aside = *c.aside
	}
	return g
}

// May reports whether publisher's media of kind may reach subscriber now.
func (g *Gate) May(publisher, subscriber string, kind protocol.MediaKind) bool {
	if publisher == subscriber || !g.member[publisher] || !g.member[subscriber] {
		return false
	}
	if kind == protocol.MediaVideo {
		return g.video[publisher]
	}
	if g.aside.host != "" && (publisher == g.aside.host || publisher == g.aside.member) {
		return g.audio[publisher] && (subscriber == g.aside.host || subscriber == g.aside.member)
	}
	return g.audio[publisher]
}

// May reports whether publisher's media of kind may reach subscriber now.
// It builds a Gate; the SFU should be given Gate's snapshot instead.
func (c *Controls) May(publisher, subscriber string, kind protocol.MediaKind) bool {
	return c.Gate().May(publisher, subscriber, kind)
}
