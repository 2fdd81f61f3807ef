package sfu

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"fmt"

	"github.com/pion/srtp/v3"
)

// gcmSealer encrypts RTP for one subscriber with AEAD_AES_128_GCM or
// AEAD_AES_256_GCM (RFC 7714), the profiles browsers and pion negotiate
// with Hearth. It exists for the audio fast path: pion's srtp.Context keeps
// per-SSRC state in a map behind the caller's lock and works out the
// rollover counter on every packet, which cost more than the encryption
// itself. Here the cipher is shared and stateless, so the readers of every
// track a subscriber receives seal concurrently without a lock, and each
// stream's rollover counter stays with the stream (rocTracker).
type gcmSealer struct {
	aead cipher.AEAD
	salt [12]byte // the session salt
}

// SRTP and SRTCP key derivation labels (RFC 3711 §4.3.2).
const (
	labelSRTPEncryption  = 0x00
	labelSRTPSalt        = 0x02
	labelSRTCPEncryption = 0x03
	labelSRTCPSalt       = 0x05
)

// newGCMSealer makes the cipher for SRTP; newRTCPSealer for SRTCP, from the
// same master key under SRTCP's labels.
func newGCMSealer(masterKey, masterSalt []byte, profile srtp.ProtectionProfile) (*gcmSealer, error) {
	return newSealer(masterKey, masterSalt, profile, labelSRTPEncryption, labelSRTPSalt)
}

func newRTCPSealer(masterKey, masterSalt []byte, profile srtp.ProtectionProfile) (*gcmSealer, error) {
	return newSealer(masterKey, masterSalt, profile, labelSRTCPEncryption, labelSRTCPSalt)
}

