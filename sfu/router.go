package sfu

import (
	"cmp"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// Observer hears about tracks coming and going, to tell clients. It is
// called from the SFU's goroutines and must not block.
type Observer interface {
	TrackPublished(TrackInfo)
	TrackUnpublished(TrackInfo)
}

// RouterParams configures a Router.
type RouterParams struct {
	ID       string
	Observer Observer
	Logger   *slog.Logger
	// OnLayers, if set, is told when the simulcast layers some subscriber
	// wants of a video track change (see TrackLayers), so that the room's
	// owner can have the publisher pause the others. It is called from
	// the SFU's goroutines and must not block.
	OnLayers func(TrackLayers)
	// OnVideoHeld, if set, is told when a subscriber's link stops or
	// starts carrying a video it is to be shown: held back because even
	// its lowest layer does not fit the subscriber's bandwidth, or
	// let through again (bandwidth.go). It is called from the SFU's
	// goroutines and must not block.
	OnVideoHeld func(VideoHeld)
	// OnSendingQuality, if set, is told when much of a publisher's sound
	// starts or stops being lost on its way in (uplink.go). It is called
	// from the SFU's goroutines and must not block.
	OnSendingQuality func(SendingQuality)
}

// Router forwards every published track to every other peer in it, subject
// to the gate. One Router serves one session of one room.
//
// Lock order: Peer.negMu before Router.mu; pion calls are made under
// Peer.negMu only.
type Router struct {
	engine   *Engine
	obs      Observer
	onLayers func(TrackLayers)
	onHeld   func(VideoHeld)
	onSent   func(SendingQuality)
	log      *slog.Logger

	mu     sync.Mutex
	peers  map[string]*Peer
	tracks map[string]*publishedTrack
	gate   *Gate // immutable; nil forwards everything
	closed bool
	joins  int // peers added so far
	// linksIn counts the links in: until there is one, every publisher is
	// a peer here.
	linksIn int
	// probeGap is the first wait before a tile stepped down is tried a
	// layer up (probe.go); tests change it.
	probeGap time.Duration
}

// NewRouter creates an empty router.
func (e *Engine) NewRouter(p RouterParams) *Router {
	log := p.Logger
	if log == nil {
		log = e.log
	}
	return &Router{
		engine:   e,
		obs:      p.Observer,
		onLayers: p.OnLayers,
		onHeld:   p.OnVideoHeld,
		onSent:   p.OnSendingQuality,
		log:      log.With("router", p.ID),
		peers:    map[string]*Peer{},
		tracks:   map[string]*publishedTrack{},
		probeGap: probeFirstGap,
	}
}

// AddPeer creates the peer's connection, subscribes it to every track
// already published, and sends the first offer through its Signaler.
func (r *Router) AddPeer(params PeerParams) (*Peer, error) {
	return r.addPeer(params, linkNone, "")
}

// addPeer adds a participant, or an end of a link with node far (link.go).
func (r *Router) addPeer(params PeerParams, link linkRole, far string) (*Peer, error) {
	var fast *peerFast
	keys := &keyCapture{}
	if r.engine.fastAudio {
		fast = &peerFast{}
		keys = &fast.keys
	}
	log := r.log.With("peer", params.ID)
	in := newIngress(log, r.engine.stats, keys)
	in.dtlsClient = link == linkIn
	var fb *feedback
	if r.engine.fastVideo {
		fb = newFeedback(time.Now())
		fast.fb, fast.guard = fb, in
	}
	bufs := &streamBuffers{}
	cert, err := r.engine.certs.get()
	if err != nil {
		return nil, err
	}
	parts := r.engine.parts
	if link == linkIn {
		if parts, err = r.engine.linkAPI(); err != nil {
			return nil, err
		}
	}
	pc, err := r.engine.peerAPI(parts, link != linkNone, fast, keys, bufs, fb).NewPeerConnection(webrtc.Configuration{Certificates: []webrtc.Certificate{cert}})
	if err != nil {
		return nil, fmt.Errorf("sfu: new peer connection: %w", err)
	}
	p := &Peer{
		fast:      fast,
		feedback:  fb,
		in:        in,
		mux:       parts.mux,
		bufs:      bufs,
		id:        params.ID,
		router:    r,
		pc:        pc,
		sig:       params.Signaler,
		can:       params.CanPublish,
		maxTracks: cmp.Or(params.MaxTracks, DefaultMaxTracks),
		onRefused: params.OnRefusedTrack,
		log:       log,
		downs:     map[string]*downTrack{},
		published: map[string]*publishedTrack{},
		sources:   map[*webrtc.RTPReceiver]*publishedTrack{},
		rtcpSSRC:  rand.Uint32(),
		batch:     r.engine.negBatch,
		sendLog:   &sendLog{},
		link:      link,
		far:       far,
	}
	// Publishing slots come first, so clients find them at the first audio
	// and first video m-lines. Every peer gets them, even one that may not
	// publish (what arrives there is refused in publish): the first offer
	// needs a media section for the transport to start at all.
	// A link has none: it publishes only what its far end offers.
	slotKinds := []Kind{KindAudio, KindVideo}
	if link != linkNone {
		slotKinds = nil
	}
	for _, k := range slotKinds {
		tr, err := pc.AddTransceiverFromKind(k.codecType(), webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly})
		if err != nil {
			_ = pc.Close()
			return nil, fmt.Errorf("sfu: add %s slot: %w", k, err)
		}
		p.slots = append(p.slots, tr)
		p.ownSections++
	}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return
		}
		// Gathering starts inside SetLocalDescription, before the offer is
		// queued; taking negMu keeps each candidate behind its description.
		p.negMu.Lock()
		defer p.negMu.Unlock()
		if !p.closed {
			p.sig.SendCandidate(c.ToJSON())
		}
	})
	pc.OnTrack(func(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
		r.publish(p, remote, recv)
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		p.log.Debug("connection state", "state", s.String())
		if s == webrtc.PeerConnectionStateConnected && p.fast != nil {
			if err := p.fast.activate(pc, parts.mux); err != nil {
				p.log.Info("fast path off", "err", err)
			}
		}
		if params.OnConnectionState != nil {
			params.OnConnectionState(s)
		}
	})

	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		_ = pc.Close()
		return nil, ErrClosed
	}
	if _, dup := r.peers[p.id]; dup {
		r.mu.Unlock()
		_ = pc.Close()
		return nil, ErrDuplicatePeer
	}
	r.peers[p.id] = p
	if link == linkIn {
		r.linksIn++
	}
	r.joins++
	p.joined = r.joins
	r.engine.stats.Peers.Add(1)
	r.engine.addPeer(p)
	existing := make([]*publishedTrack, 0, len(r.tracks))
	for _, t := range r.tracks {
		existing = append(existing, t)
	}
	r.mu.Unlock()

	kinds := map[Kind]bool{}
	for _, t := range existing {
		r.subscribe(p, t, false)
		kinds[t.info.Kind] = true
	}
	// Spares for what the room already publishes (sections.go).
	p.negMu.Lock()
	for _, k := range []Kind{KindAudio, KindVideo} {
		if kinds[k] {
			p.addSparesLocked(k)
		}
	}
	if link == linkNone || len(p.sections) > 0 {
		p.negotiateLocked()
	}
	p.negMu.Unlock()
	return p, nil
}

