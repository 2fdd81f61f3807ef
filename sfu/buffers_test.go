package sfu

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/pion/transport/v5/packetio"
)

func TestStreamBuffers(t *testing.T) {
	var bufs streamBuffers
	bufs.sink(7)

	// RTCP about a sunk SSRC is taken and not kept: a reader waits until
	// the stream closes.
	s := bufs.factory(packetio.RTCPBufferPacket, 7)
	for range 10_000 {
		if n, err := s.Write(make([]byte, 100)); n != 100 || err != nil {
			t.Fatalf("sink write: %d, %v", n, err)
		}
	}
	read := make(chan error, 1)
	go func() {
		_, err := s.Read(make([]byte, 1500))
		read <- err
	}()
	select {
	case err := <-read:
		t.Fatalf("sink read returned before close: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-read; !errors.Is(err, io.EOF) {
		t.Fatalf("sink read after close: %v, want EOF", err)
	}

	// RTP for the same SSRC, and RTCP for another, get real buffers that
	// deliver what was written and are bounded as pion's are.
	for _, c := range []struct {
		typ   packetio.BufferPacketType
		ssrc  uint32
		limit int
	}{{packetio.RTPBufferPacket, 7, rtpBufferLimit}, {packetio.RTCPBufferPacket, 8, rtcpBufferLimit}} {
		b := bufs.factory(c.typ, c.ssrc)
		if _, err := b.Write([]byte{1, 2, 3}); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, 10)
		if n, err := b.Read(got); err != nil || n != 3 || got[2] != 3 {
			t.Fatalf("buffer read: %d %v", n, err)
		}
		var err error
		for i := 0; err == nil && i <= c.limit/1000; i++ {
			_, err = b.Write(make([]byte, 1000))
		}
		if !errors.Is(err, packetio.ErrFull) {
			t.Fatalf("buffer for type %v not bounded at %d bytes: %v", c.typ, c.limit, err)
		}
		_ = b.Close()
	}
}
