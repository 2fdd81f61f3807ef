package live

import (
	"slices"
	"time"

	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// AudioSample is what the SFU measured of one participant's audio over one
// sampling interval, from the RTP audio-level header extension (RFC 6464).
type AudioSample struct {
	Participant string
	// Packets is how many audio packets carried a level; Voiced how many of
	// them were loud enough to be speech.
	Packets, Voiced uint64
	// Loudness sums, over the voiced packets, 127 minus the level in -dBov:
	// the louder, the larger.
	Loudness uint64
}

// speaking reports whether the sample is speech rather than a cough: at
// least a third of the packets, and more than one, were voiced.
func (s AudioSample) speaking() bool { return s.Voiced >= 2 && s.Voiced*3 >= s.Packets }

// Active speaker detection: a challenger must be the loudest speaker for
// switchIntervals samples in a row to take over from a current speaker who
// is still talking, and the active speaker is cleared after quietIntervals
// samples of silence. With a 250 ms interval: 0.5 s and 1.5 s.
const (
	switchIntervals = 2
	quietIntervals  = 6
)

// talkState accumulates talk time and tracks the active speaker.
type talkState struct {
	// byIdentity keeps talk time across reconnections in the session.
	byIdentity     map[string]time.Duration
	active         string
	quiet          int
	challenger     string
	challengeCount int
}

func (t *talkState) init() { t.byIdentity = map[string]time.Duration{} }

// forget drops a participant who left from the active speaker.
func (t *talkState) forget(id string) {
	if t.active == id {
		t.active, t.quiet = "", 0
	}
	if t.challenger == id {
		t.challenger, t.challengeCount = "", 0
	}
}

// ObserveAudio takes one interval's samples: everyone whose speech the group
// heard (see ParticipantState.Audible) gets interval of talk time, and the
// active speaker is updated. Speech nobody outside an aside heard (muted,
// not holding a moderated floor, in an aside) counts for nothing: talk time
// is there to notice who has not been heard. It returns the active speaker
// ("" for none).
func (c *Controls) ObserveAudio(interval time.Duration, samples []AudioSample) string {
	t := &c.talk
	loudest, loudness := "", uint64(0)
	activeSpeaking := false
	for _, smp := range samples {
		s, ok := c.parts[smp.Participant]
		if !ok || !smp.speaking() || c.aside.has(s.p.ID) || !c.audibleToGroup(s) {
			continue
		}
		t.byIdentity[s.p.Identity] += interval
		if s.p.ID == t.active {
			activeSpeaking = true
		}
		if smp.Loudness > loudness || (smp.Loudness == loudness && s.p.ID < loudest) {
			loudest, loudness = s.p.ID, smp.Loudness
		}
	}
	switch {
	case loudest == "":
		t.challenger, t.challengeCount = "", 0
		if t.active != "" {
			if t.quiet++; t.quiet >= quietIntervals {
				t.active, t.quiet = "", 0
			}
		}
	case t.active == "" || !activeSpeaking:
		t.active, t.quiet = loudest, 0
		t.challenger, t.challengeCount = "", 0
	case loudest == t.active:
		t.quiet = 0
		t.challenger, t.challengeCount = "", 0
	default:
		t.quiet = 0
		if loudest != t.challenger {
			t.challenger, t.challengeCount = loudest, 0
		}
		if t.challengeCount++; t.challengeCount >= switchIntervals {
			t.active = loudest
			t.challenger, t.challengeCount = "", 0
		}
	}
	return t.active
}

// ActiveSpeaker is the participant currently speaking, or "".
func (c *Controls) ActiveSpeaker() string { return c.talk.active }

// TalkTime lists everyone seated who may speak, least heard first (then in
// join order), for facilitators.
func (c *Controls) TalkTime() []protocol.TalkTime {
	out := []protocol.TalkTime{}
	for _, s := range c.participants() {
		if !s.p.Role.Can(room.PermPublishAudio) {
			continue
		}
		out = append(out, protocol.TalkTime{Participant: s.p.ID, Name: s.p.Name, Role: s.p.Role,
			SpeakingMs: c.talk.byIdentity[s.p.Identity].Milliseconds()})
	}
	slices.SortStableFunc(out, func(a, b protocol.TalkTime) int {
		switch {
		case a.SpeakingMs < b.SpeakingMs:
			return -1
		case a.SpeakingMs > b.SpeakingMs:
			return 1
		}
		return 0
	})
	return out
}