// Tracks lists the published tracks.
func (r *Router) Tracks() []TrackInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]TrackInfo, 0, len(r.tracks))
	for _, t := range r.tracks {
		out = append(out, t.info)
	}
	slices.SortFunc(out, func(a, b TrackInfo) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out
}

// SetGate replaces the gate and applies it to every subscription at once;
// the router keeps g, which must not change afterwards (a Gate cannot).
// The room's live owner calls it, with the gate live.Controls builds,
// whenever who may receive whom changes. Until then (or with nil) every
// track reaches every other peer.
func (r *Router) SetGate(g *Gate) {
	r.mu.Lock()
	r.gate = g
	var downs []*downTrack
	for _, t := range r.tracks {
		downs = append(downs, *t.downs.Load()...)
	}
	r.mu.Unlock()
	for _, d := range downs {
		d.setGate(g.verdictFor(d.pub.info, d.sub))
	}
}

// Close closes every peer.
func (r *Router) Close() {
	r.mu.Lock()
	r.closed = true
	peers := make([]*Peer, 0, len(r.peers))
	for _, p := range r.peers {
		peers = append(peers, p)
	}
	r.mu.Unlock()
	for _, p := range peers {
		p.Close()
	}
}

func (r *Router) publish(p *Peer, remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	if p.link != linkNone {
		r.publishLinked(p, remote, recv)
		return
	}
	kind := kindOf(remote.Kind())
	if !p.canPublish(kind) {
		p.log.Info("refused track: not allowed to publish", "kind", kind)
		r.mu.Lock()
		r.discardLocked(p, remote)
		r.mu.Unlock()
		p.refused(kind, ErrNotAllowed)
		return
	}
	index := layerIndex(recv, remote)
	// A section the client added carries its screen, unless it carries
	// simulcast layers: browsers publish a simulcast camera in a section of
	// their own, since they cannot add layers to the one offered to them.
	screen := !slices.ContainsFunc(p.slots, func(tr *webrtc.RTPTransceiver) bool { return tr.Receiver() == recv }) && remote.RID() == ""
	r.mu.Lock()
	if r.closed || r.peers[p.id] != p {
		r.mu.Unlock()
		return
	}
	if t := p.sources[recv]; t != nil {
		// Another simulcast layer of a track published already.
		if index == layerNone || t.layer(index) != nil || r.tracks[t.info.ID] != t {
			r.discardLocked(p, remote)
			r.mu.Unlock()
			return
		}
		r.startLayerLocked(t, t.newLayer(index, remote.RID(), remote, uint32(remote.SSRC()), p.pc))
		r.mu.Unlock()
		r.allocateTrack(t)
		r.linkLayer(t, index)
		return
	}
	if index == layerNone {
		r.discardLocked(p, remote)
		r.mu.Unlock()
		return
	}
	if len(p.published) >= p.maxTracks {
		r.discardLocked(p, remote)
		r.mu.Unlock()
		p.log.Info("refused track: too many", "kind", kind, "max", p.maxTracks)
		p.refused(kind, ErrTooManyTracks)
		return
	}
	source, stream := string(kind), p.id
	if screen {
		source, stream = "screen-"+source, ScreenStreamID(p.id)
	}
	p.trackSeq++
	id := fmt.Sprintf("%s-%s-%d", p.id, source, p.trackSeq)
	info := TrackInfo{ID: id, Publisher: p.id, StreamID: stream, Kind: kind, MimeType: remote.Codec().MimeType, Screen: screen}
	r.startTrackLocked(p, info, index, remote.RID(), remote, recv)
}

