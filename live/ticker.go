package live

import (
	"slices"
	"time"

	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// Room's ticker: timed shares expire, and audio levels become the active
// speaker and talk time.

// sampleInterval is how often a room expires timed shares and samples
// audio levels for the active speaker and talk time.
const sampleInterval = 250 * time.Millisecond

// talkTimeEvery is how many samples pass between talk_time updates to
// facilitators (when something changed).
const talkTimeEvery = 4

// startTickerLocked starts the ticker, and the mirror's writer beside
// it, unless they run or the room is closed; shutdown ends them. Under mu.
func (r *Room) startTickerLocked() {
	if r.stop != nil || r.closed {
		return
	}
	r.stop, r.done, r.mdone = make(chan struct{}), make(chan struct{}), make(chan struct{})
	go r.runTicker(r.stop, r.done)
	go r.runMirror(r.stop, r.mdone)
}

// runTicker ticks until stop.
func (r *Room) runTicker(stop <-chan struct{}, done chan<- struct{}) {
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
			r.tick(now, interval, n%talkTimeEvery == 0)
		}
	}
}

func (r *Room) tick(now time.Time, interval time.Duration, sendTalk bool) {
	samples := r.sampler.sample(r.router)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctl == nil || r.closed || r.ctl.Ended() {
		return
	}
	if r.ctl.Tick(now) {
		r.publishLocked()
	}
	if a := r.ctl.ObserveAudio(interval, samples); a != r.active {
		r.active = a
		rankAll(&r.media, r.ctl, r.people, r.active)
		msg := protocol.ActiveSpeaker{Type: "active_speaker"}
		if a != "" {
			msg.Participant = &a
		}
		r.broadcastLocked(msg, "")
	}
	if sendTalk {
		if tt := r.ctl.TalkTime(); !slices.Equal(tt, r.talk) {
			r.talk = tt
			r.sendToLocked(room.PermModerate, protocol.TalkTimeMsg{Type: "talk_time", Entries: tt})
		}
	}
}
