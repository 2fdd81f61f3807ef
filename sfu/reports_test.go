package sfu

import (
	"bytes"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/srtp/v3"
)

// TestReportMarshal: the reports written by hand are byte for byte what
// pion writes for the same reports.
func TestReportMarshal(t *testing.T) {
	blocks := []rtcp.ReceptionReport{
		{SSRC: 1, FractionLost: 25, TotalLost: 0x123456, LastSequenceNumber: 0x10002, Jitter: 17, LastSenderReport: 0xabcdef01, Delay: 65536},
		{SSRC: 2, TotalLost: 0, LastSequenceNumber: 9},
	}
	s := srInfo{ssrc: 0xdeadbeef, rtpTime: 48000, packets: 50, octets: 4000}
	ntp := ntpTime(time.Unix(1_800_000_000, 500_000_000))
	for _, c := range []struct {
		name string
		want rtcp.Packet
		put  func(b []byte) int
	}{
		{"empty receiver report", &rtcp.ReceiverReport{SSRC: 7}, func(b []byte) int { return putRR(b, 7, nil) }},
		{"receiver report", &rtcp.ReceiverReport{SSRC: 7, Reports: blocks}, func(b []byte) int { return putRR(b, 7, blocks) }},
		{"sender report", &rtcp.SenderReport{SSRC: s.ssrc, NTPTime: ntp, RTPTime: s.rtpTime, PacketCount: s.packets, OctetCount: s.octets},
			func(b []byte) int { return putSR(b, ntp, s) }},
	} {
		want, err := c.want.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 200)
		if got := buf[:c.put(buf)]; !bytes.Equal(got, want) {
			t.Errorf("%s: %x, pion writes %x", c.name, got, want)
		}
	}
}

// TestFastReports: reports on the fast path arrive as SRTCP a peer opens,
// each datagram a compound that starts with the server's receiver report
// and stays under maxCompound, with every sender report in one of them;
// and sending them allocates nothing.
func TestFastReports(t *testing.T) {
	profile := srtp.ProtectionProfileAeadAes128Gcm
	key, salt := testKeys(profile)
	seal, err := newRTCPSealer(key, salt, profile)
	if err != nil {
		t.Fatal(err)
	}
	rx, err := srtp.CreateContext(key, salt, profile, srtp.SRTCPReplayProtection(64))
	if err != nil {
		t.Fatal(err)
	}
	peerConn := loopbackUDP(t)
	out, err := newUDPBatcher(loopbackUDP(t), &Stats{})
	if err != nil {
		t.Fatal(err)
	}
	f := &peerFast{rtcp: seal}
	addr := addrOf(peerConn)
	f.addr.Store(&addr)

	r := &reporter{blocks: []rtcp.ReceptionReport{{SSRC: 1, FractionLost: 3, LastSequenceNumber: 100}}}
	// Sixty streams: more sender reports than one compound holds.
	for i := range uint32(60) {
		r.srs = append(r.srs, srInfo{ssrc: 1000 + i, rtpTime: i * 960, packets: i, octets: 100 * i})
	}
	ntp := ntpTime(time.Now())
	r.sendFast(f, 0x5e4e4, ntp, out)

	seen := map[uint32]bool{}
	buf := make([]byte, 1500)
	for len(seen) < 60 {
		if err := peerConn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
			t.Fatal(err)
		}
		n, err := peerConn.Read(buf)
		if err != nil {
			t.Fatalf("%d of 60 sender reports arrived: %v", len(seen), err)
		}
		if n > maxCompound+srtcpTrailer {
			t.Errorf("a report datagram of %d bytes", n)
		}
		plain, err := rx.DecryptRTCP(nil, buf[:n], nil)
		if err != nil {
			t.Fatalf("a report datagram does not open: %v", err)
		}
		pkts, err := rtcp.Unmarshal(plain)
		if err != nil {
			t.Fatal(err)
		}
		rr, ok := pkts[0].(*rtcp.ReceiverReport)
		if !ok || rr.SSRC != 0x5e4e4 {
			t.Fatalf("a compound starts with %T, want the server's receiver report", pkts[0])
		}
		if len(seen) == 0 && (len(rr.Reports) != 1 || rr.Reports[0].FractionLost != 3) {
			t.Errorf("the first receiver report carries %+v", rr.Reports)
		}
		for _, p := range pkts[1:] {
			sr, ok := p.(*rtcp.SenderReport)
			if !ok || sr.NTPTime != ntp || sr.PacketCount != sr.SSRC-1000 {
				t.Fatalf("unexpected %+v", p)
			}
			seen[sr.SSRC] = true
		}
	}

	if a := testing.AllocsPerRun(100, func() { r.sendFast(f, 0x5e4e4, ntp, out) }); a != 0 {
		t.Errorf("sending reports allocates %.0f times", a)
	}
}
