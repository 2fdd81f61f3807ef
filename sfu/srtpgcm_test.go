package sfu

import (
	"bytes"
	"crypto/rand"
	"sync"
	"testing"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// testKeys makes a random master key and salt for profile, as a DTLS
// handshake would export them.
func testKeys(profile srtp.ProtectionProfile) (key, salt []byte) {
	keyLen, _ := profile.KeyLen()
	saltLen, _ := profile.SaltLen()
	key, salt = make([]byte, keyLen), make([]byte, saltLen)
	_, _ = rand.Read(key)
	_, _ = rand.Read(salt)
	return key, salt
}

// TestGCMSealerOpensInPion: packets sealed by the fast path's sealer open
// with pion's SRTP (the same code browsers' peers and Hearth's tests use
// to receive), for both AES-GCM profiles, across a sequence number wrap
// and with a late packet from before it.
func TestGCMSealerOpensInPion(t *testing.T) {
	for _, profile := range []srtp.ProtectionProfile{srtp.ProtectionProfileAeadAes128Gcm, srtp.ProtectionProfileAeadAes256Gcm} {
		key, salt := testKeys(profile)
		g, err := newGCMSealer(key, salt, profile)
		if err != nil {
			t.Fatal(err)
		}
		rx, err := srtp.CreateContext(key, salt, profile)
		if err != nil {
			t.Fatal(err)
		}
		var roc rocTracker
		var iv [12]byte
		seqs := []uint16{65530, 65531, 65533, 65535, 0, 1, 65534, 2, 3}
		for i, seq := range seqs {
			want := &rtp.Packet{
				Header:  rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: seq, Timestamp: uint32(960 * i), SSRC: 0xdecafbad, Marker: i == 0},
				Payload: bytes.Repeat([]byte{byte(i)}, 40+i),
			}
			buf := make([]byte, 1500)
			hl, err := want.Header.MarshalTo(buf)
			if err != nil {
				t.Fatal(err)
			}
			n := hl + copy(buf[hl:], want.Payload)
			wire := g.seal(buf, n, hl, want.SSRC, roc.next(seq), seq, &iv)
			if len(wire) != n+sealTag {
				t.Fatalf("sealed %d bytes, want %d", len(wire), n+sealTag)
			}
			plain, err := rx.DecryptRTP(nil, wire, nil)
			if err != nil {
				t.Fatalf("%v: packet %d (seq %d) does not open: %v", profile, i, seq, err)
			}
			var got rtp.Packet
			if err := got.Unmarshal(plain); err != nil {
				t.Fatal(err)
			}
			if got.SequenceNumber != seq || !bytes.Equal(got.Payload, want.Payload) {
				t.Fatalf("%v: packet %d opened as seq %d, %d bytes", profile, i, got.SequenceNumber, len(got.Payload))
			}
		}
	}
}

func TestGCMSealerRefusesOtherProfiles(t *testing.T) {
	if _, err := newGCMSealer(make([]byte, 16), make([]byte, 14), srtp.ProtectionProfileAes128CmHmacSha1_80); err == nil {
		t.Fatal("AES-CM profile accepted")
	}
	if _, err := newGCMSealer(make([]byte, 16), make([]byte, 12), srtp.ProtectionProfileAeadAes256Gcm); err == nil {
		t.Fatal("short key accepted")
	}
}

func TestROCTracker(t *testing.T) {
	var r rocTracker
	for _, c := range []struct {
		seq uint16
		roc uint32
	}{{65000, 0}, {65535, 0}, {3, 1}, {65534, 0}, {4, 1}, {30000, 1}, {60000, 1}, {65535, 1}, {10, 2}, {30000, 2}} {
		if got := r.next(c.seq); got != c.roc {
			t.Fatalf("seq %d: roc %d, want %d", c.seq, got, c.roc)
		}
	}
}

// BenchmarkSRTPSeal: one audio packet sealed for a subscriber, by the fast
// path's sealer and by pion's srtp.Context under the lock the fast path
// needed for it.
func BenchmarkSRTPSeal(b *testing.B) {
	key, salt := make([]byte, 32), make([]byte, 12)
	hdr := rtp.Header{Version: 2, PayloadType: 111, SSRC: 1, Timestamp: 1}
	payload := make([]byte, 100)
	buf := make([]byte, 1500)
	b.Run("gcmSealer", func(b *testing.B) {
		g, err := newGCMSealer(key, salt, srtp.ProtectionProfileAeadAes256Gcm)
		if err != nil {
			b.Fatal(err)
		}
		var roc rocTracker
		var iv [12]byte
		b.ReportAllocs()
		for range b.N {
			hdr.SequenceNumber++
			hl, _ := hdr.MarshalTo(buf)
			n := hl + copy(buf[hl:], payload)
			_ = g.seal(buf, n, hl, hdr.SSRC, roc.next(hdr.SequenceNumber), hdr.SequenceNumber, &iv)
		}
	})
	b.Run("pion", func(b *testing.B) {
		ctx, err := srtp.CreateContext(key, salt, srtp.ProtectionProfileAeadAes256Gcm)
		if err != nil {
			b.Fatal(err)
		}
		var mu sync.Mutex
		var scratch rtp.Header
		b.ReportAllocs()
		for range b.N {
			hdr.SequenceNumber++
			hl, _ := hdr.MarshalTo(buf)
			n := hl + copy(buf[hl:], payload)
			mu.Lock()
			_, err = ctx.EncryptRTP(buf[:0], buf[:n], &scratch)
			mu.Unlock()
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestRTCPSealerOpensInPion: RTCP compounds sealed by the fast path open
// with pion's SRTCP, for both AES-GCM profiles, packet by packet; a
// compound sealed again under an index already used is refused as a
// replay, as a browser would.
func TestRTCPSealerOpensInPion(t *testing.T) {
	for _, profile := range []srtp.ProtectionProfile{srtp.ProtectionProfileAeadAes128Gcm, srtp.ProtectionProfileAeadAes256Gcm} {
		key, salt := testKeys(profile)
		g, err := newRTCPSealer(key, salt, profile)
		if err != nil {
			t.Fatal(err)
		}
		rx, err := srtp.CreateContext(key, salt, profile, srtp.SRTCPReplayProtection(64))
		if err != nil {
			t.Fatal(err)
		}
		var iv, aad [12]byte
		seal := func(index uint32) (plain, wire []byte) {
			pkts := []rtcp.Packet{
				&rtcp.ReceiverReport{SSRC: 0xfeedface, Reports: []rtcp.ReceptionReport{{SSRC: 7, FractionLost: 3, LastSequenceNumber: uint32(index)}}},
				&rtcp.SenderReport{SSRC: 0x1234, NTPTime: uint64(index) << 32, PacketCount: index},
			}
			plain, err := rtcp.Marshal(pkts)
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, len(plain)+srtcpTrailer)
			copy(buf, plain)
			return plain, g.sealRTCP(buf, len(plain), index, &iv, &aad)
		}
		for index := range uint32(5) {
			want, wire := seal(index)
			if len(wire) != len(want)+srtcpTrailer {
				t.Fatalf("sealed %d bytes, want %d", len(wire), len(want)+srtcpTrailer)
			}
			got, err := rx.DecryptRTCP(nil, wire, nil)
			if err != nil {
				t.Fatalf("%v: compound %d does not open: %v", profile, index, err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%v: compound %d opened as %x, want %x", profile, index, got, want)
			}
		}
		if _, wire := seal(2); func() error { _, err := rx.DecryptRTCP(nil, wire, nil); return err }() == nil {
			t.Errorf("%v: a compound under a used index was taken", profile)
		}
	}
}
