package sfu

import (
	"io"
	"sync"
	"time"

	"github.com/pion/transport/v5/packetio"
)

// Per-stream receive buffers.
//
// pion's SRTP sessions queue each incoming stream's packets in a buffer
// until someone reads them, and the RTCP a subscriber sends about a track
// it receives is only processed by pion while a goroutine reads that
// track's sender. For video that reader is needed: keyframe requests and
// NACKs arrive there. For audio nothing does (no NACK is negotiated for
// Opus, no keyframes), yet the reader costs a goroutine and its buffers per
// subscription: eleven per participant in a group of twelve, a third of
// the server's goroutines. So a peer's buffer factory hands pion a sink for
// the RTCP of its audio subscriptions: what the subscriber reports about
// them (receiver reports) is dropped, and nobody reads.
// Every other stream gets the buffer pion would have made.

const (
	// As pion's defaults for streams that are read.
	rtpBufferLimit  = 1000 * 1000
	rtcpBufferLimit = 100 * 1000
)

// streamBuffers is one peer's buffer factory.
type streamBuffers struct {
	mu    sync.Mutex
	sinks map[uint32]struct{} // local SSRCs whose incoming RTCP is dropped
}

// sink marks the RTCP about a local (sending) SSRC as unread. It must be
// called before the SSRC is negotiated, so before pion opens its stream.
func (s *streamBuffers) sink(ssrc uint32) {
	s.mu.Lock()
	if s.sinks == nil {
		s.sinks = map[uint32]struct{}{}
	}
	s.sinks[ssrc] = struct{}{}
	s.mu.Unlock()
}

// factory implements webrtc.SettingEngine.BufferFactory.
func (s *streamBuffers) factory(t packetio.BufferPacketType, ssrc uint32) io.ReadWriteCloser {
	if t == packetio.RTCPBufferPacket {
		s.mu.Lock()
		_, sunk := s.sinks[ssrc]
		s.mu.Unlock()
		if sunk {
			return &rtcpSink{closed: make(chan struct{})}
		}
	}
	b := &streamBuffer{Buffer: packetio.NewBuffer()}
	if t == packetio.RTCPBufferPacket {
		b.SetLimitSize(rtcpBufferLimit)
	} else {
		b.SetLimitSize(rtpBufferLimit)
	}
	return b
}

// streamBuffer is the buffer pion's SRTP package makes by default, with the
// methods its streams look for.
type streamBuffer struct {
	*packetio.Buffer
}

func (b *streamBuffer) Read(p []byte) (int, error) {
	n, _, err := b.Buffer.Read(p, nil)
	return n, err
}

func (b *streamBuffer) Write(p []byte) (int, error) { return b.Buffer.Write(p, nil) }

func (b *streamBuffer) ReadWithAttributes(p []byte, a packetio.Attributes) (int, packetio.Attributes, error) {
	return b.Buffer.Read(p, a)
}

func (b *streamBuffer) WriteWithAttributes(p []byte, a packetio.Attributes) (int, error) {
	return b.Buffer.Write(p, a)
}

// rtcpSink takes a stream's packets and keeps none. A read waits until the
// stream closes, as an empty buffer's would. Its SSRC stays sunk after it
// closes: RTCP arriving late for it would otherwise open a buffer that no
// one reads.
type rtcpSink struct {
	closeOnce sync.Once
	closed    chan struct{}
}

func (s *rtcpSink) Write(p []byte) (int, error) { return len(p), nil }

func (s *rtcpSink) Read([]byte) (int, error) {
	<-s.closed
	return 0, io.EOF
}

func (s *rtcpSink) SetReadDeadline(time.Time) error { return nil }

func (s *rtcpSink) Close() error {
	s.closeOnce.Do(func() {
		close(s.closed)
	})
	return nil
}
