package sfu

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/transport/v5/packetio"
)

func TestStreamBuffers(t *testing.T) {
	var bufs streamBuffers
	bufs.read(8)

	// RTCP about an SSRC nobody reads is taken and not kept: a reader
	// waits until the stream closes.
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

	// RTP for the same SSRC, and RTCP for one that is read, get real
	// buffers that deliver what was written and are bounded as pion's are.
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

// TestSenderReportTap: the sender reports of a published track's SSRC
// reach its handler from the sink, whether the handler is set before or
// after pion opens the stream; other SSRCs' reports, other packets and
// broken ones do not; and nothing is allocated per packet.
func TestSenderReportTap(t *testing.T) {
	var bufs streamBuffers
	type got struct{ ntp uint64 }
	var seen []got
	handler := func(ntp uint64, at int64) {
		if at <= 0 {
			t.Errorf("arrival time %d", at)
		}
		seen = append(seen, got{ntp})
	}
	bufs.senderReports(1, handler)
	early := bufs.factory(packetio.RTCPBufferPacket, 1)
	late := bufs.factory(packetio.RTCPBufferPacket, 2)
	bufs.senderReports(2, handler)

	compound := func(pkts ...rtcp.Packet) []byte {
		b, err := rtcp.Marshal(pkts)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	rr := &rtcp.ReceiverReport{SSRC: 1, Reports: []rtcp.ReceptionReport{{SSRC: 99}}}
	sdes := rtcp.NewCNAMESourceDescription(1, "cname")
	cases := []struct {
		name string
		to   io.Writer
		pkt  []byte
		want []got
	}{
		{"sender report first", early, compound(&rtcp.SenderReport{SSRC: 1, NTPTime: 0x0102030405060708}, sdes), []got{{0x0102030405060708}}},
		{"after a receiver report", early, compound(rr, &rtcp.SenderReport{SSRC: 1, NTPTime: 42}), []got{{42}}},
		{"another sender's", early, compound(&rtcp.SenderReport{SSRC: 3, NTPTime: 5}), nil},
		{"no sender report", early, compound(rr, sdes), nil},
		{"handler set after open", late, compound(&rtcp.SenderReport{SSRC: 2, NTPTime: 7}), []got{{7}}},
		{"truncated", early, compound(&rtcp.SenderReport{SSRC: 1, NTPTime: 9})[:20], nil},
		{"bad length", early, []byte{0x80, 200, 0xff, 0xff, 0, 0, 0, 1}, nil},
		{"not RTCP", early, []byte{1, 2, 3, 4, 5, 6, 7, 8}, nil},
		{"empty", early, nil, nil},
	}
	for _, c := range cases {
		seen = nil
		if n, err := c.to.Write(c.pkt); n != len(c.pkt) || err != nil {
			t.Fatalf("%s: write %d, %v", c.name, n, err)
		}
		if len(seen) != len(c.want) || (len(seen) == 1 && seen[0] != c.want[0]) {
			t.Errorf("%s: handler saw %v, want %v", c.name, seen, c.want)
		}
	}

	pkt := compound(rr, &rtcp.SenderReport{SSRC: 1, NTPTime: 42}, sdes)
	count := 0
	bufs.senderReports(1, func(uint64, int64) { count++ })
	if a := testing.AllocsPerRun(100, func() { _, _ = early.Write(pkt) }); a > 0 {
		t.Errorf("%.1f allocations a packet", a)
	}
	if count != 101 {
		t.Errorf("handler called %d times for 101 packets", count)
	}

	// Stopped, the handler (and the track it holds) is let go; a stale
	// handle does not stop a newer handler of the same SSRC.
	old := bufs.senderReports(1, func(uint64, int64) { count = -1000 })
	newer := 0
	cur := bufs.senderReports(1, func(uint64, int64) { newer++ })
	bufs.stopSenderReports(1, old)
	_, _ = early.Write(pkt)
	if newer != 1 || count < 0 {
		t.Errorf("after a stale stop: newer handler called %d times, old %v", newer, count < 0)
	}
	bufs.stopSenderReports(1, cur)
	_, _ = early.Write(pkt)
	if newer != 1 {
		t.Error("handler still called after it was stopped")
	}
	if len(bufs.onSR) != 1 { // SSRC 2's
		t.Errorf("%d handlers kept, want 1", len(bufs.onSR))
	}
}
