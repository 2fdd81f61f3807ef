package signaling

import (
	"slices"
	"sync"
	"time"

	"github.com/hearth-rtc/hearth/live"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
	"github.com/hearth-rtc/hearth/sfu"
)

// sampleInterval is how often a session expires timed shares and samples
// audio levels for the active speaker and talk time.
const sampleInterval = 250 * time.Millisecond

// talkTimeEvery is how many samples pass between talk_time updates to
// facilitators (when something changed).
const talkTimeEvery = 4

// controls is one session's facilitator controls: the live.Controls state
// machine, the media gate derived from it, and a ticker goroutine.
//
// Every change happens under mu and, still under mu, sets the router's gate
// and then broadcasts room_state: media stops before clients are told, and
// clients receive versions in order. Lock order: controls.mu, then
// session.mu or Router.mu (never the other way).
//
// Lifecycle: the state machine and the ticker start with the first seated
// participant; stop (when the session is dropped) ends the ticker. After
// end_session the next participant seated gets fresh controls whose
// versions continue from the old ones.
type controls struct {
	mu      sync.Mutex
	ctl     *live.Controls
	version uint64
	stopped bool
	stop    chan struct{}
	done    chan struct{}
	active  string              // active speaker last sent
	talk    []protocol.TalkTime // talk_time last sent

	// Used by the ticker goroutine only, and reused tick after tick: four
	// ticks a second in every room.
	levels  []sfu.AudioLevel
	prev    map[string]sfu.AudioLevel // track id -> counters at the last sample
	next    map[string]sfu.AudioLevel // becomes prev
	samples []live.AudioSample
}

// controlsSeat puts a newly seated participant in the controls (applying
// the join-muted policy) and sets the gate before its peer connection
// subscribes to anything. It also sends it who is speaking and, to a
// facilitator, the talk time so far.
func (ss *session) controlsSeat(c *conn, p room.Participant, info room.Info) {
	k := &ss.ctl
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.stopped {
		return
	}
	if k.ctl == nil || k.ctl.Ended() {
		k.ctl = live.NewControls(live.ControlsConfig{Policy: protocol.Policy{JoinMuted: info.MembersJoinMuted}, Version: k.version})
		k.active, k.talk = "", nil
	}
	if k.stop == nil {
		k.stop, k.done = make(chan struct{}), make(chan struct{})
		go ss.runControls(k.stop, k.done)
	}
	k.ctl.Seat(p)
	ss.publishLocked()
	if k.active != "" {
		c.send(protocol.ActiveSpeaker{Type: "active_speaker", Participant: &k.active})
	}
	if p.Role.Can(room.PermModerate) {
		c.send(protocol.TalkTimeMsg{Type: "talk_time", Entries: k.ctl.TalkTime()})
	}
}

// controlsLeave takes a participant out of the controls.
func (ss *session) controlsLeave(id string) {
	k := &ss.ctl
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.ctl == nil || k.stopped {
		return
	}
	before := k.ctl.Version()
	k.ctl.Leave(id)
	if k.ctl.Version() != before {
		ss.publishLocked()
	}
}

// controlsSelfMute records a participant's own mute, which the gate then
// enforces.
func (ss *session) controlsSelfMute(id string, kind protocol.MediaKind, muted bool) {
	k := &ss.ctl
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.ctl == nil || k.stopped {
		return
	}
	before := k.ctl.Version()
	k.ctl.SetSelfMute(id, kind, muted)
	if k.ctl.Version() != before {
		ss.publishLocked()
	}
}

// authorizeControl checks a command without applying it.
func (ss *session) authorizeControl(cmd live.Command) error {
	k := &ss.ctl
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.ctl == nil || k.stopped {
		return perr(protocol.CodeNotJoined, "join the session first")
	}
	return k.ctl.Authorize(cmd)
}

