package sfu

import (
	"slices"
	"strings"
	"sync/atomic"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// VoiceLevel is the loudest level, in -dBov, that is not yet speech: a
// packet whose RFC 6464 audio level is at or below it (louder) counts as
// voiced. Room noise sits around 60-70, conversation around 20-40.
const VoiceLevel = 50

// audioLevels holds a published audio track's audio-level counters. The
// track's reader updates them with atomics; a sampler reads them from
// another goroutine. No locks, no allocation per packet.
type audioLevels struct {
	extID    uint8 // negotiated id of the audio-level extension; 0: none
	packets  atomic.Uint64
	voiced   atomic.Uint64
	loudness atomic.Uint64
}

// observe reads the audio-level extension of one packet, if present.
func (a *audioLevels) observe(pkt *rtp.Packet) {
	if a.extID == 0 {
		return
	}
	b := pkt.Header.GetExtension(a.extID)
	if len(b) == 0 {
		return
	}
	a.packets.Add(1)
	// RFC 6464: V flag in the top bit, then the level in -dBov (0 loudest,
	// 127 silence). The level alone decides: not every sender sets V.
	if level := b[0] & 0x7f; level <= VoiceLevel {
		a.voiced.Add(1)
		a.loudness.Add(uint64(127 - level))
	}
}

// audioLevelExtID returns the id the publisher negotiated for the audio
// level extension, or 0.
func audioLevelExtID(recv *webrtc.RTPReceiver) uint8 {
	if recv == nil {
		return 0
	}
	return audioLevelID(recv.GetParameters().HeaderExtensions)
}

// audioLevelID is the id negotiated for the audio level header extension
// among exts, 0 if it is not there.
func audioLevelID(exts []webrtc.RTPHeaderExtensionParameter) uint8 {
	for _, e := range exts {
		if strings.EqualFold(e.URI, sdp.AudioLevelURI) && e.ID > 0 && e.ID < 256 {
			return uint8(e.ID)
		}
	}
	return 0
}

// AudioLevel is one published audio track's audio-level counters since it
// was published: Packets carried a level, Voiced of them were at or above
// VoiceLevel, and Loudness sums 127 minus the level over the voiced ones.
// A sampler takes differences between two reads.
type AudioLevel struct {
	Track     string
	Publisher string
	Packets   uint64
	Voiced    uint64
	Loudness  uint64
}

// AudioLevels appends the counters of every published microphone to dst
// (sorted by track id) and returns it, so a periodic sampler can reuse its
// slice.
func (r *Router) AudioLevels(dst []AudioLevel) []AudioLevel {
	dst = dst[:0]
	r.mu.Lock()
	for _, t := range r.tracks {
		if t.info.Kind != KindAudio || t.info.Screen {
			continue // a screen's sound is not anyone speaking
		}
		dst = append(dst, AudioLevel{Track: t.info.ID, Publisher: t.info.Publisher,
			Packets: t.levels.packets.Load(), Voiced: t.levels.voiced.Load(), Loudness: t.levels.loudness.Load()})
	}
	r.mu.Unlock()
	slices.SortFunc(dst, func(a, b AudioLevel) int { return strings.Compare(a.Track, b.Track) })
	return dst
}
