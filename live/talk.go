package live

import "time"

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

// talkState accumulates talk time and tracks the active speaker, from audio
// samples.
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

// observe takes one interval's samples. heard says whether the group heard
// a participant's speech, and under which identity its talk time counts;
// only heard speech counts and may make an active speaker. It returns the
// active speaker ("" for none).
func (t *talkState) observe(interval time.Duration, samples []AudioSample, heard func(id string) (identity string, ok bool)) string {
	loudest, loudness := "", uint64(0)
	activeSpeaking := false
	for _, smp := range samples {
		if !smp.speaking() {
			continue
		}
		id := smp.Participant
		identity, ok := heard(id)
		if !ok {
			continue
		}
		t.byIdentity[identity] += interval
		if id == t.active {
			activeSpeaking = true
		}
		if smp.Loudness > loudness || (smp.Loudness == loudness && id < loudest) {
			loudest, loudness = id, smp.Loudness
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
