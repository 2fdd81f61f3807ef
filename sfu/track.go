package sfu

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// TrackInfo describes a published track to the layers above.
type TrackInfo struct {
	ID        string // unique within the router
	Publisher string // the publishing peer's id
	// StreamID is the msid stream id subscribers see: the publisher's id,
	// or ScreenStreamID of it for a screen share.
	StreamID string
	Kind     Kind
	MimeType string
	// Screen says the track is a screen share: it arrived on a media
	// section the client added, not on one of the publishing slots the
	// server offers for the camera and the microphone, and without
	// simulcast layers (a client's own simulcast section is its camera).
	// The gate forwards it by Forward.Screen.
	Screen bool
}

// ScreenStreamID is the stream id subscribers see on publisher's screen
// share.
func ScreenStreamID(publisher string) string { return publisher + "-screen" }

// keyframeMinInterval bounds how often one publisher is asked for a
// keyframe: subscribers' PLIs arrive in bursts (one per viewer after a loss),
// and each keyframe is many times the size of a delta frame. It is above
// the 300 ms within which browsers (libwebrtc) ignore a repeated request,
// so none of ours is silently dropped.
const keyframeMinInterval = 500 * time.Millisecond

// keyframeRetryPackets: a subscriber still waiting for a keyframe after
// this many video packets (about a second) asks again, in case a request
// or the keyframe itself was lost.
const keyframeRetryPackets = 32

// publishedTrack is one incoming track and its fan-out: one stream, or up
// to maxLayers simulcast layers of one source (layers.go).
//
// Lifecycle: created when the publisher's first RTP arrives; one reader
// goroutine per layer (run) forwards until its remote track ends;
// unpublished when the first ends, or earlier when its peer closes; done
// once every reader has returned. Never reused.
type publishedTrack struct {
	info  TrackInfo
	codec webrtc.RTPCodecCapability
	pub   *Peer
	// recv is pion's receiver, whose remote tracks are the layers.
	recv *webrtc.RTPReceiver
	// levels counts audio levels for the active speaker (audio only).
	levels audioLevels
	// up is a microphone's loss on its way in (uplink.go); under fwdMu.
	up uplink

	// layers are set once each, under Router.mu, as pion hands them over;
	// readers is how many of their readers are running, under Router.mu.
	layers  [maxLayers]atomic.Pointer[layer]
	readers int
	// wanted is the set of layers some subscriber wants (a bit each), and
	// above those the set of layers known, as last reported (layers.go);
	// under Router.mu.
	wanted uint8

	// downs is replaced, never mutated, under Router.mu; the reader loads it
	// once per packet without a lock.
	downs atomic.Pointer[[]*downTrack]

	stats *Stats
	// home is the engine's first media socket, where pion's reader's
	// fan-outs go.
	home *udpBatcher
	done chan struct{}

	// fwdMu is held while a packet is fanned out. Packets come from pion's
	// readers (run, one per layer) or, for streams on the fast path, from the
	// media socket's reader (fastrecv.go); only at the hand-over do both
	// hold some. What follows is guarded by it, and so is every
	// subscription's reader state (downtrack.go).
	fwdMu sync.Mutex
	// batch is where the fan-out under way writes: home, or the socket
	// the fast path's reader took the packet from (udpmux.go).
	batch *udpBatcher
	// fastBuf is the buffer for fast-path encryption: a packet, its SRTP
	// tag and room to spare.
	fastBuf [1600]byte
	// fanoutAt is when the packet being fanned out was read (unix ns), one
	// clock read per packet rather than per subscriber.
	fanoutAt int64
	iv       [12]byte // the fast path's scratch for decryption
}

