package room

import (
	"crypto/sha256"
	"testing"
)

// TestPasscodeMemoBounded: a memo that is full starts over rather than
// grow.
func TestPasscodeMemoBounded(t *testing.T) {
	m := NewPasscodeMemo()
	for i := range maxPasscodeMemo {
		var k [sha256.Size]byte
		k[0], k[1] = byte(i), byte(i>>8)
		m.matched[k] = struct{}{}
	}
	var cfg RoomConfig
	if err := cfg.SetPasscode("circle-42"); err != nil {
		t.Fatal(err)
	}
	if !m.Check(cfg, "circle-42") {
		t.Fatal("right passcode refused")
	}
	if n := len(m.matched); n > maxPasscodeMemo {
		t.Fatalf("memo holds %d, want at most %d", n, maxPasscodeMemo)
	}
	if !m.Check(cfg, "circle-42") {
		t.Fatal("right passcode refused after the memo started over")
	}
}
