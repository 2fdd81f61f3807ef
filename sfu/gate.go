package sfu

import (
	"maps"
	"slices"
)

// Forward says which of one publisher's media the router forwards.
type Forward struct {
	Video bool
	Audio bool
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

// Allows reports whether publisher's media of kind may reach subscriber.
func (g *Gate) Allows(publisher, subscriber string, kind Kind) bool {
	if g == nil {
		return true
	}
	if publisher == subscriber {
		return false
	}
	f, ok := g.fwd[publisher]
	s, listed := g.fwd[subscriber]
	if !ok || !listed || f.Space != s.Space {
		return false
	}
	if kind == KindVideo {
		return f.Video
	}
	return f.Audio && (len(f.AudioOnlyTo) == 0 || slices.Contains(f.AudioOnlyTo, subscriber))
}
