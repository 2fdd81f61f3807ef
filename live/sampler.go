package live

import (
	"slices"

	"github.com/hearth-rtc/hearth/sfu"
)

// audioSampler turns a router's cumulative audio-level counters into one
// interval's AudioSample per publisher. Only a room's ticker uses it, and
// reuses its buffers tick after tick: four ticks a second in every room.
type audioSampler struct {
	levels  []sfu.AudioLevel
	prev    map[string]sfu.AudioLevel // track id -> counters at the last sample
	next    map[string]sfu.AudioLevel // becomes prev
	samples []AudioSample
}

// sample reads the router's counters and returns what changed since the
// last call, valid until the next one.
func (a *audioSampler) sample(r *sfu.Router) []AudioSample {
	a.levels = r.AudioLevels(a.levels)
	next := a.next
	if next == nil {
		next = make(map[string]sfu.AudioLevel, len(a.levels))
	}
	clear(next)
	out := a.samples[:0]
	for _, l := range a.levels {
		next[l.Track] = l
		p := a.prev[l.Track] // zero for a new track
		if l.Packets == p.Packets {
			continue
		}
		// One sample per publisher, even if it published audio twice.
		i := slices.IndexFunc(out, func(s AudioSample) bool { return s.Participant == l.Publisher })
		if i < 0 {
			out = append(out, AudioSample{Participant: l.Publisher})
			i = len(out) - 1
		}
		out[i].Packets += l.Packets - p.Packets
		out[i].Voiced += l.Voiced - p.Voiced
		out[i].Loudness += l.Loudness - p.Loudness
	}
	a.prev, a.next = next, a.prev
	a.samples = out
	return out
}
