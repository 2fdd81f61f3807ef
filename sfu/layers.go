package sfu

import (
	"slices"
	"time"

	"github.com/pion/webrtc/v4"
)

// Simulcast.
//
// A publisher may send its video as up to three layers of one source
// (RID-based simulcast, RFC 8853, as browsers do: each layer an encoding
// of its own, on an SSRC of its own, named by a rid). pion hands each
// layer over as a remote track of the same receiver; the router makes
// them the layers of one published track, numbered from the lowest in the
// order the publisher's description lists them (lowest first, as
// browsers' clients list their encodings). Each subscriber gets one
// layer of it (downTrack.want), chosen here from the most it wants
// (SetLayerPreference, which the room's owner sets from the size the
// subscriber shows the tile at) and the layers the publisher sends now.
// The reader switches a subscriber to the layer chosen on that layer's
// first keyframe, asked for when the choice changes, and rewrites
// sequence numbers and timestamps so that the subscriber sees one
// continuous stream (downTrack.forward).
//
// Which layers some subscriber wants is reported (RouterParams.OnLayers,
// from the engine's report ticker within a second of a change, never
// from inside the owner's own calls; Router.Layers when asked), so that
// the owner can tell the publisher to pause the others and resume them
// when they are wanted again.

const (
	// maxLayers is how many simulcast layers of a track are forwarded.
	maxLayers = 3
	// layerNone: no layer (video paused for the subscriber, or nothing
	// forwarded yet).
	layerNone int8 = -1
	// layerIdle: a layer not heard from for this long is taken to be
	// paused by its publisher, and subscribers move to another.
	layerIdle = time.Second
)

// LayerPaused, as the most a subscriber wants of a publisher's video,
// pauses it: no video, while audio flows.
const LayerPaused = -1

// TrackLayers says which simulcast layers of a published video track the
// publisher sends, and which some subscriber wants.
type TrackLayers struct {
	Track TrackInfo
	// RIDs are the layers' rids, lowest first ("" for a track without
	// simulcast); a layer not yet seen is "".
	RIDs []string
	// Wanted says, for each layer, whether some subscriber the gate lets
	// the video reach wants it (as the most it wants, or the most the
	// publisher sends below that). A layer nobody wants may be paused at
	// the publisher, and should be resumed when it is wanted again.
	Wanted []bool
}

// layerIndex is remote's place among the layers of its receiver: 0 for a
// track without simulcast, -1 past maxLayers.
func layerIndex(recv *webrtc.RTPReceiver, remote *webrtc.TrackRemote) int8 {
	if recv == nil {
		return 0
	}
	i := slices.Index(recv.Tracks(), remote)
	if i < 0 {
		return 0
	}
	if i >= maxLayers {
		return layerNone
	}
	return int8(i)
}

// sending reports whether the publisher still sends l, at now (unix ns):
// a layer just handed over (nothing read yet) counts.
func (l *layer) sending(now int64) bool {
	at := l.lastAt.Load()
	return at == 0 || now-at < int64(layerIdle)
}

// chooseLayer returns the layer a subscriber wanting at most most gets:
// the highest the publisher sends at or below it, or else the lowest it
// sends; layerNone when most is layerNone or nothing is sent. Audio has
// one layer, always chosen.
func (t *publishedTrack) chooseLayer(most int8, now int64) int8 {
	if t.info.Kind == KindAudio {
		return 0
	}
	if most == layerNone {
		return layerNone
	}
	best := layerNone
	for i := int8(maxLayers - 1); i >= 0; i-- {
		l := t.layer(i)
		if l == nil || !l.sending(now) {
			continue
		}
		if i <= most {
			return i
		}
		best = i
	}
	return best
}

// choose sets the layer d is to get without a bandwidth limit.
func (d *downTrack) choose(now int64) {
	if d.sub.link != linkNone {
		return // a link's layer is its own
	}
	d.setWant(d.pub.chooseLayer(int8(d.pref.Load()), now))
}

// setWant sets the layer d is to get, and asks for a keyframe of a layer
// newly chosen.
func (d *downTrack) setWant(w int8) {
	if int8(d.want.Swap(int32(w))) != w && w != layerNone && d.allowed() && d.bound.Load() != nil {
		d.pub.requestKeyframe(w)
	}
}

