package live

import (
	"slices"
	"time"

	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// Talk time and the active speaker, from the SFU's audio samples.

// ObserveAudio takes one interval's samples: everyone whose speech the group
// heard (see ParticipantState.Audible) gets interval of talk time, and the
// active speaker is updated. Speech nobody outside an aside heard (muted,
// not holding a moderated floor, in an aside) counts for nothing: talk time
// is there to notice who has not been heard. It returns the active speaker
// ("" for none).
func (c *Controls) ObserveAudio(interval time.Duration, samples []AudioSample) string {
	return c.talk.observe(interval, samples, c.heardByGroup)
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
