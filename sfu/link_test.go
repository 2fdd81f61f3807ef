package sfu

import (
	"bytes"
	"slices"
	"sync"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// wire carries one link direction's signaling in memory, in order, to a
// peer known once it exists.
type wire struct {
	t     *testing.T
	mu    sync.Mutex
	queue []func(*Peer)
	to    *Peer
	wake  chan struct{}
	done  chan struct{}
	wg    sync.WaitGroup
}

func newWire(t *testing.T) *wire {
	w := &wire{t: t, wake: make(chan struct{}, 1), done: make(chan struct{})}
	w.wg.Add(1)
	go w.run()
	t.Cleanup(func() {
		close(w.done)
		w.wg.Wait()
	})
	return w
}

// connect says where messages go, and starts them going.
func (w *wire) connect(p *Peer) {
	w.mu.Lock()
	w.to = p
	w.mu.Unlock()
	w.poke()
}

func (w *wire) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *wire) send(f func(*Peer)) {
	w.mu.Lock()
	w.queue = append(w.queue, f)
	w.mu.Unlock()
	w.poke()
}

func (w *wire) run() {
	defer w.wg.Done()
	for {
		select {
		case <-w.done:
			return
		case <-w.wake:
		}
		w.mu.Lock()
		to, q := w.to, w.queue
		if to != nil {
			w.queue = nil
		}
		w.mu.Unlock()
		if to == nil {
			continue
		}
		for _, f := range q {
			f(to)
		}
	}
}

// SendOffer, SendAnswer, SendCandidate and SendSections implement
// Signaler for the end that sends on w.
func (w *wire) SendOffer(s string) {
	w.send(func(p *Peer) {
		if _, err := p.HandleOffer(s); err != nil && !isClosed(err) {
			w.t.Errorf("link: offer: %v", err)
		}
	})
}

func (w *wire) SendAnswer(s string) {
	w.send(func(p *Peer) {
		if err := p.HandleAnswer(s); err != nil && !isClosed(err) {
			w.t.Errorf("link: answer: %v", err)
		}
	})
}

func (w *wire) SendCandidate(c webrtc.ICECandidateInit) {
	w.send(func(p *Peer) { _ = p.AddICECandidate(c) })
}

func (w *wire) SendSections([]Section) {}

func isClosed(err error) bool { return err == ErrClosed }

// link links the routers of rooms a and b, named an and bn, both ways.
func link(t *testing.T, a *testRoom, an string, b *testRoom, bn string) {
	t.Helper()
	oneWay := func(from *testRoom, fn string, to *testRoom, tn string) {
		toIn, toOut := newWire(t), newWire(t) // to the link in, to the link out
		out, err := from.router.AddLinkOut(LinkParams{Node: tn, Signaler: toIn})
		if err != nil {
			t.Fatal(err)
		}
		in, err := to.router.AddLinkIn(LinkParams{Node: fn, Signaler: toOut, OnWanted: func(tl TrackLayers) {
			toOut.send(func(p *Peer) { p.HandleWanted(tl.Track.ID, tl.Wanted) })
		}})
		if err != nil {
			t.Fatal(err)
		}
		toIn.connect(in)
		toOut.connect(out)
	}
	oneWay(a, an, b, bn)
	oneWay(b, bn, a, an)
}

// trackIDs lists the ids of router r's tracks.
func trackIDs(r *Router) []string {
	var out []string
	for _, t := range r.Tracks() {
		out = append(out, t.ID)
	}
	return out
}

