package sfu

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
)

// simulcastDesc is a client's description sending three layers of video
// (rids q, h, f) in section 1, and audio on SSRC 11.
func simulcastDesc() string {
	d := desc("",
		"audio 0 sendonly ssrc:11",
		"video 1 sendonly rid:q_send rid:h_send rid:f_send simulcast:send_q;h;f",
		"video 2 recvonly rid:x_recv",
	)
	ext := "a=extmap:4 " + sdp.SDESMidURI + "\r\na=extmap:10 " + sdp.SDESRTPStreamIDURI + "\r\na=extmap:11 " + sdp.SDESRepairRTPStreamIDURI + "\r\n"
	d = strings.ReplaceAll(d, "a=mid:1\r\n", "a=mid:1\r\n"+ext)
	return strings.ReplaceAll(d, "_", " ")
}

// layerPacket is an RTP packet on ssrc naming mid and rid (or the repaired
// rid) in header extensions of the given profile.
func layerPacket(t *testing.T, ssrc uint32, mid, rid string, repair, twoByte bool) []byte {
	t.Helper()
	h := rtp.Header{Version: 2, PayloadType: 96, SSRC: ssrc}
	if twoByte {
		h.Extension, h.ExtensionProfile = true, rtp.ExtensionProfileTwoByte
	}
	ridID := uint8(10)
	if repair {
		ridID = 11
	}
	if err := h.SetExtension(4, []byte(mid)); err != nil {
		t.Fatal(err)
	}
	if err := h.SetExtension(ridID, []byte(rid)); err != nil {
		t.Fatal(err)
	}
	b, err := (&rtp.Packet{Header: h, Payload: make([]byte, 20)}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestIngressLayers: an SSRC no description announces passes when its
// packet names, in header extensions, a section the client sends
// simulcast on and one of its rids (or repaired rids), and from then on
// without them, for RTP and RTCP; other sections, rids and sections the
// client receives on do not let anything through, and what is learned is
// bounded per rid and in all.
func TestIngressLayers(t *testing.T) {
	stats := &Stats{}
	g := newIngress(slog.New(slog.DiscardHandler), stats, &keyCapture{})
	var s ingressScratch
	g.set("", simulcastDesc())
	for _, c := range []struct {
		name string
		b    []byte
		want bool
	}{
		{"announced audio", rtpOn(11), true},
		{"layer q", layerPacket(t, 101, "1", "q", false, false), true},
		{"layer q again, bare", rtpOn(101), true},
		{"layer f, two-byte extensions", layerPacket(t, 103, "1", "f", false, true), true},
		{"repair of h", layerPacket(t, 202, "1", "h", true, false), true},
		{"unknown rid", layerPacket(t, 104, "1", "z", false, false), false},
		{"a section received on", layerPacket(t, 105, "2", "x", false, false), false},
		{"unknown mid", layerPacket(t, 106, "9", "q", false, false), false},
		{"no extensions", rtpOn(107), false},
		{"ssrc 0", layerPacket(t, 0, "1", "h", false, false), false},
	} {
		if got := g.admit(c.b, &s); got != c.want {
			t.Errorf("%s: admitted %v, want %v", c.name, got, c.want)
		}
	}
	// A layer's sender reports come from its SSRC.
	if !g.layers.Load().has(103) {
		t.Error("layer f's SSRC not known for RTCP")
	}
	// A rid may move to a new SSRC once, not more.
	if !g.admit(layerPacket(t, 301, "1", "q", false, false), &s) {
		t.Error("layer q's second SSRC refused")
	}
	if g.admit(layerPacket(t, 302, "1", "q", false, false), &s) {
		t.Error("layer q's third SSRC let through")
	}
	// A client cycling SSRCs through every rid stops at the bound.
	n := 0
	for i := range 1000 {
		rid := []string{"q", "h", "f"}[i%3]
		if g.admit(layerPacket(t, uint32(1000+i), "1", rid, i%2 == 0, false), &s) {
			n++
		}
	}
	if l := len(*g.layers.Load()); l > maxLearnedSSRCs || n > maxLearnedSSRCs {
		t.Errorf("%d SSRCs learned, %d of the flood; at most %d", l, n, maxLearnedSSRCs)
	}
	// Without simulcast in the description in force, nothing is learned.
	g.set("", desc("", "audio 0 sendonly ssrc:11"))
	if g.admit(layerPacket(t, 5000, "1", "q", false, false), &s) {
		t.Error("a layer learned with no simulcast section")
	}
}

// TestIngressLayersEncrypted: a layer's packet whose extensions the client
// encrypted (RFC 9335) passes on its SSRC, as many as the client's
// layers (and their repair streams) at most.
func TestIngressLayersEncrypted(t *testing.T) {
	g := newIngress(slog.New(slog.DiscardHandler), &Stats{}, &keyCapture{})
	var s ingressScratch
	g.set("", simulcastDesc())
	n := 0
	for i := range 20 {
		b := layerPacket(t, uint32(100+i), "1", "q", false, false)
		b[12], b[13] = 0xc0, 0xde // cryptex, one-byte
		if g.admit(b, &s) {
			n++
		}
	}
	if n != 6 {
		t.Errorf("%d encrypted layers let through, want 6 (three layers and their repairs)", n)
	}
}

func TestReadSimulcast(t *testing.T) {
	spec := readSimulcast(simulcastDesc())
	if spec == nil || spec.midID != 4 || spec.ridID != 10 || spec.rridID != 11 || spec.rids != 3 ||
		len(spec.sections) != 1 || spec.sections[0].mid != "1" || strings.Join(spec.sections[0].rids, ",") != "q,h,f" {
		t.Fatalf("read %+v", spec)
	}
	if readSimulcast(desc("", "audio 0 sendonly ssrc:11")) != nil {
		t.Error("simulcast read where there is none")
	}
	noExt := strings.ReplaceAll(desc("", "video 1 sendonly rid:q_send simulcast:send_q"), "_", " ")
	if readSimulcast(noExt) != nil {
		t.Error("simulcast read without the extensions that name layers")
	}
}