// layer is one stream of a published track: its only one, or one of its
// simulcast layers, numbered from the lowest.
type layer struct {
	index  int8
	rid    string
	remote *webrtc.TrackRemote // nil in tests
	ssrc   uint32
	kf     keyframeRequester
	onSR   *srHandler // its sender reports' handler (buffers.go)
	// received counts its packets; lastAt is when the last arrived (unix
	// ns), whether the publisher still sends the layer.
	received atomic.Uint64
	lastAt   atomic.Int64

	// rate is the layer's bits per second on the wire over the report
	// ticker's last second (bandwidth.go).
	rate atomic.Int64

	// Under the track's fwdMu.
	rx   rxStats        // for receiver reports to the publisher
	hist *packetHistory // video: what NACKs are answered from
	nack *nackLog       // video: what to ask the publisher again for
	// bytes counts what arrived on the wire (RTP, SRTP tag, UDP and IP
	// headers); measured and measuredAt, as of the last measure.
	bytes, measured uint64
	measuredAt      int64
}

// wireOverhead is what a packet carries on the wire besides its RTP
// payload: RTP header, SRTP tag, UDP and IPv4 headers.
const wireOverhead = 12 + 16 + 8 + 20

// measureLocked updates the layer's rate at now (unix ns). Under the
// track's fwdMu, once a second.
func (l *layer) measureLocked(now int64) {
	if l.measuredAt != 0 && now > l.measuredAt {
		l.rate.Store(int64(float64((l.bytes-l.measured)*8) * float64(time.Second) / float64(now-l.measuredAt)))
	}
	l.measured, l.measuredAt = l.bytes, now
}

func newPublishedTrack(info TrackInfo, remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver, pub *Peer) *publishedTrack {
	t := &publishedTrack{
		info:  info,
		codec: remote.Codec().RTPCodecCapability,
		pub:   pub,
		recv:  recv,
		stats: pub.router.engine.stats,
		home:  pub.router.engine.batch,
		batch: pub.router.engine.batch,
		done:  make(chan struct{}),
		// Not yet reported: the first report says what is wanted.
		wanted: 0xff,
	}
	empty := []*downTrack{}
	t.downs.Store(&empty)
	return t
}

// newLayer makes t's layer index for a stream on ssrc; pc, when set, is
// where its keyframe requests go.
func (t *publishedTrack) newLayer(index int8, rid string, remote *webrtc.TrackRemote, ssrc uint32, pc *webrtc.PeerConnection) *layer {
	l := &layer{index: index, rid: rid, remote: remote, ssrc: ssrc}
	stats := t.stats
	l.kf.min = keyframeMinInterval
	l.kf.send = func() {
		stats.KeyframeRequests.Add(1)
		if pc != nil {
			_ = pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
		}
	}
	l.rx.clockRate = t.codec.ClockRate
	if t.info.Kind == KindVideo {
		l.hist = &packetHistory{}
		l.nack = &nackLog{}
	}
	return l
}

// layer returns layer i, nil if there is none (yet).
func (t *publishedTrack) layer(i int8) *layer {
	if i < 0 || int(i) >= maxLayers {
		return nil
	}
	return t.layers[i].Load()
}

// endReads makes every layer's reader return: its pending read fails
// now. pion closes the streams it knows of when their connection closes;
// this ends a read on a stream it missed. Once the peer is closed.
func (t *publishedTrack) endReads() {
	for i := range t.layers {
		if l := t.layers[i].Load(); l != nil && l.remote != nil {
			_ = l.remote.SetReadDeadline(time.Now())
		}
	}
}

// run is layer l's only reader. It forwards each packet to every
// subscriber in turn: writes to a UDP socket do not block for long, so a
// slow viewer cannot stall the others, and no per-packet goroutine hand-off
// or allocation is needed. onEnd runs when the stream ends; t is done when
// every layer's reader has returned (Router.endReader).
func (t *publishedTrack) run(l *layer, onEnd func(*publishedTrack, *layer)) {
	defer onEnd(t, l)
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	fast := t.pub.fast
	defer fast.stopReceiving(t, l)
	moved := fast == nil || (t.info.Kind == KindVideo && !t.pub.router.engine.fastVideo)
	for {
		n, _, err := l.remote.Read(buf)
		if errors.Is(err, webrtc.ErrCodecNotFound) {
			// pion read a packet whose payload type was not negotiated
			// and refused it: drop the packet, not the track.
			t.stats.UnknownPayloadType.Add(1)
			continue
		}
		if err != nil {
			t.pub.log.Debug("track layer ended", "track", t.info.ID, "rid", l.rid, "err", err)
			return
		}
		if pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		t.fwdMu.Lock()
		t.batch = t.home
		t.handleLocked(l, &pkt, time.Now().UnixNano())
		t.fwdMu.Unlock()
		// The stream moves to the fast path once the publisher's keys are
		// known: from then on the socket's reader decrypts and forwards it,
		// and pion sees only what was already on its way.
		if !moved {
			moved = fast.startReceiving(t, l)
		}
	}
}

