package sfu

// isKeyframe reports whether an RTP payload starts a keyframe, for the codecs
// the engine negotiates. A subscriber that starts or resumes receiving video
// is held back until one arrives, so its decoder never sees a broken picture.
func isKeyframe(mime string, payload []byte) bool {
	switch mime {
	case "video/VP8", "video/vp8":
		return vp8Keyframe(payload)
	case "video/H264", "video/h264":
		return h264Keyframe(payload)
	}
	return false
}

// vp8Keyframe parses the VP8 payload descriptor (RFC 7741 §4.2) and looks at
// the P bit of the first partition's header.
func vp8Keyframe(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	x := p[0]&0x80 != 0
	s := p[0]&0x10 != 0
	pid := p[0] & 0x07
	if !s || pid != 0 {
		return false
	}
	i := 1
	if x {
		if len(p) <= i {
			return false
		}
		ext := p[i]
		i++
		if ext&0x80 != 0 { // I: picture id
			if len(p) <= i {
				return false
			}
			if p[i]&0x80 != 0 {
				i++
			}
			i++
		}
		if ext&0x40 != 0 { // L: tl0picidx
			i++
		}
		if ext&0x30 != 0 { // T or K
			i++
		}
	}
	if len(p) <= i {
		return false
	}
	return p[i]&0x01 == 0
}

// h264Keyframe looks for an IDR slice or SPS at the start of the payload
// (RFC 6184: single NAL, STAP-A, FU-A start fragment).
func h264Keyframe(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	switch nal := p[0] & 0x1f; nal {
	case 5, 7:
		return true
	case 24: // STAP-A
		for i := 1; i+2 < len(p); {
			size := int(p[i])<<8 | int(p[i+1])
			i += 2
			if i >= len(p) {
				return false
			}
			if t := p[i] & 0x1f; t == 5 || t == 7 {
				return true
			}
			i += size
		}
	case 28: // FU-A
		if len(p) < 2 {
			return false
		}
		return p[1]&0x80 != 0 && p[1]&0x1f == 5
	}
	return false
}
