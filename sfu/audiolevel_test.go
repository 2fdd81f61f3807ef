package sfu

import (
	"testing"

	"github.com/pion/rtp"
)

func levelPacket(t *testing.T, id uint8, b byte) *rtp.Packet {
	t.Helper()
	pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111}, Payload: []byte{1, 2, 3}}
	if err := pkt.Header.SetExtension(id, []byte{b}); err != nil {
		t.Fatal(err)
	}
	// Round-trip, as the track reader sees packets.
	raw, err := pkt.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var out rtp.Packet
	if err := out.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	return &out
}

func TestAudioLevelsObserve(t *testing.T) {
	var a audioLevels
	a.observe(levelPacket(t, 3, 10)) // no extension negotiated: ignored
	if a.packets.Load() != 0 {
		t.Fatal("counted without a negotiated extension")
	}
	a.extID = 3
	a.observe(levelPacket(t, 3, 0x80|20))      // speech, V set
	a.observe(levelPacket(t, 3, 30))           // speech, V not set: the level decides
	a.observe(levelPacket(t, 3, 0x80|127))     // V set but silent
	a.observe(levelPacket(t, 3, VoiceLevel+1)) // quiet room noise
	a.observe(levelPacket(t, 5, 10))           // another extension id
	if p, v, l := a.packets.Load(), a.voiced.Load(), a.loudness.Load(); p != 4 || v != 2 || l != (127-20)+(127-30) {
		t.Fatalf("packets %d voiced %d loudness %d", p, v, l)
	}
}

// The track reader calls observe for every audio packet: it must not
// allocate.
func TestAudioLevelsObserveAllocs(t *testing.T) {
	a := audioLevels{extID: 1}
	pkt := levelPacket(t, 1, 0x80|25)
	if n := testing.AllocsPerRun(1000, func() { a.observe(pkt) }); n != 0 {
		t.Fatalf("observe allocates %.1f times per packet", n)
	}
}
