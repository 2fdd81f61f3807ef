package room_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hearth-rtc/hearth/room"
)

func TestValidRoomName(t *testing.T) {
	good := []string{"a", "tuesday-grief", "Room_1.v2", strings.Repeat("x", 64)}
	bad := []string{"", strings.Repeat("x", 65), "has space", "slash/", "brace{", "ünï", "semi;colon", "new\nline"}
	for _, n := range good {
		if !room.ValidRoomName(n) {
			t.Errorf("ValidRoomName(%q) = false", n)
		}
	}
	for _, n := range bad {
		if room.ValidRoomName(n) {
			t.Errorf("ValidRoomName(%q) = true", n)
		}
	}
}

func TestCleanName(t *testing.T) {
	if got, err := room.CleanName("  Ann Lee \t"); err != nil || got != "Ann Lee" {
		t.Errorf("CleanName trims: %q, %v", got, err)
	}
	if got, err := room.CleanName(strings.Repeat("é", 64)); err != nil || got == "" {
		t.Errorf("64 runes refused: %v", err)
	}
	for _, bad := range []string{"", "   ", strings.Repeat("é", 65), "bell\a", "\xff\xfe", "\u202eevil", "zero\u200bwidth"} {
		if _, err := room.CleanName(bad); !errors.Is(err, room.ErrInvalid) {
			t.Errorf("CleanName(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestPasscodeIsHashed(t *testing.T) {
	var a, b room.RoomConfig
	if err := a.SetPasscode("s3cret"); err != nil {
		t.Fatal(err)
	}
	if err := b.SetPasscode("s3cret"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(a.PasscodeHash, "s3cret") || a.PasscodeHash == b.PasscodeHash {
		t.Fatalf("passcode stored in the clear or unsalted: %q %q", a.PasscodeHash, b.PasscodeHash)
	}
	if !a.HasPasscode() || !a.CheckPasscode("s3cret") || a.CheckPasscode("s3cre") || a.CheckPasscode("") {
		t.Fatal("CheckPasscode wrong")
	}
	if err := a.SetPasscode(""); err != nil || a.HasPasscode() || !a.CheckPasscode("anything") {
		t.Fatal("clearing the passcode failed")
	}
	if err := a.SetPasscode(strings.Repeat("x", 73)); !errors.Is(err, room.ErrInvalid) {
		t.Fatalf("over-long passcode: %v", err)
	}
}

func TestValidate(t *testing.T) {
	ok := room.RoomConfig{Name: "r", Kind: room.KindClosed, Capacity: 10, LockBehavior: room.LockRefuse,
		Roster: []room.RosterEntry{{Identity: "a@example.org", Name: "A", Role: room.RoleFacilitator}, {Identity: "b", Role: room.RoleObserver}}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	mut := func(f func(*room.RoomConfig)) room.RoomConfig {
		c := ok.Clone()
		f(&c)
		return c
	}
	bad := map[string]room.RoomConfig{
		"name":         mut(func(c *room.RoomConfig) { c.Name = "a b" }),
		"kind":         mut(func(c *room.RoomConfig) { c.Kind = "private" }),
		"no kind":      mut(func(c *room.RoomConfig) { c.Kind = "" }),
		"capacity 0":   mut(func(c *room.RoomConfig) { c.Capacity = 0 }),
		"capacity big": mut(func(c *room.RoomConfig) { c.Capacity = room.MaxCapacity + 1 }),
		"lock":         mut(func(c *room.RoomConfig) { c.LockBehavior = "kick" }),
		"hash":         mut(func(c *room.RoomConfig) { c.PasscodeHash = "1234" }),
		"dup identity": mut(func(c *room.RoomConfig) { c.Roster[1].Identity = c.Roster[0].Identity }),
		"empty ident":  mut(func(c *room.RoomConfig) { c.Roster[1].Identity = "" }),
		"space ident":  mut(func(c *room.RoomConfig) { c.Roster[1].Identity = "a b" }),
		"bad role":     mut(func(c *room.RoomConfig) { c.Roster[1].Role = "guest" }),
		"bad entry nm": mut(func(c *room.RoomConfig) { c.Roster[1].Name = strings.Repeat("n", 65) }),
		"roster too big": mut(func(c *room.RoomConfig) {
			c.Roster = make([]room.RosterEntry, room.MaxRosterSize+1)
		}),
	}
	for what, c := range bad {
		if err := c.Validate(); !errors.Is(err, room.ErrInvalid) {
			t.Errorf("%s: Validate = %v, want ErrInvalid", what, err)
		}
	}
	// Clone does not share the roster.
	c := ok.Clone()
	c.Roster[0].Role = room.RoleMember
	if ok.Roster[0].Role != room.RoleFacilitator {
		t.Error("Clone shares the roster slice")
	}
}

func TestDefaultRoomConfig(t *testing.T) {
	c := room.DefaultRoomConfig("drop-in")
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Kind != room.KindOpen || c.Capacity != room.DefaultCapacity || c.HasPasscode() || c.Knock {
		t.Fatalf("default room = %+v", c)
	}
	var n room.RoomConfig
	n.Normalize()
	if n.Capacity != room.DefaultCapacity || n.LockBehavior != room.LockWaiting || n.Roster == nil {
		t.Fatalf("Normalize = %+v", n)
	}
}
