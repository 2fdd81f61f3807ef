package sfu

import (
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// rtpWriter is what a downTrack writes to: pion's per-binding write stream.
type rtpWriter interface {
	WriteRTP(header *rtp.Header, payload []byte) (int, error)
}

// binding is what pion hands a track when a subscriber's transceiver is
// negotiated: where to write and with which SSRC and payload type.
type binding struct {
	ssrc uint32
	pt   uint8
	w    rtpWriter
	// rtxSSRC and rtxPT, when the subscriber negotiated RTX (RFC 4588),
	// are where retransmissions go.
	rtxSSRC uint32
	rtxPT   uint8
	// absID and twccID are the subscriber's ids for the abs-send-time
	// and transport-wide sequence number header extensions on video, 0
	// where it did not negotiate them (abssend.go).
	absID, twccID uint8
	// levelID is a link's id for the audio level header extension, which
	// a link carries on (link.go); 0 otherwise.
	levelID uint8
}

// downTrack sends one published track to one subscriber. It implements
// webrtc.TrackLocal so pion binds it to the subscriber's peer connection.
//
// Lifecycle: created when a subscriber is added to a published track, bound by
// pion on negotiation, removed when either side goes away. Everything below
// the "reader state" line is touched only by the published track's reader
// goroutine, which is why it needs no lock.
type downTrack struct {
	id       string
	streamID string
	kind     Kind
	codec    webrtc.RTPCodecCapability
	pub      *publishedTrack
	sub      *Peer

	// gate is the gate's gateVerdict: the room decides, the reader obeys
	// per packet.
	gate  atomic.Int32
	bound atomic.Pointer[binding]

	// slot is the subscriber's media section this track goes out on
	// (slots.go). cont, when the slot carried another track before, is
	// where that stream left off: this one continues it. Both are set
	// before the track is bound.
	slot *slot
	cont *continuation
	// sent maps what a video subscription sent to the publisher's packets,
	// for retransmissions (history.go).
	sent *sentMap

	// want is the layer of the track the subscriber is to get, layerNone
	// for none (video paused); pref is the most it wants, set by the
	// room's owner (layers.go). The reader follows want, switching on a
	// keyframe of the layer wanted.
	want atomic.Int32
	pref atomic.Int32
	// held says the subscriber was told this video is held back for its
	// bandwidth (bandwidth.go); the report ticker's only.
	held bool
	// linkLayer, on a link out, is the one layer d carries (link.go).
	linkLayer int8

	// reader state, under the track's fwdMu
	seqOffset uint16
	tsOffset  uint32
	lastSeq   uint16 // of the last packet sent
	// cur is the layer being forwarded, layerNone while none is (before
	// the first packet; video waiting for a keyframe). tsLayer is the
	// layer whose timestamps tsOffset maps onto the stream sent, and
	// startSeq the layer's first sequence number sent, before which its
	// late packets are not (while guarding).
	cur, tsLayer int8
	startSeq     uint16
	guarding     bool
	waited       uint32 // packets of the layer wanted that were not a keyframe
	scratch      rtp.Packet
	forwarded    uint64
	sentSize     int // RTP bytes of the last packet forwarded, as written
	fast         fastTrack
	abs          absStamp
}

func newDownTrack(pub *publishedTrack, sub *Peer) *downTrack {
	d := &downTrack{
		id:       pub.info.ID,
		streamID: pub.info.StreamID,
		kind:     pub.info.Kind,
		codec:    pub.codec,
		pub:      pub,
		sub:      sub,
		cur:      layerNone,
		tsLayer:  layerNone,
	}
	d.pref.Store(maxLayers - 1)
	if d.kind == KindVideo {
		d.sent = &sentMap{}
	}
	return d
}

// Bind implements webrtc.TrackLocal.
func (d *downTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	for _, c := range ctx.CodecParameters() {
		if sameCodec(c.RTPCodecCapability, d.codec) {
			b := &binding{ssrc: uint32(ctx.SSRC()), pt: uint8(c.PayloadType), w: ctx.WriteStream()}
			b.rtxSSRC = uint32(ctx.SSRCRetransmission())
			if b.rtxSSRC == 0 && d.slot != nil {
				// pion leaves it out when a sender takes a new track.
				b.rtxSSRC = d.slot.rtxSSRC
			}
			apt := "apt=" + strconv.Itoa(int(c.PayloadType))
			for _, r := range ctx.CodecParameters() {
				if strings.EqualFold(r.MimeType, webrtc.MimeTypeRTX) && r.SDPFmtpLine == apt {
					b.rtxPT = uint8(r.PayloadType)
				}
			}
			if d.kind == KindVideo {
				b.absID = absSendTimeID(ctx.HeaderExtensions())
				b.twccID = transportCCID(ctx.HeaderExtensions())
			} else if d.sub.link != linkNone {
				b.levelID = audioLevelID(ctx.HeaderExtensions())
			}
			d.bound.Store(b)
			// Video waits for a keyframe from here on; ask for one now,
			// since publishers (browsers) send them only when asked.
			if d.allowed() {
				d.requestKeyframe()
			}
			return c, nil
		}
	}
	return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
}

// Unbind implements webrtc.TrackLocal.
func (d *downTrack) Unbind(webrtc.TrackLocalContext) error {
	d.bound.Store(nil)
	return nil
}

func (d *downTrack) ID() string                { return d.id }
func (d *downTrack) RID() string               { return "" }
func (d *downTrack) StreamID() string          { return d.streamID }
func (d *downTrack) Kind() webrtc.RTPCodecType { return d.kind.codecType() }

// allowed reports whether the gate lets the track through.
func (d *downTrack) allowed() bool { return gateVerdict(d.gate.Load()) == gateOpen }

// setGate opens or closes the gate. Reopening video waits for a keyframe,
// so it asks the publisher for one.
func (d *downTrack) setGate(v gateVerdict) {
	was := gateVerdict(d.gate.Swap(int32(v)))
	if was != gateOpen && v == gateOpen && d.kind == KindVideo {
		d.requestKeyframe()
	}
}

// requestKeyframe asks the publisher for a keyframe of the layer the
// subscriber is to get.
func (d *downTrack) requestKeyframe() {
	d.pub.requestKeyframe(int8(d.want.Load()))
}

// forward writes one packet of layer l to the subscriber if the gate is
// open and l is the layer it gets. It switches layers, and starts or
// resumes video, only on a keyframe of the layer wanted. Packets the
// subscriber would have had and does not are taken out of the sequence
// number space, and a layer switched to continues the sequence numbers
// and timestamps of the one before, so the subscriber sees one continuous
// stream and does not NACK what it was never meant to get. Packets of
// other layers are not the subscriber's (outcomeSkipped). It allocates
// nothing.
func (d *downTrack) forward(l *layer, pkt *rtp.Packet, keyframe bool) outcome {
	li, want := l.index, int8(d.want.Load())
	start := li == want && li != d.cur && (keyframe || d.kind == KindAudio)
	switch {
	case li == d.cur && !start:
		if d.guarding {
			if diff := int16(pkt.SequenceNumber - d.startSeq); diff < 0 {
				return outcomeSkipped // sent before the layer started here
			} else if diff > 512 {
				d.guarding = false
			}
		}
	case start, li == want && d.cur == layerNone:
		// The layer wanted: starting on this packet, or waiting for a
		// keyframe to.
	default:
		if li == want {
			d.waitKeyframe(l) // a switch waits for it
		}
		return outcomeSkipped
	}
	b := d.bound.Load()
	if b == nil {
		return d.hold(DropUnbound)
	}
	if v := gateVerdict(d.gate.Load()); v != gateOpen {
		if v == gateMuted {
			return d.hold(DropMuted)
		}
		return d.hold(DropGate)
	}
	if len(pkt.Payload) == 0 {
		// Padding-only probes carry nothing for the subscriber.
		d.seqOffset++
		return dropped(DropPadding)
	}
	f := d.sub.fast
	if f != nil && d.pub.batch != nil && f.state.Load() == fastPending {
		// Keys on their way: one SRTP sender per stream, so not pion.
		// Video starts again from a keyframe once they are here.
		return d.hold(DropUnbound)
	}
	if d.cur != li {
		if !start {
			d.waitKeyframe(l)
			d.seqOffset++
			return dropped(DropKeyframe)
		}
		d.switchTo(l, pkt)
	}
	s := &d.scratch
	s.Header = pkt.Header
	s.Header.SequenceNumber -= d.seqOffset
	s.Header.Timestamp -= d.tsOffset
	s.Header.SSRC = b.ssrc
	s.Header.PayloadType = b.pt
	// The publisher's header extension ids were negotiated with the
	// publisher, not with this subscriber: drop them rather than mislabel.
	s.Header.Padding = false
	s.Header.PaddingSize = 0
	s.Header.Extension = false
	s.Header.Extensions = s.Header.Extensions[:0:0]
	d.abs.stamp(&s.Header, b, d.sub.sendLog, len(pkt.Payload), d.pub.fanoutAt)
	if id := d.pub.levels.extID; b.levelID != 0 && id != 0 {
		if v := pkt.GetExtension(id); len(v) > 0 {
			d.abs.add(&s.Header, b.levelID, v)
		}
	}
	out := outcomeForwarded
	if f != nil && d.pub.batch != nil && f.state.Load() == fastReady {
		if err := d.writeFast(f, d.pub.batch, &s.Header, pkt.Payload, d.pub.fastBuf[:]); err != nil {
			return dropped(DropError)
		}
		out = outcomeForwardedFast
	} else if _, err := b.w.WriteRTP(&s.Header, pkt.Payload); err != nil {
		return dropped(DropError)
	}
	d.fast.sent(s.Header.Timestamp, len(pkt.Payload), d.pub.fanoutAt)
	d.sentSize = s.Header.MarshalSize() + len(pkt.Payload)
	d.lastSeq = s.Header.SequenceNumber
	if d.sent != nil {
		d.sent.record(s.Header.SequenceNumber, pkt.SequenceNumber, li, s.Header.Timestamp)
		d.probeDup(b, &s.Header, pkt.Payload)
	}
	d.forwarded++
	if want == layerNone && pkt.Marker {
		d.cur = layerNone // paused, at the end of a frame
	}
	return out
}

// hold notes a packet of the subscriber's layer that is held back for r:
// out of the sequence number space, and video starts again on a keyframe.
func (d *downTrack) hold(r DropReason) outcome {
	d.seqOffset++
	if d.kind == KindVideo {
		d.cur = layerNone
	}
	return dropped(r)
}

// waitKeyframe counts a packet of layer l, wanted, that could not start
// it, and asks again for a keyframe now and then, in case a request or
// the keyframe itself was lost.
func (d *downTrack) waitKeyframe(l *layer) {
	d.waited++
	if d.waited%keyframeRetryPackets == 0 && d.kind == KindVideo {
		l.kf.request()
	}
}

// switchTo makes layer l, of which pkt is the first packet to go, the
// one forwarded: its sequence numbers follow the last sent, and its
// timestamps the last sent as far on as wall time has gone (at least a
// tick), unless l's own timestamps were being sent already. What was sent
// before may be another layer's, or another track's on a reused section
// (slots.go).
func (d *downTrack) switchTo(l *layer, pkt *rtp.Packet) {
	if d.forwarded > 0 || d.cont != nil {
		d.seqOffset = pkt.SequenceNumber - (d.lastSeq + 1)
		if l.index != d.tsLayer {
			elapsed := max(d.pub.fanoutAt-d.fast.lastAt, 0)
			step := max(uint32(elapsed*int64(d.codec.ClockRate)/int64(time.Second)), 1)
			d.tsOffset = pkt.Timestamp - (d.fast.lastTS + step)
		}
	} else {
		d.seqOffset, d.tsOffset = 0, 0
	}
	d.cur, d.tsLayer = l.index, l.index
	d.startSeq, d.guarding = pkt.SequenceNumber, true
	d.waited = 0
}
