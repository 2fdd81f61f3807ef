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
	// server offers for the camera and the microphone. The gate forwards
	// it by Forward.Screen.
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

// publishedTrack is one incoming track and its fan-out.
//
// Lifecycle: created when the publisher's first RTP arrives; one reader
// goroutine (run) forwards until the remote track ends; unpublished then,
// or earlier when its peer closes. Never reused.
type publishedTrack struct {
	info   TrackInfo
	codec  webrtc.RTPCodecCapability
	remote *webrtc.TrackRemote
	pub    *Peer
	// levels counts audio levels for the active speaker (audio only).
	levels audioLevels

	// downs is replaced, never mutated, under Router.mu; the reader loads it
	// once per packet without a lock.
	downs atomic.Pointer[[]*downTrack]

	kf       keyframeRequester
	received atomic.Uint64
	stats    *Stats
	// home is the engine's first media socket, where pion's reader's
	// fan-outs go.
	home *udpBatcher
	done chan struct{}

	// fwdMu is held while a packet is fanned out. Packets come from pion's
	// reader (run) or, for audio on the fast path, from the media socket's
	// reader (fastrecv.go); only at the hand-over do both hold some. What
	// follows is guarded by it.
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
	rx       rxStats        // for receiver reports to the publisher
	hist     *packetHistory // video: what NACKs are answered from
	onSR     *srHandler     // the publisher's sender reports' handler (buffers.go)
	srtp     srtpIn         // the fast path's decryption state
	iv       [12]byte
}

func newPublishedTrack(info TrackInfo, remote *webrtc.TrackRemote, pub *Peer) *publishedTrack {
	t := &publishedTrack{
		info:   info,
		codec:  remote.Codec().RTPCodecCapability,
		remote: remote,
		pub:    pub,
		stats:  pub.router.engine.stats,
		home:   pub.router.engine.batch,
		batch:  pub.router.engine.batch,
		done:   make(chan struct{}),
	}
	ssrc := uint32(remote.SSRC())
	pc := pub.pc
	stats := t.stats
	t.kf.min = keyframeMinInterval
	t.kf.send = func() {
		stats.KeyframeRequests.Add(1)
		_ = pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
	}
	empty := []*downTrack{}
	t.downs.Store(&empty)
	t.rx.clockRate = t.codec.ClockRate
	if info.Kind == KindVideo {
		t.hist = &packetHistory{}
	}
	return t
}

// run is the track's only reader. It forwards each packet to every
// subscriber in turn: writes to a UDP socket do not block for long, so a
// slow viewer cannot stall the others, and no per-packet goroutine hand-off
// or allocation is needed.
func (t *publishedTrack) run(onEnd func(*publishedTrack)) {
	defer close(t.done)
	defer onEnd(t)
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	fast := t.pub.fast
	defer fast.stopReceiving(t)
	moved := fast == nil || t.info.Kind != KindAudio
	for {
		n, _, err := t.remote.Read(buf)
		if errors.Is(err, webrtc.ErrCodecNotFound) {
			// pion read a packet whose payload type was not negotiated
			// and refused it: drop the packet, not the track.
			t.stats.UnknownPayloadType.Add(1)
			continue
		}
		if err != nil {
			return
		}
		if pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		t.fwdMu.Lock()
		t.batch = t.home
		t.handleLocked(&pkt, time.Now().UnixNano())
		t.fwdMu.Unlock()
		// Audio moves to the fast path once the publisher's keys are known:
		// from then on the socket's reader decrypts and forwards it, and
		// pion sees only what was already on its way.
		if !moved {
			moved = fast.startReceiving(t)
		}
	}
}

// handleLocked takes one packet from the publisher, read at now (unix ns),
// and fans it out. Under fwdMu.
func (t *publishedTrack) handleLocked(pkt *rtp.Packet, now int64) {
	t.received.Add(1)
	t.rx.update(pkt.SequenceNumber, pkt.Timestamp, now)
	t.levels.observe(pkt)
	if t.hist != nil && len(pkt.Payload) > 0 {
		t.hist.put(pkt)
	}
	keyframe := t.info.Kind == KindVideo && isKeyframe(t.codec.MimeType, pkt.Payload)
	t.fanoutAt = now
	t.forward(pkt, keyframe)
}

// forward fans pkt out to every subscriber. Under fwdMu.
func (t *publishedTrack) forward(pkt *rtp.Packet, keyframe bool) {
	var f fanout
	if t.batch != nil {
		t.batch.cork()
	}
	for _, d := range *t.downs.Load() {
		f.add(d.forward(pkt, keyframe))
	}
	if t.batch != nil {
		t.batch.uncork()
	}
	// RTP size as forwarded: downTrack.forward strips extensions and padding.
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

func (t *publishedTrack) requestKeyframe() {
	if t.info.Kind == KindVideo {
		t.kf.request()
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