// SetLayerPreference sets the most of publisher's camera that subscriber
// is to get: a simulcast layer (0 the lowest, up to 2) or LayerPaused. The
// room's owner sets it from the size the subscriber shows the tile at.
// A screen share is not a camera: it is forwarded whole.
// It holds for what the publisher publishes later, until either leaves;
// until it is set, a subscriber gets the highest layer sent. It reports
// false if either is not in the router.
func (r *Router) SetLayerPreference(subscriber, publisher string, most int) bool {
	most = max(min(most, maxLayers-1), LayerPaused)
	r.mu.Lock()
	sub := r.peers[subscriber]
	if sub == nil || subscriber == publisher || (r.peers[publisher] == nil && !r.publishesLocked(publisher)) {
		r.mu.Unlock()
		return false
	}
	if sub.prefs == nil {
		sub.prefs = map[string]int8{}
	}
	sub.prefs[publisher] = int8(most)
	var downs []*downTrack
	for _, d := range sub.downs {
		if d.pub.info.Publisher == publisher && d.kind == KindVideo && !d.pub.info.Screen {
			d.pref.Store(int32(most))
			downs = append(downs, d)
		}
	}
	r.mu.Unlock()
	now := time.Now().UnixNano()
	for _, d := range downs {
		d.choose(now)
	}
	return true
}

// prefLocked is the most sub wants of t. Under r.mu.
func (r *Router) prefLocked(sub *Peer, t *publishedTrack) int8 {
	if t.info.Kind == KindVideo && !t.info.Screen {
		if p, ok := sub.prefs[t.info.Publisher]; ok {
			return p
		}
	}
	return maxLayers - 1
}

// Layers reports, for each published video track, which layers the
// publisher sends and which some subscriber wants.
func (r *Router) Layers() []TrackLayers {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]TrackLayers, 0, len(r.tracks))
	for _, t := range r.tracks {
		if t.info.Kind == KindVideo {
			out = append(out, t.layersLocked(t.wantedLocked()))
		}
	}
	slices.SortFunc(out, func(a, b TrackLayers) int {
		switch {
		case a.Track.ID < b.Track.ID:
			return -1
		case a.Track.ID > b.Track.ID:
			return 1
		}
		return 0
	})
	return out
}

// wantedLocked is the set of t's layers (a bit each) some subscriber the
// gate lets its video reach wants: the most it wants, or the highest the
// publisher has below that; and then also the lowest the publisher has,
// which a subscriber whose bandwidth cannot carry its layer falls back to
// (bandwidth.go): a layer paused at the publisher cannot be stepped down
// to. Under Router.mu.
func (t *publishedTrack) wantedLocked() uint8 {
	top, bottom := layerNone, layerNone
	for i := int8(maxLayers - 1); i >= 0; i-- {
		if t.layer(i) != nil {
			top = max(top, i)
			bottom = i
		}
	}
	var set uint8
	for _, d := range *t.downs.Load() {
		p := int8(d.pref.Load())
		if p == layerNone || !d.allowed() || top == layerNone {
			continue
		}
		set |= 1<<min(p, top) | 1<<bottom
	}
	return set
}

func (t *publishedTrack) layersLocked(wanted uint8) TrackLayers {
	n := 0
	for i := range maxLayers {
		if t.layers[i].Load() != nil {
			n = i + 1
		}
	}
	tl := TrackLayers{Track: t.info, RIDs: make([]string, n), Wanted: make([]bool, n)}
	for i := range n {
		if l := t.layers[i].Load(); l != nil {
			tl.RIDs[i] = l.rid
		}
		tl.Wanted[i] = wanted&(1<<i) != 0
	}
	return tl
}

// reportLayers tells the observer of the video tracks whose wanted layers,
// or whose layers known, changed since it was last told (a layer the
// publisher sends may arrive after the others, and is then to be paused
// or not); of a video that came in on a link, it tells the link in's
// OnWanted instead. The report ticker calls it.
func (r *Router) reportLayers() {
	var changed []TrackLayers
	var tell []func(TrackLayers) // whom each of changed goes to
	r.mu.Lock()
	if r.onLayers == nil && r.linksIn == 0 {
		r.mu.Unlock()
		return
	}
	for _, t := range r.tracks {
		// A video that came in on a link goes back to its link out:
		// what this node wants of it (link.go).
		to := r.onLayers
		if t.pub.link == linkIn {
			to = t.pub.onWanted
		}
		if to == nil || t.info.Kind != KindVideo {
			continue
		}
		w := t.wantedLocked()
		key := w
		for i := range maxLayers {
			if t.layers[i].Load() != nil {
				key |= 1 << (maxLayers + i)
			}
		}
		if key != t.wanted {
			t.wanted = key
			changed = append(changed, t.layersLocked(w))
			tell = append(tell, to)
		}
	}
	r.mu.Unlock()
	for i, tl := range changed {
		tell[i](tl)
	}
}
