package room_test

import (
	"testing"

	"github.com/hearth-rtc/hearth/room"
)

// TestPasscodeMemo: a remembered match opens only the room whose hash it
// matched, a wrong passcode is refused before and after a right one, and
// a changed passcode leaves the old one refused.
func TestPasscodeMemo(t *testing.T) {
	var cfg room.RoomConfig
	if err := cfg.SetPasscode("circle-42"); err != nil {
		t.Fatal(err)
	}
	m := room.NewPasscodeMemo()
	for i, c := range []struct {
		passcode string
		want     bool
	}{{"wrong", false}, {"circle-42", true}, {"circle-42", true}, {"wrong", false}, {"circle-4", false}, {"", false}} {
		if got := m.Check(cfg, c.passcode); got != c.want {
			t.Errorf("check %d, %q: %v, want %v", i, c.passcode, got, c.want)
		}
	}
	old := cfg
	if err := cfg.SetPasscode("new-code"); err != nil {
		t.Fatal(err)
	}
	if m.Check(cfg, "circle-42") {
		t.Error("the old passcode opens the room after it was changed")
	}
	if !m.Check(cfg, "new-code") || !m.Check(old, "circle-42") {
		t.Error("a right passcode refused")
	}
	var none room.RoomConfig
	if !m.Check(none, "") || !m.Check(none, "anything") {
		t.Error("a room without a passcode refused someone")
	}
	var nilMemo *room.PasscodeMemo
	if !nilMemo.Check(cfg, "new-code") || nilMemo.Check(cfg, "circle-42") {
		t.Error("without a memo: wrong answers")
	}
}

// TestDecideWithPasscodeMemo: admission with a memo decides as without.
func TestDecideWithPasscodeMemo(t *testing.T) {
	cfg := room.RoomConfig{Name: "circle", Kind: room.KindOpen}
	if err := cfg.SetPasscode("circle-42"); err != nil {
		t.Fatal(err)
	}
	m := room.NewPasscodeMemo()
	for range 2 {
		for _, c := range []struct {
			passcode string
			want     room.Outcome
		}{{"circle-42", room.OutcomeAdmit}, {"nope", room.OutcomeRefuse}} {
			d := room.Decide(cfg, room.Session{}, room.Arrival{Name: "Ann", Passcode: c.passcode, Passcodes: m})
			if d.Outcome != c.want {
				t.Errorf("passcode %q: %v, want %v", c.passcode, d.Outcome, c.want)
			}
		}
	}
}

// BenchmarkPasscodeCheck: a group's passcode checked in full for each
// arrival, and with the memo (the first arrival pays the full check).
func BenchmarkPasscodeCheck(b *testing.B) {
	var cfg room.RoomConfig
	if err := cfg.SetPasscode("circle-42"); err != nil {
		b.Fatal(err)
	}
	b.Run("full", func(b *testing.B) {
		for b.Loop() {
			cfg.CheckPasscode("circle-42")
		}
	})
	b.Run("memo", func(b *testing.B) {
		m := room.NewPasscodeMemo()
		for b.Loop() {
			m.Check(cfg, "circle-42")
		}
	})
}