// startTrackLocked publishes a track of p, of which remote is layer
// index, and subscribes every other peer to it. Under r.mu, which it
// releases.
func (r *Router) startTrackLocked(p *Peer, info TrackInfo, index int8, rid string, remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	t := newPublishedTrack(info, remote, recv, p)
	if info.Kind == KindAudio {
		t.levels.extID = audioLevelExtID(recv)
	}
	r.tracks[info.ID] = t
	p.published[info.ID] = t
	p.sources[recv] = t
	r.engine.stats.Tracks.Add(1)
	r.startLayerLocked(t, t.newLayer(index, rid, remote, uint32(remote.SSRC()), p.pc))
	subs := make([]*Peer, 0, len(r.peers))
	for _, s := range r.peers {
		if s != p {
			subs = append(subs, s)
		}
	}
	r.mu.Unlock()

	if r.obs != nil {
		r.obs.TrackPublished(t.info)
	}
	for _, s := range subs {
		r.subscribe(s, t, true)
	}
}

// startLayerLocked starts reading layer l of t. Under r.mu, with t
// published.
func (r *Router) startLayerLocked(t *publishedTrack, l *layer) {
	t.layers[l.index].Store(l)
	t.readers++
	// The receiver reports back to the publisher echo its sender reports'
	// times, from which it learns the round-trip time (buffers.go).
	l.onSR = t.pub.bufs.senderReports(l.ssrc, func(ntp uint64, at int64) {
		t.fwdMu.Lock()
		l.rx.senderReport(ntp, at)
		t.fwdMu.Unlock()
	})
	go t.run(l, r.endLayer)
}

