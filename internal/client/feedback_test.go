package client

import (
	"bytes"
	"testing"

	"github.com/pion/rtp"
)

// TestOneByteExtension finds an extension among others, after CSRCs and
// padding, and nothing in a packet without extensions or with a length
// that runs past the packet.
func TestOneByteExtension(t *testing.T) {
	h := rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: 7, SSRC: 9, CSRC: []uint32{1, 2}}
	for id, v := range map[uint8][]byte{1: {0xaa}, 5: {0x12, 0x34}, 3: {1, 2, 3}} {
		if err := h.SetExtension(id, v); err != nil {
			t.Fatal(err)
		}
	}
	b, err := (&rtp.Packet{Header: h, Payload: []byte("payload")}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := oneByteExtension(b, 5); !ok || !bytes.Equal(v, []byte{0x12, 0x34}) {
		t.Errorf("id 5: %x %v", v, ok)
	}
	if _, ok := oneByteExtension(b, 4); ok {
		t.Error("found id 4, never set")
	}
	plain, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 9}, Payload: []byte("x")}).Marshal()
	if _, ok := oneByteExtension(plain, 5); ok {
		t.Error("found an extension in a packet without any")
	}
	cut := bytes.Clone(b[:12+8+4])
	cut[12+8+3] = 40 // a length past the end
	if _, ok := oneByteExtension(cut, 5); ok {
		t.Error("read past the packet")
	}
}

func TestTransportCCID(t *testing.T) {
	offer := "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n" +
		"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=extmap:4 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
	if id := transportCCID(offer); id != 4 {
		t.Errorf("id %d, want 4", id)
	}
	if id := transportCCID("v=0\r\n"); id != 0 {
		t.Errorf("id %d in an offer without it", id)
	}
}