// TestLinkCarriesRoom: two routers of one room, on two engines (two
// nodes), linked both ways. A subscriber on each node gets the media of
// a publisher on the other: audio, and video whose three simulcast layers
// all cross, so that each far subscriber gets the layer it wants. Each
// track is published on the far node under its own id and publisher, and
// comes back to neither (no loop); audio levels cross with the sound. A
// gate that mutes someone, on the node they publish on, keeps their
// media off the link altogether; their leaving ends their tracks on the
// far node.
func TestLinkCarriesRoom(t *testing.T) {
	a, b := newTestRoom(t), newTestRoom(t)
	alice := a.join("alice", clientOpts{audio: true, rids: []string{"q", "h", "f"}})
	link(t, a, "A", b, "B")
	bob := b.join("bob", clientOpts{audio: true, levels: true})
	carol := b.join("carol", clientOpts{})

	for _, c := range []*testClient{bob, carol} {
		waitFor(t, c.id+" hears alice across the link", func() bool {
			s := c.stream("alice", KindAudio)
			return s != nil && len(s.packets()) >= 25
		})
	}
	waitFor(t, "alice hears bob across the link", func() bool {
		s := alice.stream("bob", KindAudio)
		return s != nil && len(s.packets()) >= 25
	})
	waitFor(t, "every track on both nodes", func() bool {
		return len(a.router.Tracks()) == 3 && len(b.router.Tracks()) == 3
	})
	if ia, ib := trackIDs(a.router), trackIDs(b.router); !slices.Equal(ia, ib) {
		t.Errorf("the nodes know the room's tracks as %v and %v", ia, ib)
	}
	for _, tr := range b.router.Tracks() {
		if tr.Publisher != "alice" && tr.Publisher != "bob" {
			t.Errorf("track %s published by %q on the far node", tr.ID, tr.Publisher)
		}
	}

	// Every layer crossed: each far subscriber gets the one it wants.
	waitFor(t, "alice's three layers on the far node", func() bool {
		for _, tl := range b.router.Layers() {
			if tl.Track.Publisher == "alice" {
				return slices.Equal(tl.RIDs, []string{"q", "h", "f"})
			}
		}
		return false
	})
	if !b.router.SetLayerPreference("carol", "alice", 0) {
		t.Fatal("a far publisher's layer could not be chosen")
	}
	waitFor(t, "carol gets alice's lowest layer", func() bool { return lastLayerIs(carol, "alice", 0) })
	waitFor(t, "bob gets alice's highest layer", func() bool { return lastLayerIs(bob, "alice", 2) })
	n := len(videoFrom(carol, "alice"))
	waitFor(t, "carol gets 25 packets more", func() bool { return len(videoFrom(carol, "alice")) >= n+25 })
	checkContinuous(t, "carol", videoFrom(carol, "alice")[n-1:])

	// Bob's voice is heard as voice on alice's node.
	waitFor(t, "bob's audio levels on alice's node", func() bool {
		for _, l := range a.router.AudioLevels(nil) {
			if l.Publisher == "bob" && l.Voiced >= 25 {
				return true
			}
		}
		return false
	})

	// Alice muted by the room (each node has the room's gate): her media
	// stops at the link.
	gate := NewGate(map[string]Forward{"alice": {}, "bob": {Audio: true, Video: true}, "carol": {Audio: true, Video: true}})
	a.router.SetGate(gate)
	b.router.SetGate(gate)
	muted := &a.engine.Stats().PacketsDropped[DropMuted]
	m0 := muted.Load()
	waitFor(t, "alice's media held back on her node", func() bool { return muted.Load() >= m0+50 })
	heard := len(bob.stream("alice", KindAudio).packets())
	m1 := muted.Load()
	waitFor(t, "two seconds more of alice's media held back", func() bool { return muted.Load() >= m1+150 })
	if got := len(bob.stream("alice", KindAudio).packets()); got > heard+3 {
		t.Errorf("bob heard %d packets of alice's while she was muted", got-heard)
	}
	if far := b.engine.Stats().PacketsDropped[DropMuted].Load(); far > 10 {
		t.Errorf("%d packets of a muted publisher crossed the link", far)
	}
	b.router.SetGate(nil)
	a.router.SetGate(nil)
	waitFor(t, "bob hears alice again", func() bool { return len(bob.stream("alice", KindAudio).packets()) >= heard+25 })

	// Alice leaves: her tracks end on the far node too.
	alice.close()
	waitFor(t, "alice's tracks gone from the far node", func() bool {
		return slices.Equal(trackIDs(b.router), []string{"bob-audio-1"})
	})
}

