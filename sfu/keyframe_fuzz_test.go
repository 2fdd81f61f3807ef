package sfu

import (
	"testing"

	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
)

// vp8KeyframeRef decides with pion's VP8 payload descriptor parser: a
// keyframe is the start (S=1) of partition 0 whose frame tag has P=0.
func vp8KeyframeRef(p []byte) bool {
	var d codecs.VP8Packet
	rest, err := d.Unmarshal(p)
	return err == nil && d.S == 1 && d.PID == 0 && len(rest) > 0 && rest[0]&0x01 == 0
}

// stapUnits splits a well-formed STAP-A payload (RFC 6184 §5.7.1: units
// of a 16-bit size and at least one byte, exactly filling the payload)
// into its NAL unit types.
func stapUnits(p []byte) (types []byte, ok bool) {
	for i := 1; i < len(p); {
		if i+2 > len(p) {
			return nil, false
		}
		size := int(p[i])<<8 | int(p[i+1])
		i += 2
		if size == 0 || i+size > len(p) {
			return nil, false
		}
		types = append(types, p[i]&0x1f)
		i += size
	}
	return types, len(types) > 0
}

// FuzzKeyframe checks the keyframe detectors on arbitrary payloads: they
// never panic; VP8 agrees with pion's descriptor parser; H.264 finds an
// IDR slice or SPS in a single NAL unit, a well-formed STAP-A or the start
// of a fragmented IDR, and nothing in other packet types; isKeyframe
// dispatches on the negotiated codec and knows nothing of others.
func FuzzKeyframe(f *testing.F) {
	for _, p := range [][]byte{
		{}, {0x10, 0x00}, {0x10, 0x01}, {0x90, 0x80, 0x81, 0x02, 0x00}, {0x90, 0xe0, 0x12, 0x34, 0x56, 0x00},
		{0x90, 0x80}, {0x11, 0x00}, {0x65, 0x88}, {0x67, 0x42}, {0x41, 0x9a},
		{0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce}, {0x78, 0x00, 0x00, 0x65}, {0x78, 0xff, 0xff, 0x65},
		{0x7c, 0x85, 0x88}, {0x7c, 0x05, 0x88}, {0x7c}, {0x7d, 0x85}, {0x19, 0x00},
	} {
		f.Add(uint8(0), p)
		f.Add(uint8(2), p)
	}
	mimes := []string{webrtc.MimeTypeVP8, "video/vp8", webrtc.MimeTypeH264, "video/h264", webrtc.MimeTypeOpus, webrtc.MimeTypeVP9, ""}
	f.Fuzz(func(t *testing.T, m uint8, p []byte) {
		mime := mimes[int(m)%len(mimes)]
		vp8, h264 := vp8Keyframe(p), h264Keyframe(p)
		if ref := vp8KeyframeRef(p); vp8 != ref {
			t.Fatalf("vp8Keyframe(% x) = %v, pion's parser says %v", p, vp8, ref)
		}
		switch got := isKeyframe(mime, p); mime {
		case webrtc.MimeTypeVP8, "video/vp8":
			if got != vp8 {
				t.Fatalf("isKeyframe(%s) = %v, vp8Keyframe = %v", mime, got, vp8)
			}
		case webrtc.MimeTypeH264, "video/h264":
			if got != h264 {
				t.Fatalf("isKeyframe(%s) = %v, h264Keyframe = %v", mime, got, h264)
			}
		default:
			if got {
				t.Fatalf("isKeyframe(%q, % x) = true", mime, p)
			}
		}
		if len(p) == 0 {
			if vp8 || h264 {
				t.Fatal("empty payload is a keyframe")
			}
			return
		}
		switch nal := p[0] & 0x1f; {
		case nal >= 1 && nal <= 23:
			if want := nal == 5 || nal == 7; h264 != want {
				t.Fatalf("single NAL type %d: keyframe %v", nal, h264)
			}
		case nal == 24:
			if types, ok := stapUnits(p); ok {
				want := false
				for _, ty := range types {
					want = want || ty == 5 || ty == 7
				}
				if h264 != want {
					t.Fatalf("STAP-A with units %v: keyframe %v", types, h264)
				}
			}
		case nal == 28:
			if want := len(p) >= 2 && p[1]&0x80 != 0 && p[1]&0x1f == 5; h264 != want {
				t.Fatalf("FU-A % x: keyframe %v", p[:2], h264)
			}
		default:
			if h264 {
				t.Fatalf("NAL type %d is a keyframe", nal)
			}
		}
	})
}