func newSealer(masterKey, masterSalt []byte, profile srtp.ProtectionProfile, keyLabel, saltLabel byte) (*gcmSealer, error) {
	keyLen, err := profile.KeyLen()
	if err != nil {
		return nil, fmt.Errorf("sfu: srtp: %w", err)
	}
	saltLen, err := profile.SaltLen()
	if err != nil {
		return nil, fmt.Errorf("sfu: srtp: %w", err)
	}
	if profile != srtp.ProtectionProfileAeadAes128Gcm && profile != srtp.ProtectionProfileAeadAes256Gcm {
		return nil, fmt.Errorf("sfu: srtp: %v is not an AES-GCM profile", profile)
	}
	if len(masterKey) != keyLen || len(masterSalt) != saltLen || saltLen != 12 {
		return nil, fmt.Errorf("sfu: srtp: master key %d and salt %d bytes, want %d and %d", len(masterKey), len(masterSalt), keyLen, saltLen)
	}
	sessionKey, err := kdf(keyLabel, masterKey, masterSalt, keyLen)
	if err != nil {
		return nil, err
	}
	sessionSalt, err := kdf(saltLabel, masterKey, masterSalt, saltLen)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(sessionKey)
	if err != nil {
		return nil, fmt.Errorf("sfu: srtp: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("sfu: srtp: %w", err)
	}
	g := &gcmSealer{aead: aead}
	copy(g.salt[:], sessionSalt)
	return g, nil
}

// kdf is SRTP's AES-CM key derivation with a key derivation rate of 0
// (RFC 3711 §4.3.1 and §4.3.3): AES in counter mode under the master key,
// over the master salt with the label at byte 7.
func kdf(label byte, masterKey, masterSalt []byte, n int) ([]byte, error) {
	block, err := aes.NewCipher(masterKey)
	if err != nil {
		return nil, fmt.Errorf("sfu: srtp kdf: %w", err)
	}
	var in [aes.BlockSize]byte
	copy(in[:], masterSalt)
	in[7] ^= label
	out := make([]byte, (n+aes.BlockSize-1)/aes.BlockSize*aes.BlockSize)
	for i := 0; i*aes.BlockSize < n; i++ {
		binary.BigEndian.PutUint16(in[aes.BlockSize-2:], uint16(i))
		block.Encrypt(out[i*aes.BlockSize:], in[:])
	}
	return out[:n], nil
}

// sealTag is what sealing adds to a packet.
const sealTag = 16

// seal encrypts the RTP packet in buf[:n], whose header is buf[:hdrLen],
// in place and returns the SRTP packet; buf needs sealTag spare bytes.
// iv is the caller's scratch (on the stack it would escape to the heap).
func (g *gcmSealer) seal(buf []byte, n, hdrLen int, ssrc, roc uint32, seq uint16, iv *[12]byte) []byte {
	// IV (RFC 7714 §8.1): 00 00 || SSRC || ROC || SEQ, XOR the salt.
	*iv = [12]byte{}
	binary.BigEndian.PutUint32(iv[2:], ssrc)
	binary.BigEndian.PutUint32(iv[6:], roc)
	binary.BigEndian.PutUint16(iv[10:], seq)
	for i := range iv {
		iv[i] ^= g.salt[i]
	}
	// The header is the associated data; the payload is sealed where it is.
	return g.aead.Seal(buf[:hdrLen], iv[:], buf[hdrLen:n], buf[:hdrLen])
}

// srtcpTrailer is what sealing an RTCP compound adds: the tag, then the
// E flag and SRTCP index.
const srtcpTrailer = sealTag + 4

// sealRTCP encrypts the RTCP compound packet in buf[:n] in place as SRTCP
// packet number index of the sender SSRC in its first packet (RFC 7714
// §9: the first 8 bytes stay clear and, with the E flag and index, are the
// associated data). buf needs srtcpTrailer spare bytes; iv and aad are the
// caller's scratch. Each index may be used once per SSRC.
func (g *gcmSealer) sealRTCP(buf []byte, n int, index uint32, iv *[12]byte, aad *[12]byte) []byte {
	const clear = 8
	ssrc := binary.BigEndian.Uint32(buf[4:8])
	*iv = [12]byte{}
	binary.BigEndian.PutUint32(iv[2:], ssrc)
	binary.BigEndian.PutUint32(iv[8:], index&0x7fffffff)
	for i := range iv {
		iv[i] ^= g.salt[i]
	}
	copy(aad[:clear], buf[:clear])
	binary.BigEndian.PutUint32(aad[clear:], index|1<<31)
	out := g.aead.Seal(buf[:clear], iv[:], buf[clear:n], aad[:])
	return append(out, aad[clear:]...)
}

// openRTCP authenticates and decrypts the SRTCP packet b into dst (which
// must not overlap it) and returns the RTCP compound; false if it is not
// authentic or dst is too small. A packet sent unencrypted (E flag clear)
// is returned as it is, unauthenticated. iv and aad are the caller's
// scratch.
func (g *gcmSealer) openRTCP(dst, b []byte, iv *[12]byte, aad *[12]byte) ([]byte, bool) {
	const clear = 8
	if len(b) < clear+srtcpTrailer {
		return nil, false
	}
	n := len(b) - 4
	index := binary.BigEndian.Uint32(b[n:])
	if index>>31 == 0 {
		return b[:n-sealTag], true
	}
	if len(dst) < n-sealTag {
		return nil, false
	}
	*iv = [12]byte{}
	copy(iv[2:6], b[4:8])
	binary.BigEndian.PutUint32(iv[8:], index&0x7fffffff)
	for i := range iv {
		iv[i] ^= g.salt[i]
	}
	copy(aad[:clear], b[:clear])
	copy(aad[clear:], b[n:])
	copy(dst, b[:clear])
	plain, err := g.aead.Open(dst[clear:clear], iv[:], b[clear:n], aad[:])
	if err != nil {
		return nil, false
	}
	return dst[:clear+len(plain)], true
}

// rocTracker keeps one outgoing stream's rollover counter (RFC 3711
// §3.3.1): the sender's count of sequence number wraps, which the receiver
// infers the same way. Owned by the stream's one writer.
type rocTracker struct {
	started bool
	last    uint16 // highest sequence number sent
	roc     uint32
}

// next returns the rollover counter for a packet with sequence number seq.
func (r *rocTracker) next(seq uint16) uint32 {
	if !r.started {
		r.started, r.last = true, seq
		return r.roc
	}
	switch d := int32(seq) - int32(r.last); {
	case d < -0x8000: // wrapped forward
		r.roc++
		r.last = seq
	case d > 0x8000: // a late packet from before the last wrap
		if r.roc > 0 {
			return r.roc - 1
		}
	case d > 0:
		r.last = seq
	}
	return r.roc
}

// open authenticates and decrypts the SRTP packet in buf, whose header is
// buf[:hdrLen], in place; it returns the RTP packet, or false when the
// packet is not authentic under this key and rollover counter.
func (g *gcmSealer) open(buf []byte, hdrLen int, ssrc, roc uint32, seq uint16, iv *[12]byte) ([]byte, bool) {
	if len(buf) < hdrLen+sealTag {
		return nil, false
	}
	*iv = [12]byte{}
	binary.BigEndian.PutUint32(iv[2:], ssrc)
	binary.BigEndian.PutUint32(iv[6:], roc)
	binary.BigEndian.PutUint16(iv[10:], seq)
	for i := range iv {
		iv[i] ^= g.salt[i]
	}
	plain, err := g.aead.Open(buf[hdrLen:hdrLen], iv[:], buf[hdrLen:], buf[:hdrLen])
	if err != nil {
		return nil, false
	}
	return buf[:hdrLen+len(plain)], true
}

// replayWindow is how many packets below the highest one received may
// still arrive (RFC 3711 §3.3.2 asks for at least 64).
const replayWindow = 64

// srtpIn is one incoming stream's SRTP receive state (RFC 3711 §3.3): its
// rollover counter, the highest sequence number seen, and which of the
// packets just below it have been seen, so a replayed packet is refused.
// Owned by whoever holds the stream's lock.
type srtpIn struct {
	started bool
	roc     uint32
	top     uint16
	seen    uint64 // bit i: packet top-i was received
}

// guess returns the rollover counter a packet with sequence number seq
// was most likely sent under (RFC 3711 Appendix A), and false when the
// packet is a replay or too old to tell.
func (s *srtpIn) guess(seq uint16) (uint32, bool) {
	if !s.started {
		return 0, true
	}
	v := s.roc
	if s.top < 0x8000 {
		if int32(seq)-int32(s.top) > 0x8000 {
			if v == 0 {
				return 0, false // from before the stream began
			}
			v--
		}
	} else if int32(s.top)-0x8000 > int32(seq) {
		v++
	}
	idx, top := uint64(v)<<16|uint64(seq), uint64(s.roc)<<16|uint64(s.top)
	if idx <= top {
		d := top - idx
		if d >= replayWindow || s.seen&(1<<d) != 0 {
			return 0, false
		}
	}
	return v, true
}

// accept records an authentic packet sent under rollover counter roc.
func (s *srtpIn) accept(seq uint16, roc uint32) {
	idx := uint64(roc)<<16 | uint64(seq)
	if !s.started {
		s.started, s.roc, s.top, s.seen = true, roc, seq, 1
		return
	}
	top := uint64(s.roc)<<16 | uint64(s.top)
	if idx > top {
		if d := idx - top; d < replayWindow {
			s.seen = s.seen<<d | 1
		} else {
			s.seen = 1
		}
		s.roc, s.top = roc, seq
		return
	}
	s.seen |= 1 << (top - idx)
}
