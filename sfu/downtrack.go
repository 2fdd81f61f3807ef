package sfu

import (
	"strconv"
	"strings"
	"sync/atomic"

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
	// held keeps a reused section quiet until the subscriber knows what it
	// carries; heldGen is the peer's localGen when it was reused.
	held    atomic.Bool
	heldGen int

	// reader state
	started      bool // the first packet since binding has been seen
	seqOffset    uint16
	tsOffset     uint32
	lastSeq      uint16 // of the last packet sent
	dropping     bool
	needKeyframe bool
	waited       uint32 // packets dropped while waiting for a keyframe
	scratch      rtp.Packet
	forwarded    uint64
	fast         fastTrack
}

func newDownTrack(pub *publishedTrack, sub *Peer) *downTrack {
	d := &downTrack{
		id:       pub.info.ID,
		streamID: pub.info.StreamID,
		kind:     pub.info.Kind,
		codec:    pub.codec,
		pub:      pub,
		sub:      sub,
	}
	// Video starts on a keyframe; audio can start anywhere.
	d.needKeyframe = d.kind == KindVideo
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
			d.bound.Store(b)
			// Video waits for a keyframe from here on; ask for one now,
			// since publishers (browsers) send them only when asked.
			if d.allowed() {
				d.pub.requestKeyframe()
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
		d.pub.requestKeyframe()
	}
}

// forward writes one packet to the subscriber if the gate is open. Packets
// the gate holds back are taken out of the sequence number space, so the
// subscriber sees a continuous stream and does not NACK what it was never
// meant to get. It allocates nothing.
func (d *downTrack) forward(pkt *rtp.Packet, keyframe bool) outcome {
	b := d.bound.Load()
	if b == nil || d.held.Load() {
		return dropped(DropUnbound)
	}
	if !d.started {
		d.started = true
		if c := d.cont; c != nil {
			d.continueAt(c, pkt)
		}
	}
	if v := gateVerdict(d.gate.Load()); v != gateOpen {
		d.seqOffset++
		if d.kind == KindVideo {
			d.needKeyframe = true
		}
		if v == gateMuted {
			return dropped(DropMuted)
		}
		return dropped(DropGate)
	}
	if len(pkt.Payload) == 0 {
		// Padding-only probes carry nothing for the subscriber.
		d.seqOffset++
		return dropped(DropPadding)
	}
	if d.needKeyframe {
		if !keyframe {
			d.waited++
			if d.waited%keyframeRetryPackets == 0 {
				d.pub.requestKeyframe()
			}
			d.seqOffset++
			return dropped(DropKeyframe)
		}
		d.needKeyframe = false
		d.waited = 0
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
	out := outcomeForwarded
	if f := d.sub.fast; f != nil && d.pub.batch != nil {
		switch f.state.Load() {
		case fastReady:
			if err := d.writeFast(f, d.pub.batch, &s.Header, pkt.Payload, d.pub.fastBuf[:]); err != nil {
				return dropped(DropError)
			}
			out = outcomeForwardedFast
		case fastPending:
			// Keys on their way: one SRTP sender per stream, so not pion.
			// Video starts again from a keyframe once they are here.
			if d.kind == KindVideo {
				d.needKeyframe = true
				d.seqOffset++
			}
			return dropped(DropUnbound)
		}
	}
	if out == outcomeForwarded {
		if _, err := b.w.WriteRTP(&s.Header, pkt.Payload); err != nil {
			return dropped(DropError)
		}
	}
	d.fast.sent(s.Header.Timestamp, len(pkt.Payload), d.pub.fanoutAt)
	d.lastSeq = s.Header.SequenceNumber
	if d.sent != nil {
		d.sent.record(s.Header.SequenceNumber, pkt.SequenceNumber)
	}
	d.forwarded++
	return out
}