// endLayer runs when layer l's reader ends: the track ends everywhere,
// and is done once every layer's reader has returned.
func (r *Router) endLayer(t *publishedTrack, l *layer) {
	r.unpublish(t)
	r.mu.Lock()
	t.readers--
	last := t.readers == 0
	r.mu.Unlock()
	if last {
		close(t.done)
	}
}

// allocateTrack chooses again the layer each subscriber of t gets: t has
// a new one.
func (r *Router) allocateTrack(t *publishedTrack) {
	if t.info.Kind != KindVideo {
		return
	}
	now := time.Now().UnixNano()
	for _, d := range *t.downs.Load() {
		d.choose(now)
	}
}

// discardLocked reads a refused track until it ends and drops what it
// reads, so that a client sending on it anyway does not fill pion's
// buffers (up to 1 MB a stream) for as long as it stays. Under r.mu.
func (r *Router) discardLocked(p *Peer, remote *webrtc.TrackRemote) {
	if r.closed || r.peers[p.id] != p {
		return
	}
	stats := r.engine.stats
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		buf := make([]byte, 1500)
		for {
			if _, _, err := remote.Read(buf); err != nil {
				return
			}
			stats.Refused.Add(1)
		}
	}()
}

// subscribe adds t to sub's connection (once) and renegotiates if asked.
// A link out takes each of its layers (subscribeAs); a link in takes
// nothing.
func (r *Router) subscribe(sub *Peer, t *publishedTrack, renegotiate bool) {
	switch {
	case sub.link == linkIn, sub.link == linkOut && sub.loops(t):
	case sub.link == linkOut:
		for i := range int8(maxLayers) {
			if l := t.layer(i); l != nil {
				r.subscribeAs(sub, t, i, l.rid, renegotiate)
			}
		}
	default:
		r.subscribeAs(sub, t, layerNone, "", renegotiate)
	}
}

// subscribeAs adds t to sub's connection, once: for a participant
// (layer layerNone) the track, whose layer the subscriber's wishes and
// bandwidth choose; for a link out, layer layer (whose rid is rid) alone.
func (r *Router) subscribeAs(sub *Peer, t *publishedTrack, layer int8, rid string, renegotiate bool) {
	key := t.info.ID
	if layer != layerNone {
		key = linkTrackID(t.info, layer, rid)
	}
	sub.negMu.Lock()
	r.mu.Lock()
	ok := !r.closed && !sub.closed && r.tracks[t.info.ID] == t && r.peers[sub.id] == sub && sub.downs[key] == nil
	var d *downTrack
	if ok {
		d = newDownTrack(t, sub)
		d.id, d.linkLayer = key, layer
		d.gate.Store(int32(r.gate.verdictFor(t.info, sub)))
		most, want := layer, layer
		if layer == layerNone {
			most = r.prefLocked(sub, t)
			want = t.chooseLayer(most, time.Now().UnixNano())
		}
		d.pref.Store(int32(most))
		d.want.Store(int32(want))
		sub.downs[key] = d
		t.addDown(d)
	}
	r.mu.Unlock()
	offer := false
	if ok {
		var err error
		if offer, err = sub.addDownTrackLocked(d); err != nil {
			sub.log.Warn("subscribe", "track", key, "err", err)
			r.mu.Lock()
			delete(sub.downs, key)
			t.removeDown(d)
			r.mu.Unlock()
			ok = false
		}
	}
	if offer && renegotiate {
		sub.negotiateLocked()
	}
	sub.negMu.Unlock()
	// A new viewer needs a keyframe to show anything.
	if ok && d.allowed() {
		d.requestKeyframe()
	}
}