// TestLinkTrackID: a layer's name on a link gives back the track, whatever
// its publisher's id holds; anything else is refused.
func TestLinkTrackID(t *testing.T) {
	for _, tr := range []TrackInfo{
		{ID: "a.b-video-2", Publisher: "a.b", StreamID: "a.b"},
		{ID: "x-screen-video-3", Publisher: "x", StreamID: ScreenStreamID("x"), Screen: true},
	} {
		for _, l := range []int8{0, 2} {
			got, layer, rid, ok := parseLinkTrackID(tr.StreamID, linkTrackID(tr, l, "h"))
			if !ok || got != tr || layer != l || rid != "h" {
				t.Errorf("%+v layer %d came back as %+v layer %d rid %q (%v)", tr, l, got, layer, rid, ok)
			}
		}
	}
	for _, bad := range []string{"", "audio", "3.q.c.1.ab", "0..c.9.ab", "0..x.1.ab", "0..c.-1.ab", "0..c.2.ab"} {
		if _, _, _, ok := parseLinkTrackID("s", bad); ok {
			t.Errorf("%q taken as a link's track", bad)
		}
	}
}

// TestLinkCarriesAudioLevel: audio sent on a link keeps the publisher's
// audio level, under the link's id for it, and forwarding it allocates
// nothing; a participant's audio goes without it, as before.
func TestLinkCarriesAudioLevel(t *testing.T) {
	w := &stampWriter{id: 5}
	pub, d := rtxVideo(t, w)
	pub.info.Kind, pub.codec = KindAudio, webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000}
	pub.layers[0].Store(pub.newLayer(0, "", nil, 100, nil)) // an audio layer now
	pub.levels.extID = 3
	d.kind = KindAudio
	d.sub.link = linkOut
	d.bound.Store(&binding{ssrc: 1000, pt: 111, w: w, levelID: 5})
	p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SSRC: 100}, Payload: make([]byte, 40)}
	if err := p.SetExtension(3, []byte{0x80 | 20}); err != nil {
		t.Fatal(err)
	}
	forward := func() {
		p.SequenceNumber++
		p.Timestamp += 960
		pub.fwdMu.Lock()
		pub.handleLocked(pub.layer(0), p, 1)
		pub.fwdMu.Unlock()
	}
	forward()
	if len(w.pkts) != 1 || !bytes.Equal(w.pkts[0].abs, []byte{0x80 | 20}) || w.pkts[0].ids != 1 {
		t.Fatalf("sent on the link: %+v; want the level alone, at id 5", w.pkts)
	}
	d.sub.link = linkNone
	d.bound.Store(&binding{ssrc: 1000, pt: 111, w: w})
	forward()
	if got := w.pkts[1]; got.ids != 0 {
		t.Errorf("a participant's audio went with %d extensions", got.ids)
	}
	d.sub.link = linkOut
	d.bound.Store(&binding{ssrc: 1000, pt: 111, w: &discardWriter{}, levelID: 5})
	if a := testing.AllocsPerRun(100, forward); a != 0 {
		t.Errorf("forwarding audio on a link allocates %.1f times a packet", a)
	}
}

// TestLinkStar: three nodes linked through one (a star, as a room's owner
// links its others). A publisher on one edge is heard on the other,
// through the hub; each node has each track once, nothing comes back.
func TestLinkStar(t *testing.T) {
	hub, b, c := newTestRoom(t), newTestRoom(t), newTestRoom(t)
	link(t, hub, "H", b, "B")
	link(t, hub, "H", c, "C")
	bob := b.join("bob", clientOpts{audio: true})
	cat := c.join("cat", clientOpts{audio: true})
	hal := hub.join("hal", clientOpts{})
	for _, x := range []struct {
		c   *testClient
		pub string
	}{{cat, "bob"}, {bob, "cat"}, {hal, "bob"}, {hal, "cat"}} {
		waitFor(t, x.c.id+" hears "+x.pub, func() bool {
			s := x.c.stream(x.pub, KindAudio)
			return s != nil && len(s.packets()) >= 25
		})
	}
	want := []string{"bob-audio-1", "cat-audio-1"}
	for _, r := range []*testRoom{hub, b, c} {
		if got := trackIDs(r.router); !slices.Equal(got, want) {
			t.Errorf("a node has tracks %v, want %v", got, want)
		}
	}
	// The edges' links out carry their own publisher's track alone.
	for _, x := range []struct {
		r   *testRoom
		hub string
	}{{b, "H"}, {c, "H"}} {
		x.r.router.mu.Lock()
		n := len(x.r.router.peers[LinkOutID(x.hub)].downs)
		x.r.router.mu.Unlock()
		if n != 1 {
			t.Errorf("an edge sends %d tracks to the hub, want its one", n)
		}
	}
}

