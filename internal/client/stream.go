package client

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// A Counter counts one received stream: one publisher's media of one kind.
type Counter interface {
	// Packet is told of each RTP packet, from one goroutine at a time, with
	// its arrival time since the client's origin. On the light path the
	// payload is still encrypted; the header is not.
	Packet(pkt []byte, at time.Duration)
}

// Stream is the client's own Counter: what arrived from one publisher's
// track of one kind.
type Stream struct {
	Packets   atomic.Uint64
	Bytes     atomic.Uint64
	Keyframes atomic.Uint64
	Ended     atomic.Bool
	Gaps      atomic.Uint64 // sequence numbers skipped within one SSRC
	// SenderReports counts the RTCP sender reports about this track.
	SenderReports atomic.Uint64
	// Repeats counts packets whose sequence number arrived before
	// (retransmissions answering a NACK).
	Repeats atomic.Uint64
	// SSRC is the track's SSRC as this client receives it.
	SSRC atomic.Uint32
	// LastSeq is the newest sequence number received.
	LastSeq atomic.Uint32
	// Layer is the simulcast layer the newest video packet came from (0
	// without simulcast), for what the built-in generator sends, and
	// Layers a bit for each layer seen.
	Layer, Layers atomic.Uint32

	video bool
	mime  atomic.Pointer[string]

	// A stream outlives a track that a newer one replaces, so two
	// readers may briefly share it.
	mu   sync.Mutex
	seen [1 << 16]bool
}

var _ Counter = (*Stream)(nil)

// MimeType is the codec the track arrived in.
func (s *Stream) MimeType() string {
	if m := s.mime.Load(); m != nil {
		return *m
	}
	return ""
}

// Packet counts one packet.
func (s *Stream) Packet(b []byte, _ time.Duration) {
	var pkt rtp.Packet
	if pkt.Unmarshal(b) != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Packets.Load() > 0 && pkt.SSRC == s.SSRC.Load() {
		if d := pkt.SequenceNumber - uint16(s.LastSeq.Load()); d > 1 && d < 1<<15 {
			s.Gaps.Add(uint64(d - 1))
		}
	}
	if s.seen[pkt.SequenceNumber] {
		s.Repeats.Add(1)
	}
	s.seen[pkt.SequenceNumber] = true
	s.seen[pkt.SequenceNumber+1<<15] = false // forget the far half as seq wraps
	s.LastSeq.Store(uint32(pkt.SequenceNumber))
	s.SSRC.Store(pkt.SSRC)
	s.Packets.Add(1)
	s.Bytes.Add(uint64(len(b)))
	if s.video && isKeyframe(s.MimeType(), pkt.Payload) {
		s.Keyframes.Add(1)
	}
	if s.video && len(pkt.Payload) > 2 && pkt.Payload[2] < 3 {
		s.Layer.Store(uint32(pkt.Payload[2]))
		s.Layers.Or(1 << pkt.Payload[2])
	}
}

// isKeyframe tells a keyframe's packet from what the generator makes (see
// setVideoPayload).
func isKeyframe(mime string, p []byte) bool {
	if len(p) < 2 {
		return false
	}
	if strings.EqualFold(mime, webrtc.MimeTypeH264) {
		return p[0]&0x1f == 5
	}
	return p[0]&0x10 != 0 && p[1]&0x01 == 0
}
