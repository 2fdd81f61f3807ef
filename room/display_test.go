package room_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hearth-rtc/hearth/room"
)

func TestDisplayName(t *testing.T) {
	for name, want := range map[string]string{
		"thursday-circle":  "Thursday circle",
		"tuesday_grief.v2": "Tuesday grief v2",
		"AA--meeting":      "AA meeting",
		"x":                "X",
		"---":              "---",
	} {
		if got := room.DefaultDisplayName(name); got != want {
			t.Errorf("DefaultDisplayName(%q) = %q, want %q", name, got, want)
		}
		if got := (room.RoomConfig{Name: name}).Title(); got != want {
			t.Errorf("Title of %q without a display name = %q, want %q", name, got, want)
		}
	}
	if got := (room.RoomConfig{Name: "thursday-circle", DisplayName: "Thursday evening circle"}).Title(); got != "Thursday evening circle" {
		t.Errorf("Title = %q, want the display name", got)
	}

	if got, err := room.CleanDisplayName("  Thursday circle \t"); err != nil || got != "Thursday circle" {
		t.Errorf("CleanDisplayName trims: %q, %v", got, err)
	}
	if got, err := room.CleanDisplayName("   "); err != nil || got != "" {
		t.Errorf("blank display name: %q, %v, want the default (empty)", got, err)
	}
	if got, err := room.CleanDisplayName(strings.Repeat("é", 64)); err != nil || got == "" {
		t.Errorf("64 characters refused: %v", err)
	}
	for _, bad := range []string{strings.Repeat("é", 65), "two\nlines", "bell\a", "\xff\xfe", "\u202eevil", "zero\u200bwidth"} {
		_, err := room.CleanDisplayName(bad)
		if !errors.Is(err, room.ErrInvalid) {
			t.Errorf("CleanDisplayName(%q) = %v, want ErrInvalid", bad, err)
			continue
		}
		if strings.Contains(err.Error(), bad) {
			t.Errorf("the error echoes the input: %v", err)
		}
	}

	ok := room.RoomConfig{Name: "r", Kind: room.KindOpen, Capacity: 5, LockBehavior: room.LockWaiting, DisplayName: "Our group"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid display name refused: %v", err)
	}
	for _, dn := range []string{" padded", "tab\there", strings.Repeat("n", 65)} {
		c := ok
		c.DisplayName = dn
		if err := c.Validate(); !errors.Is(err, room.ErrInvalid) {
			t.Errorf("display name %q: Validate = %v, want ErrInvalid", dn, err)
		}
	}
}

func TestShareEnd(t *testing.T) {
	c := room.RoomConfig{Name: "r", Kind: room.KindOpen}
	c.Normalize()
	if err := c.Validate(); err != nil || c.ShareEnd.OrStop() != room.ShareEndStop {
		t.Errorf("default share end %q (%v), want stop", c.ShareEnd.OrStop(), err)
	}
	c.ShareEnd = room.ShareEndFinish
	if err := c.Validate(); err != nil {
		t.Errorf("finish refused: %v", err)
	}
	c.ShareEnd = "whenever"
	if err := c.Validate(); !errors.Is(err, room.ErrInvalid) {
		t.Errorf("share end %q: Validate = %v, want ErrInvalid", c.ShareEnd, err)
	}
	if room.ShareEnd("").OrStop() != room.ShareEndStop || room.ShareEndFinish.OrStop() != room.ShareEndFinish {
		t.Error("OrStop")
	}
}