// applyControl applies a command; on success with a change, the gate and
// every client follow.
func (ss *session) applyControl(cmd live.Command) error {
	k := &ss.ctl
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.ctl == nil || k.stopped {
		return perr(protocol.CodeNotJoined, "join the session first")
	}
	before := k.ctl.Version()
	st, err := k.ctl.Apply(cmd)
	if err != nil {
		return err
	}
	if st.Version != before {
		ss.publishLocked()
	}
	return nil
}

// publishLocked gives the router the gate the controls build for the current
// state, then tells every seated client. The gate is plain data: the SFU
// evaluates it itself and never calls back.
func (ss *session) publishLocked() {
	k := &ss.ctl
	ss.router.SetGate(k.ctl.Gate())
	st := k.ctl.Snapshot()
	k.version = st.Version
	ss.broadcast(protocol.RoomStateMsg{Type: "room_state", RoomState: st}, nil)
}

// stopControls ends the ticker; the session is going away.
func (ss *session) stopControls() {
	k := &ss.ctl
	k.mu.Lock()
	k.stopped = true
	stop, done := k.stop, k.done
	k.stop = nil
	k.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}

// runControls ticks until stop: timed shares expire, audio levels become the
// active speaker and talk time.
func (ss *session) runControls(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(sampleInterval)
	defer t.Stop()
	last := time.Now()
	for n := 1; ; n++ {
		select {
		case <-stop:
			return
		case now := <-t.C:
			// Ticks can be late or dropped; count the time that really passed,
			// but never more than a few intervals after a stall.
			interval := min(now.Sub(last), 4*sampleInterval)
			last = now
			ss.controlsTick(now, interval, n%talkTimeEvery == 0)
		}
	}
}

func (ss *session) controlsTick(now time.Time, interval time.Duration, sendTalk bool) {
	k := &ss.ctl
	samples := ss.sampleAudio()
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.ctl == nil || k.stopped || k.ctl.Ended() {
		return
	}
	if k.ctl.Tick(now) {
		ss.publishLocked()
	}
	if a := k.ctl.ObserveAudio(interval, samples); a != k.active {
		k.active = a
		msg := protocol.ActiveSpeaker{Type: "active_speaker"}
		if a != "" {
			msg.Participant = &a
		}
		ss.broadcast(msg, nil)
	}
	if sendTalk {
		if tt := k.ctl.TalkTime(); !slices.Equal(tt, k.talk) {
			k.talk = tt
			ss.sendToModerators(protocol.TalkTimeMsg{Type: "talk_time", Entries: tt})
		}
	}
}

// sampleAudio turns the router's cumulative audio-level counters into one
// interval's sample per publisher, valid until the next call. Only the
// ticker goroutine calls it.
func (ss *session) sampleAudio() []live.AudioSample {
	k := &ss.ctl
	k.levels = ss.router.AudioLevels(k.levels)
	next := k.next
	if next == nil {
		next = make(map[string]sfu.AudioLevel, len(k.levels))
	}
	clear(next)
	out := k.samples[:0]
	for _, l := range k.levels {
		next[l.Track] = l
		p := k.prev[l.Track] // zero for a new track
		if l.Packets == p.Packets {
			continue
		}
		// One sample per publisher, even if it published audio twice.
		i := slices.IndexFunc(out, func(s live.AudioSample) bool { return s.Participant == l.Publisher })
		if i < 0 {
			out = append(out, live.AudioSample{Participant: l.Publisher})
			i = len(out) - 1
		}
		out[i].Packets += l.Packets - p.Packets
		out[i].Voiced += l.Voiced - p.Voiced
		out[i].Loudness += l.Loudness - p.Loudness
	}
	k.prev, k.next = next, k.prev
	k.samples = out
	return out
}

// sendToModerators sends msg to the seated facilitators and co-facilitators.
func (ss *session) sendToModerators(msg any) {
	for _, c := range ss.allConns() {
		if c.isActive() && c.role().Can(room.PermModerate) {
			c.send(msg)
		}
	}
}

// allConns lists every connection of the session, seated or waiting.
func (ss *session) allConns() []*conn {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	out := make([]*conn, 0, len(ss.conns))
	for c := range ss.conns {
		out = append(out, c)
	}
	return out
}