// unsubscribe takes t off sub's connection: the track, or each of its
// layers a link out carries.
func (r *Router) unsubscribe(sub *Peer, t *publishedTrack) {
	sub.negMu.Lock()
	defer sub.negMu.Unlock()
	r.mu.Lock()
	var downs []*downTrack
	if d := sub.downs[t.info.ID]; d != nil && d.pub == t {
		downs = append(downs, d)
	} else if sub.link != linkNone {
		for _, d := range sub.downs {
			if d.pub == t {
				downs = append(downs, d)
			}
		}
	}
	for _, d := range downs {
		delete(sub.downs, d.id)
		t.removeDown(d)
	}
	r.mu.Unlock()
	offer := false
	for _, d := range downs {
		if !sub.closed && sub.removeDownTrackLocked(d) {
			offer = true
		}
	}
	if offer {
		sub.negotiateLocked()
	}
}

// unpublish ends a track everywhere; it is idempotent.
func (r *Router) unpublish(t *publishedTrack) {
	r.mu.Lock()
	if r.tracks[t.info.ID] != t {
		r.mu.Unlock()
		return
	}
	delete(r.tracks, t.info.ID)
	delete(t.pub.published, t.info.ID)
	// A link in has a receiver for each layer.
	maps.DeleteFunc(t.pub.sources, func(_ *webrtc.RTPReceiver, x *publishedTrack) bool { return x == t })
	r.engine.stats.Tracks.Add(-1)
	var subs []*Peer
	for _, d := range *t.downs.Load() {
		subs = append(subs, d.sub)
	}
	var layers []*layer
	for i := range t.layers {
		if l := t.layers[i].Load(); l != nil {
			layers = append(layers, l)
			// Its handler holds the track, and with it the layer's history.
			t.pub.bufs.stopSenderReports(l.ssrc, l.onSR)
		}
	}
	r.mu.Unlock()
	for _, l := range layers {
		l.kf.close()
	}
	if r.obs != nil {
		r.obs.TrackUnpublished(t.info)
	}
	for _, s := range subs {
		r.unsubscribe(s, t)
	}
}

func (r *Router) removePeer(p *Peer) {
	r.mu.Lock()
	if r.peers[p.id] == p {
		delete(r.peers, p.id)
		if p.link == linkIn {
			r.linksIn--
		}
		r.engine.stats.Peers.Add(-1)
		r.engine.removePeer(p)
		for _, s := range r.peers {
			delete(s.prefs, p.id)
			if i := slices.Index(s.importance, p.id); i >= 0 {
				s.importance = slices.Delete(slices.Clone(s.importance), i, i+1)
			}
		}
	}
	tracks := make([]*publishedTrack, 0, len(p.published))
	for _, t := range p.published {
		tracks = append(tracks, t)
	}
	r.mu.Unlock()

	for _, t := range tracks {
		r.unpublish(t)
	}

	p.negMu.Lock()
	already := p.closed
	p.closed = true
	if p.batchTimer != nil {
		p.batchTimer.Stop()
		p.batchTimer = nil
	}
	if !already && p.mux != nil {
		p.mux.unguard(p.in.ufrag, p.in)
	}
	r.mu.Lock()
	for id, d := range p.downs {
		d.pub.removeDown(d)
		delete(p.downs, id)
	}
	r.mu.Unlock()
	p.negMu.Unlock()
	if already {
		return
	}
	_ = p.pc.Close()
	p.wg.Wait()
	for _, t := range tracks {
		t.endReads()
	}
	for _, t := range tracks {
		<-t.done
	}
	p.in.close()
}