// BenchmarkForwardLink compares sending audio to a link (which carries
// its audio level on) with sending it to a participant: 11 of one kind.
func BenchmarkForwardLink(b *testing.B) {
	for _, to := range []string{"participants", "links"} {
		b.Run(to, func(b *testing.B) {
			t := benchTrack(11, func(int) rtpWriter { return &discardWriter{} })
			t.levels.extID = 1
			for _, d := range *t.downs.Load() {
				if to == "links" {
					d.sub.link = linkOut
					d.bound.Load().levelID = 3
				}
			}
			pkt := audioPacket()
			_ = pkt.SetExtension(1, []byte{0x80 | 30})
			benchFanoutOf(b, t, 11, &t.stats.PacketsForwarded, pkt)
		})
	}
}

// wantedOf is what router r says is wanted of pub's video.
func wantedOf(r *Router, pub string) []bool {
	for _, tl := range r.Layers() {
		if tl.Track.Publisher == pub {
			return tl.Wanted
		}
	}
	return nil
}

// TestLinkLayersWanted: the publisher's node learns what the far node's
// subscribers want of a video. A layer nobody there wants stops crossing
// and is no longer wanted at the publisher's node (whose owner would
// pause it at the publisher); once a far subscriber wants it again, it
// crosses again and that subscriber gets it.
func TestLinkLayersWanted(t *testing.T) {
	a, b := newTestRoom(t), newTestRoom(t)
	a.join("alice", clientOpts{rids: []string{"q", "h", "f"}})
	link(t, a, "A", b, "B")
	bob := b.join("bob", clientOpts{})
	carol := b.join("carol", clientOpts{})
	waitFor(t, "bob gets alice's highest layer", func() bool { return lastLayerIs(bob, "alice", 2) })
	// By default a viewer wants the most there is, and the lowest is kept
	// for a viewer short of bandwidth.
	waitFor(t, "alice's node wants her lowest and highest", func() bool {
		return slices.Equal(wantedOf(a.router, "alice"), []bool{true, false, true})
	})
	for _, c := range []*testClient{bob, carol} {
		b.router.SetLayerPreference(c.id, "alice", 0)
	}
	waitFor(t, "alice's node wants her lowest alone", func() bool {
		return slices.Equal(wantedOf(a.router, "alice"), []bool{true, false, false})
	})
	top := func() uint64 {
		a.router.mu.Lock()
		var d *downTrack
		for _, x := range a.router.peers[LinkOutID("B")].downs {
			if x.kind == KindVideo && x.linkLayer == 2 {
				d = x
			}
		}
		a.router.mu.Unlock()
		d.pub.fwdMu.Lock()
		defer d.pub.fwdMu.Unlock()
		return d.forwarded
	}
	n := top()
	waitFor(t, "bob gets 25 packets of layer 0", func() bool {
		p := videoFrom(bob, "alice")
		return len(p) > 25 && p[len(p)-25].layer == 0
	})
	if m := top(); m > n+2 {
		t.Errorf("%d packets of a layer nobody on the far node wants crossed the link", m-n)
	}

	b.router.SetLayerPreference("carol", "alice", 2)
	waitFor(t, "carol gets alice's highest layer again", func() bool { return lastLayerIs(carol, "alice", 2) })
	if w := wantedOf(a.router, "alice"); !slices.Equal(w, []bool{true, false, true}) {
		t.Errorf("alice's node wants %v of her, want lowest and highest", w)
	}
}
