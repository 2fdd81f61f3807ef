package sfu

import (
	"encoding/binary"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/transport/v5/packetio"
)

// Per-stream receive buffers.
//
// pion's SRTP sessions queue each incoming stream's packets in a buffer
// until someone reads them, and RTCP is only processed by pion while a
// goroutine reads it. Of the RTCP a participant sends, the server needs
// only two kinds: what a subscriber says about a video track it receives
// (keyframe requests, NACKs), read by that track's reader, and the
// publisher's sender reports, whose times the server's receiver reports
// echo. Nothing else needs an answer (no NACK is negotiated for Opus, no
// keyframes), yet a reader per stream costs a goroutine and its buffers:
// eleven for the audio alone of a participant in a group of twelve. So a
// peer's buffer factory gives real buffers only to the RTCP of its video
// subscriptions, which are registered before pion opens them; every other
// RTCP stream gets a sink that keeps nothing and, once a published track
// asks for them, passes on the stream's sender reports as they arrive.
// RTP streams get the buffer pion would have made.

const (
	// As pion's defaults for streams that are read.
	rtpBufferLimit  = 1000 * 1000
	rtcpBufferLimit = 100 * 1000
)

// srHandler takes a sender report's NTP time and when it arrived (unix ns).
type srHandler func(ntp uint64, at int64)

// streamBuffers is one peer's buffer factory.
type streamBuffers struct {
	mu    sync.Mutex
	reads map[uint32]struct{}   // local SSRCs whose incoming RTCP is read
	sinks map[uint32]*rtcpSink  // the other RTCP streams, by SSRC
	onSR  map[uint32]*srHandler // sender report handlers, by sender SSRC
}

// read marks the RTCP about a local (sending) SSRC as read by someone. It
// must be called before the SSRC is negotiated, so before pion opens its
// stream.
func (s *streamBuffers) read(ssrc uint32) {
	s.mu.Lock()
	if s.reads == nil {
		s.reads = map[uint32]struct{}{}
	}
	s.reads[ssrc] = struct{}{}
	s.mu.Unlock()
}

// senderReports passes the sender reports of a remote SSRC to f from now
// on, whether pion has opened its RTCP stream yet or not, until
// stopSenderReports is given the handle it returns.
func (s *streamBuffers) senderReports(ssrc uint32, f srHandler) *srHandler {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.onSR == nil {
		s.onSR = map[uint32]*srHandler{}
	}
	s.onSR[ssrc] = &f
	if k := s.sinks[ssrc]; k != nil {
		k.onSR.Store(&f)
	}
	return &f
}

// stopSenderReports undoes senderReports, unless the SSRC has been given
// to another handler since.
func (s *streamBuffers) stopSenderReports(ssrc uint32, h *srHandler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.onSR[ssrc] != h {
		return
	}
	delete(s.onSR, ssrc)
	if k := s.sinks[ssrc]; k != nil {
		k.onSR.CompareAndSwap(h, nil)
	}
}

// factory implements webrtc.SettingEngine.BufferFactory.
func (s *streamBuffers) factory(t packetio.BufferPacketType, ssrc uint32) io.ReadWriteCloser {
	if t == packetio.RTCPBufferPacket {
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, read := s.reads[ssrc]; !read {
			k := &rtcpSink{ssrc: ssrc, closed: make(chan struct{})}
			if f := s.onSR[ssrc]; f != nil {
				k.onSR.Store(f)
			}
			if s.sinks == nil {
				s.sinks = map[uint32]*rtcpSink{}
			}
			s.sinks[ssrc] = k
			return k
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

// rtcpSink takes a stream's packets and keeps none; it hands the sender
// reports from its SSRC to onSR, if set. A read waits until the stream
// closes, as an empty buffer's would.
type rtcpSink struct {
	ssrc      uint32
	onSR      atomic.Pointer[srHandler]
	closeOnce sync.Once
	closed    chan struct{}
}

// Write is called by pion's SRTCP session with one decrypted compound
// packet. It allocates nothing.
func (s *rtcpSink) Write(p []byte) (int, error) {
	if f := s.onSR.Load(); f != nil {
		if ntp, ok := senderReportNTP(p, s.ssrc); ok {
			(*f)(ntp, time.Now().UnixNano())
		}
	}
	return len(p), nil
}

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

// senderReportNTP finds, in a compound RTCP packet, the sender report from
// ssrc and returns its NTP time.
func senderReportNTP(p []byte, ssrc uint32) (uint64, bool) {
	const typeSenderReport = 200
	for len(p) >= 4 {
		n := 4 * (int(binary.BigEndian.Uint16(p[2:4])) + 1)
		if p[0]>>6 != 2 || n > len(p) {
			return 0, false
		}
		if p[1] == typeSenderReport && n >= 28 && binary.BigEndian.Uint32(p[4:8]) == ssrc {
			return binary.BigEndian.Uint64(p[8:16]), true
		}
		p = p[n:]
	}
	return 0, false
}
