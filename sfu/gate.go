package sfu

import (
	"maps"
	"slices"
)

// Forward says which of one publisher's media the router forwards.
type Forward struct {
	Video bool
	Audio bool
	// Screen forwards the publisher's screen share (TrackInfo.Screen) to
	// everyone in the gate in the same Space; without it a screen track
	// reaches nobody. The screen's sound needs Audio too, and keeps to
	// AudioOnlyTo.
	Screen bool
	// AudioOnlyTo, when not empty, limits the audio to these subscribers
	// (a private aside); when empty, the audio goes to everyone in the gate.
	AudioOnlyTo []string
	// Space, when not empty, sets the publisher apart from the group (a
	// side room): media flows only between participants of the same
	// Space, both ways. Everyone whose Space is empty is the group.
	Space string
}

// Gate says who may receive whose media: plain data, immutable once made,
// evaluated by the router when it is set and when a subscription starts,
// never per packet. Only participants listed in it send or receive
// anything; a publisher never receives its own media. The nil *Gate
// forwards everything to everyone.
type Gate struct {
	fwd map[string]Forward
}

// NewGate returns a gate over the participants in fwd, keyed by peer id. It
// copies what it is given.
func NewGate(fwd map[string]Forward) *Gate {
	g := &Gate{fwd: maps.Clone(fwd)}
	if g.fwd == nil {
		g.fwd = map[string]Forward{}
	}
	for id, f := range g.fwd {
		if len(f.AudioOnlyTo) > 0 {
			f.AudioOnlyTo = slices.Clone(f.AudioOnlyTo)
			g.fwd[id] = f
		}
	}
	return g
}

// AllowsTrack reports whether track t may reach subscriber: a screen share
// by its publisher's Screen (and its sound by Allows as well), anything
// else by Allows.
func (g *Gate) AllowsTrack(t TrackInfo, subscriber string) bool {
	return g.trackVerdict(t, subscriber) == gateOpen
}

// Allows reports whether publisher's media of kind (camera and microphone,
// not a screen share) may reach subscriber.
func (g *Gate) Allows(publisher, subscriber string, kind Kind) bool {
	return g.verdict(publisher, subscriber, kind) == gateOpen
}

// gateVerdict is what the gate says of one subscription; the forwarding
// path reads it per packet and counts what it holds back by its reason.
type gateVerdict int32

const (
	gateOpen gateVerdict = iota
	// gateClosed: held back from this subscriber (a private aside, or one
	// of the two not in the gate): DropGate.
	gateClosed
	// gateMuted: the publisher's media of this kind goes to nobody (a mute,
	// the publisher's own or a facilitator's): DropMuted. Browsers keep
	// sending on a muted track (silence, 50 packets a second, and black
	// frames), so this is most of what the gate holds back.
	gateMuted
)

// trackVerdict is the verdict on track t for subscriber. A screen track
// from someone not sharing goes to nobody, like muted media; a screen's
// sound also follows its publisher's audio (a mute, an aside).
func (g *Gate) trackVerdict(t TrackInfo, subscriber string) gateVerdict {
	if !t.Screen || g == nil {
		return g.verdict(t.Publisher, subscriber, t.Kind)
	}
	f, s := g.fwd[t.Publisher], g.fwd[subscriber]
	if _, listed := g.fwd[subscriber]; !listed || t.Publisher == subscriber || f.Space != s.Space {
		return gateClosed
	}
	if !f.Screen {
		return gateMuted
	}
	if t.Kind != KindVideo {
		return g.verdict(t.Publisher, subscriber, t.Kind)
	}
	return gateOpen
}

func (g *Gate) verdict(publisher, subscriber string, kind Kind) gateVerdict {
	if g == nil {
		return gateOpen
	}
	if publisher == subscriber {
		return gateClosed
	}
	f, ok := g.fwd[publisher]
	s, listed := g.fwd[subscriber]
	if !ok || !listed || f.Space != s.Space {
		return gateClosed
	}
	switch {
	case kind == KindVideo && !f.Video, kind != KindVideo && !f.Audio:
		return gateMuted
	case kind != KindVideo && len(f.AudioOnlyTo) > 0 && !slices.Contains(f.AudioOnlyTo, subscriber):
		return gateClosed
	}
	return gateOpen
}

// Forwards returns a copy of what the gate forwards, by peer id: the gate
// as data, to be made again elsewhere with NewGate (another node's router
// of the same room). The nil *Gate gives nil.
func (g *Gate) Forwards() map[string]Forward {
	if g == nil {
		return nil
	}
	return NewGate(g.fwd).fwd
}
