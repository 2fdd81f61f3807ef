package live

import (
	"math/rand/v2"
	"slices"
	"time"

	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// Controls is the facilitator controls and turn-taking state of one live
// session: who is seated, enforced and self mutes, the mute policy, the
// raised-hand queue, the floor (mode, holder, timed share), go-around rounds,
// the private aside, the side room and talk time. Every change increases Version, so
// clients can apply snapshots in order.
//
// It is a pure state machine: no network, no media, no goroutines. The clock
// is injected (ControlsConfig.Now) and timed shares expire only when the
// owner calls Tick. It is not safe for concurrent use: the owner (Room)
// serializes calls.
//
// Media rules (what the gate built by Gate says; "forwarded" means the SFU
// sends a publisher's packets of that kind to a subscriber):
//
//   - A self mute always wins: nothing of that kind is forwarded.
//   - An enforced (facilitator) mute stops all of that kind, except that the
//     floor holder's audio and the audio between the two people of a private
//     aside are forwarded: giving someone the floor, or taking them aside, is
//     the facilitator letting them speak, and taking the floor back (or
//     ending the aside) returns them to their mute.
//   - Moderated floor, and any go-around round, forward only the floor
//     holder's and facilitators' audio. Video is not restricted by the floor:
//     seeing the group listen matters as much as hearing the speaker.
//   - During a private aside the host's and the member's audio reach only
//     each other; everyone else keeps hearing the rest of the group, and the
//     two of them keep hearing the group too (the host stays aware of the
//     room, as when two people step aside in it). Everyone sees who is in the
//     aside; nobody else hears it.
//   - A screen share reaches everyone only while it is the room's one
//     share and its sharer may share (facilitators, and members a
//     facilitator allowed); any other screen track reaches nobody. Mutes,
//     the floor and the aside leave it alone.
//   - In a side room its host and the participants taken there hear and
//     see only each other, and the group hears and sees none of them. The
//     group's rules (floor, rounds, mutes) keep applying to the group; in
//     the side room only their own mutes silence people, and an enforced
//     video mute still holds (the floor never governed video).
//   - Participants not seated here (unknown ids) send and receive nothing.
type Controls struct {
	now     func() time.Time
	shuffle func(n int, swap func(i, j int))

	version uint64
	ended   bool
	seq     uint64 // join order
	policy  protocol.Policy
	parts   map[string]*seat
	// sticky remembers enforced mutes by identity for the whole session, so
	// leaving and rejoining does not escape a mute.
	sticky map[string]protocol.Media
	hands  handQueue
	floor  floor
	round  *round
	aside  *aside
	screen screenShare
	side   *sideRoom
	// handed is the facilitator role handed to a member; peerLed who runs
	// turn-taking while no facilitator is present (peerled_commands.go).
	handed  *handedRole
	peerLed room.PeerLed
	change  *protocol.Change

	talk talkState
}

// seat is one seated participant's controls state. p.Role is the role
// now, own the one they were seated with; they differ while the
// facilitator role is handed to them.
type seat struct {
	p         room.Participant
	own       room.Role
	seq       uint64
	self      protocol.Media // the participant's own mute
	enforced  protocol.Media // a facilitator's mute
	requested protocol.Media // asked a facilitator to lift an enforced mute
}

// ControlsConfig configures NewControls.
type ControlsConfig struct {
	Policy protocol.Policy
	// Now is the clock; time.Now if nil.
	Now func() time.Time
	// Shuffle orders shuffled rounds; math/rand/v2's Shuffle if nil.
	Shuffle func(n int, swap func(i, j int))
	// Version is the first version; a session that restarts after
	// end_session continues from the old one so versions never go back.
	Version uint64
	// PeerLed says who runs turn-taking while no facilitator is present.
	PeerLed room.PeerLed
}

// NewControls returns the controls of a session nobody has joined yet.
func NewControls(cfg ControlsConfig) *Controls {
	c := &Controls{
		now:     cfg.Now,
		shuffle: cfg.Shuffle,
		version: cfg.Version,
		policy:  cfg.Policy,
		peerLed: cfg.PeerLed,
		parts:   map[string]*seat{},
		sticky:  map[string]protocol.Media{},
		floor:   floor{mode: protocol.FloorOpen},
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.shuffle == nil {
		c.shuffle = rand.Shuffle
	}
	if c.policy.FloorReturn == "" {
		c.policy.FloorReturn = protocol.ReturnToFacilitator
	}
	c.policy.ShareEnd = c.policy.ShareEnd.OrStop()
	if c.policy.Chat == "" {
		c.policy.Chat = protocol.ChatOn
	}
	c.talk.init()
	return c
}

// Version is the current state version; it increases with every change.
func (c *Controls) Version() uint64 { return c.version }

// Policy is the session's policy now.
func (c *Controls) Policy() protocol.Policy { return c.policy }

// Ended reports whether end_session was applied.
func (c *Controls) Ended() bool { return c.ended }

// EndByOperator ends the session as end_session does, on the operator's
// word (the admin API), with nobody seated behind it. It reports false if
// the session had already ended.
func (c *Controls) EndByOperator() bool {
	if c.ended {
		return false
	}
	c.ended = true
	c.bump(protocol.Change{Kind: protocol.CmdEndSession})
	return true
}

// Touch moves the version on with nothing else changed: what is mirrored
// beside the controls (a seat's resume key) changed.
func (c *Controls) Touch() {
	c.version++
	c.change = nil
}

func (c *Controls) bump(ch protocol.Change) {
	c.version++
	c.change = &ch
}

// Seat adds a seated participant. Members get an enforced audio mute when
// the policy says they join muted, and every participant gets back the
// enforced mutes its identity had earlier in the session. A late member
// joins the end of a running round. Seating an id twice changes nothing.
func (c *Controls) Seat(p room.Participant) {
	if _, ok := c.parts[p.ID]; ok || p.ID == "" {
		return
	}
	c.seq++
	s := &seat{p: p, own: p.Role, seq: c.seq, enforced: c.sticky[p.Identity]}
	if c.policy.JoinMuted && p.Role == room.RoleMember {
		s.enforced.Audio = true
	}
	c.remember(s)
	c.parts[p.ID] = s
	if c.round != nil && p.Role == room.RoleMember {
		c.round.join(p.ID)
	}
	c.bump(protocol.Change{Kind: protocol.ChangeJoined, Participant: p.ID})
}

// Leave removes a participant from everything: hands, floor, round, aside,
// side room (which ends when its host, or the last one with the host,
// leaves).
// Unknown ids change nothing.
func (c *Controls) Leave(id string) {
	if c.drop(id) {
		c.bump(protocol.Change{Kind: protocol.ChangeLeft, Participant: id})
	}
}

// drop takes id out of everything and reports whether it was seated.
func (c *Controls) drop(id string) bool {
	if _, ok := c.parts[id]; !ok {
		return false
	}
	delete(c.parts, id)
	c.hands.lower(id)
	if c.round != nil && c.round.leave(id) {
		c.advance(protocol.TurnLeft)
	}
	if c.floor.holder == id && c.round == nil {
		c.floor.clearHolder()
	}
	if c.aside.has(id) {
		c.aside = nil
	}
	c.screen.forget(id)
	if c.side.has(id) && (c.side.host == id || !c.side.without(id)) {
		c.side = nil
	}
	if c.handed.holds(id) {
		c.handed = nil
	}
	c.talk.forget(id)
	return true
}

// SetSelfMute records a participant's own mute (the "mute" message). The
// SFU then forwards nothing of that kind, even if the client keeps sending.
func (c *Controls) SetSelfMute(id string, kind protocol.MediaKind, muted bool) {
	s, ok := c.parts[id]
	if !ok || !kind.Valid() || s.self.Get(kind) == muted {
		return
	}
	s.self.Set(kind, muted)
	c.bump(protocol.Change{Kind: protocol.ChangeSelfMute, By: id, Participant: id})
}

// SelfMuted returns a seated participant's own mute (none for an id not
// seated).
func (c *Controls) SelfMuted(id string) protocol.Media {
	if s, ok := c.parts[id]; ok {
		return s.self
	}
	return protocol.Media{}
}

// acting reports whether s holds a role handed to it.
func (s *seat) acting() bool { return s.p.Role != s.own }

// remember keeps a seat's enforced mutes for its identity.
func (c *Controls) remember(s *seat) {
	if s.p.Identity == "" {
		return
	}
	if s.enforced == (protocol.Media{}) {
		delete(c.sticky, s.p.Identity)
		return
	}
	c.sticky[s.p.Identity] = s.enforced
}

// participants returns the seats in join order.
func (c *Controls) participants() []*seat {
	out := make([]*seat, 0, len(c.parts))
	for _, s := range c.parts {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *seat) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
	return out
}

// Tick ends a timed share whose deadline has passed. When the policy lets
// the speaker finish, the time is marked up and nothing else moves;
// otherwise a round moves on to the next turn, and the floor goes where
// the policy says. It reports whether anything changed. The owner calls
// it a few times a second.
func (c *Controls) Tick(now time.Time) bool {
	finish := c.policy.ShareEnd == room.ShareEndFinish
	if c.ended || c.floor.deadline.IsZero() || now.Before(c.floor.deadline) || finish && c.floor.up {
		return false
	}
	holder := c.floor.holder
	switch {
	case finish:
		c.floor.up = true
	case c.round != nil:
		c.advance(protocol.TurnSpoke)
	default:
		c.expireShare()
	}
	c.bump(protocol.Change{Kind: protocol.ChangeTimerExpiry, Participant: holder})
	return true
}

// give hands the floor to id (lowering its hand), timed when seconds > 0.
func (c *Controls) give(id string, seconds int) {
	c.hands.lower(id)
	c.floor.holder = id
	c.floor.clearTimer()
	if seconds > 0 {
		c.floor.startTimer(seconds, c.now())
	}
}

// advance closes the current turn with status (if there is one) and gives
// the floor to the next pending participant; with none left the round ends
// and the floor returns to the facilitators.
func (c *Controls) advance(status protocol.TurnStatus) {
	id, ok := c.round.next(status)
	if !ok {
		c.round = nil
		c.floor.clearHolder()
		return
	}
	c.give(id, c.round.seconds)
}

// expireShare ends a timed share outside rounds: per policy, the floor goes
// back to the facilitators or to the first raised hand for as long (the
// share as given, without its extensions).
func (c *Controls) expireShare() {
	seconds := c.floor.seconds - c.floor.extra
	c.floor.clearHolder()
	if c.policy.FloorReturn == protocol.ReturnToNext {
		if id := c.hands.first(); id != "" {
			c.give(id, seconds)
		}
	}
}