// handleLocked takes one packet of layer l from the publisher, read at now
// (unix ns), and fans it out. Under fwdMu.
func (t *publishedTrack) handleLocked(l *layer, pkt *rtp.Packet, now int64) {
	l.received.Add(1)
	l.lastAt.Store(now)
	l.bytes += uint64(wireOverhead + len(pkt.Payload))
	l.rx.update(pkt.SequenceNumber, pkt.Timestamp, now)
	if l.nack != nil {
		l.nack.add(pkt.SequenceNumber)
	}
	t.levels.observe(pkt)
	if l.hist != nil && len(pkt.Payload) > 0 {
		l.hist.put(pkt)
	}
	keyframe := t.info.Kind == KindVideo && isKeyframe(t.codec.MimeType, pkt.Payload)
	t.fanoutAt = now
	t.forward(l, pkt, keyframe)
}

// forward fans pkt, of layer l, out to every subscriber. Under fwdMu.
func (t *publishedTrack) forward(l *layer, pkt *rtp.Packet, keyframe bool) {
	var f fanout
	if t.batch != nil {
		t.batch.cork()
	}
	for _, d := range *t.downs.Load() {
		f.add(d.forward(l, pkt, keyframe), d.sentSize)
	}
	if t.batch != nil {
		t.batch.uncork()
	}
	// Forwarded bytes are counted as written (downTrack.sentSize: the
	// publisher's extensions and padding stripped, video's send time
	// added); the packet's own, without extensions or padding.
	t.stats.record(&f, 12+4*len(pkt.CSRC)+len(pkt.Payload))
}

// addDown and removeDown run under Router.mu.
func (t *publishedTrack) addDown(d *downTrack) {
	old := *t.downs.Load()
	next := make([]*downTrack, 0, len(old)+1)
	next = append(append(next, old...), d)
	t.downs.Store(&next)
}

func (t *publishedTrack) removeDown(d *downTrack) {
	old := *t.downs.Load()
	next := make([]*downTrack, 0, len(old))
	for _, x := range old {
		if x != d {
			next = append(next, x)
		}
	}
	t.downs.Store(&next)
}

// requestKeyframe asks the publisher for a keyframe of layer i (video
// only), at most once per keyframeMinInterval.
func (t *publishedTrack) requestKeyframe(i int8) {
	if l := t.layer(i); l != nil && t.info.Kind == KindVideo {
		l.kf.request()
	}
}

// keyframeRequester sends at most one request per interval; a request that
// falls inside the interval is deferred to its end rather than lost, so a
// subscriber added just after another still gets its picture.
type keyframeRequester struct {
	min  time.Duration
	send func()

	mu     sync.Mutex
	last   time.Time
	timer  *time.Timer
	closed bool
	sent   int
}

func (k *keyframeRequester) request() {
	k.mu.Lock()
	if k.closed || k.timer != nil {
		k.mu.Unlock()
		return
	}
	wait := k.min - time.Since(k.last)
	if wait <= 0 {
		k.last = time.Now()
		k.sent++
		k.mu.Unlock()
		k.send()
		return
	}
	defer k.mu.Unlock()
	k.timer = time.AfterFunc(wait, func() {
		k.mu.Lock()
		k.timer = nil
		if k.closed {
			k.mu.Unlock()
			return
		}
		k.last = time.Now()
		k.sent++
		k.mu.Unlock()
		k.send()
	})
}

func (k *keyframeRequester) close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.closed = true
	if k.timer != nil {
		k.timer.Stop()
		k.timer = nil
	}
}

func wantsKeyframe(pkts []rtcp.Packet) bool {
	for _, p := range pkts {
		switch p.(type) {
		case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
			return true
		}
	}
	return false
}
