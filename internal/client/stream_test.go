package client

import (
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

func packet(t *testing.T, ssrc uint32, seq uint16, payload []byte) []byte {
	t.Helper()
	b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, SSRC: ssrc}, Payload: payload}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestStreamCounts: gaps within an SSRC, repeats, and keyframes of what the
// generator makes, for each codec.
func TestStreamCounts(t *testing.T) {
	for _, mime := range []string{webrtc.MimeTypeVP8, webrtc.MimeTypeH264} {
		s := &Stream{video: true}
		s.mime.Store(&mime)
		key, delta := make([]byte, 10), make([]byte, 10)
		setVideoPayload(mime, key, true)
		setVideoPayload(mime, delta, false)
		for _, p := range []struct {
			ssrc uint32
			seq  uint16
			key  bool
		}{
			{1, 65534, true}, {1, 65535, false}, {1, 2, false}, // 0 and 1 lost across the wrap
			{1, 2, false},  // a repeat
			{7, 900, true}, // a new SSRC: no gap
			{7, 901, false},
		} {
			pl := delta
			if p.key {
				pl = key
			}
			s.Packet(packet(t, p.ssrc, p.seq, pl), 0)
		}
		if g, r, k, n := s.Gaps.Load(), s.Repeats.Load(), s.Keyframes.Load(), s.Packets.Load(); g != 2 || r != 1 || k != 2 || n != 6 {
			t.Errorf("%s: %d gaps, %d repeats, %d keyframes, %d packets; want 2, 1, 2, 6", mime, g, r, k, n)
		}
		if s.SSRC.Load() != 7 || s.LastSeq.Load() != 901 {
			t.Errorf("%s: SSRC %d, last seq %d", mime, s.SSRC.Load(), s.LastSeq.Load())
		}
	}
	s := &Stream{}
	s.Packet([]byte{0x80, 1, 2}, 0) // not RTP
	if s.Packets.Load() != 0 {
		t.Error("a short packet was counted")
	}
}

func TestSSRCMids(t *testing.T) {
	offer := "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
		"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=recvonly\r\n" +
		"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\na=sendonly\r\n" +
		"a=msid:p_1 p_1-audio-1\r\na=ssrc:111 cname:p_1\r\na=ssrc:111 msid:p_1 p_1-audio-1\r\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\na=mid:3\r\na=sendonly\r\n" +
		"a=msid:p_2 p_2-video-2\r\na=ssrc-group:FID 222 223\r\na=ssrc:222 cname:p_2\r\na=ssrc:223 cname:p_2\r\na=ssrc:\r\n"
	got, err := ssrcMids(offer)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[111] != "2" || got[222] != "3" {
		t.Fatalf("got %v", got)
	}
}
