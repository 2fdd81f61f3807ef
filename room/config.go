package room

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Kind says who may enter a room.
type Kind string

const (
	// KindOpen is a drop-in room: anyone with the link and a display name.
	KindOpen Kind = "open"
	// KindClosed admits only identities on the roster, with a personal token.
	KindClosed Kind = "closed"
)

// LockBehavior says what happens to arrivals while a room is locked.
type LockBehavior string

const (
	// LockWaiting sends arrivals to the waiting room (the default).
	LockWaiting LockBehavior = "waiting"
	// LockRefuse refuses arrivals with room_locked.
	LockRefuse LockBehavior = "refuse"
)

// Limits and defaults.
const (
	// DefaultCapacity is the capacity of drop-in rooms and of stored rooms
	// whose capacity is left at 0.
	DefaultCapacity = 50
	MaxCapacity     = 1000
	MaxRosterSize   = 1000
	MaxNameLen      = 64  // room and display names, in characters
	MaxIdentityLen  = 128 // identities, in bytes
	MaxPasscodeLen  = 72  // bcrypt's limit, in bytes
	// passcodeCost is bcrypt's cost: slow enough that a leaked store does not
	// give passcodes away cheaply, fast enough (~50 ms) for a join.
	passcodeCost    = 10
	maxPasscodeCost = 12
)

// RosterEntry grants one identity entry to a room, with a role.
type RosterEntry struct {
	Identity string `json:"identity"`
	Name     string `json:"name,omitempty"`
	Role     Role   `json:"role"`
}

// RoomConfig is the stored configuration of a room.
type RoomConfig struct {
	Name     string `json:"name"`
	Kind     Kind   `json:"kind"`
	Capacity int    `json:"capacity"`
	// DisplayName is what people see (display.go); empty means one made
	// from Name (Title).
	DisplayName string `json:"displayName,omitempty"`
	// PasscodeHash is a bcrypt hash; set it with SetPasscode. Empty means no
	// passcode.
	PasscodeHash string `json:"passcodeHash,omitempty"`
	// Knock puts every arrival that is not a facilitator in the waiting room
	// until a facilitator admits them (open or closed rooms).
	Knock            bool          `json:"knock"`
	LockBehavior     LockBehavior  `json:"lockBehavior"`
	Roster           []RosterEntry `json:"roster"`
	MembersJoinMuted bool          `json:"membersJoinMuted"`
	// ShareEnd is the sessions' default for the end of a timed share
	// (shareend.go; empty is stop); a facilitator may change it in a
	// session.
	ShareEnd ShareEnd `json:"shareEnd,omitempty"`
	// PeerLed says who may run turn-taking while no facilitator is present
	// (peerled.go); empty is nobody.
	PeerLed PeerLed `json:"peerLed,omitempty"`
	// Schedule, if set, is when the room meets (series.go); a closed room
	// with one is a closed cohort (cohort.go).
	Schedule *Schedule `json:"schedule,omitempty"`
	// Agreement, if set, is the group agreement members accept before
	// entering (agreement.go).
	Agreement *Agreement `json:"agreement,omitempty"`
	// RosterOverrides record additions to a closed cohort's roster after it
	// closed (GuardRoster).
	RosterOverrides []RosterOverride `json:"rosterOverrides,omitempty"`
	// CreatedAt and UpdatedAt are set by the store.
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// DefaultRoomConfig is the configuration of an open room that has none
// stored: drop-in, DefaultCapacity, no passcode, no knock.
func DefaultRoomConfig(name string) RoomConfig {
	return RoomConfig{Name: name, Kind: KindOpen, Capacity: DefaultCapacity, LockBehavior: LockWaiting}
}

// ValidRoomName reports whether name is 1–64 characters of A-Z a-z 0-9 . _ -
func ValidRoomName(name string) bool {
	if len(name) < 1 || len(name) > MaxNameLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

// CleanName trims a display name and checks it is 1–64 characters with no
// control or formatting characters (bidirectional overrides and other
// invisible format marks could make one person's name pass for another's).
func CleanName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", fmt.Errorf("%w: name is required", ErrInvalid)
	}
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxNameLen {
		return "", fmt.Errorf("%w: name must be 1-%d characters", ErrInvalid, MaxNameLen)
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "", fmt.Errorf("%w: name contains control characters", ErrInvalid)
	}
	if strings.IndexFunc(name, func(r rune) bool { return unicode.Is(unicode.Cf, r) }) >= 0 {
		return "", fmt.Errorf("%w: name contains invisible formatting characters", ErrInvalid)
	}
	return name, nil
}

// ValidIdentity checks a stable identity: 1–128 bytes of printable,
// non-space characters.
func ValidIdentity(id string) error {
	if id == "" || len(id) > MaxIdentityLen || !utf8.ValidString(id) {
		return fmt.Errorf("%w: identity must be 1-%d bytes", ErrInvalid, MaxIdentityLen)
	}
	if strings.IndexFunc(id, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) >= 0 {
		return fmt.Errorf("%w: identity %q has spaces or unprintable characters", ErrInvalid, id)
	}
	return nil
}

// HashPasscode returns a bcrypt hash of a passcode.
func HashPasscode(passcode string) (string, error) {
	if passcode == "" || len(passcode) > MaxPasscodeLen {
		return "", fmt.Errorf("%w: passcode must be 1-%d bytes", ErrInvalid, MaxPasscodeLen)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(passcode), passcodeCost)
	if err != nil {
		return "", fmt.Errorf("hash passcode: %w", err)
	}
	return string(h), nil
}

// SetPasscode stores a hash of passcode; "" removes the passcode.
func (c *RoomConfig) SetPasscode(passcode string) error {
	if passcode == "" {
		c.PasscodeHash = ""
		return nil
	}
	h, err := HashPasscode(passcode)
	if err != nil {
		return err
	}
	c.PasscodeHash = h
	return nil
}

// HasPasscode reports whether the room asks for a passcode.
func (c RoomConfig) HasPasscode() bool { return c.PasscodeHash != "" }

// CheckPasscode reports whether passcode matches; always true without one.
func (c RoomConfig) CheckPasscode(passcode string) bool {
	if c.PasscodeHash == "" {
		return true
	}
	if passcode == "" || len(passcode) > MaxPasscodeLen {
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(c.PasscodeHash), []byte(passcode)) == nil
}

// RosterEntry returns the roster entry for identity.
func (c RoomConfig) RosterEntry(identity string) (RosterEntry, bool) {
	for _, e := range c.Roster {
		if e.Identity == identity {
			return e, true
		}
	}
	return RosterEntry{}, false
}

// Normalize fills defaults: capacity 0 becomes DefaultCapacity, an empty lock
// behavior becomes LockWaiting, a nil roster becomes empty; a schedule's
// empty repeat is none (one session), an agreement's empty every is series.
func (c *RoomConfig) Normalize() {
	if c.Schedule != nil {
		c.Schedule.normalize()
	}
	if c.Agreement != nil {
		c.Agreement.normalize()
	}
	if c.Capacity == 0 {
		c.Capacity = DefaultCapacity
	}
	if c.LockBehavior == "" {
		c.LockBehavior = LockWaiting
	}
	if c.Roster == nil {
		c.Roster = []RosterEntry{}
	}
}

// Validate checks the configuration; errors wrap ErrInvalid. Kind is
// required: defaulting a therapy room to "open" by omission would be unsafe.
func (c RoomConfig) Validate() error {
	if !ValidRoomName(c.Name) {
		return fmt.Errorf("%w: room name must be 1-%d characters of A-Z a-z 0-9 . _ -", ErrInvalid, MaxNameLen)
	}
	if c.Kind != KindOpen && c.Kind != KindClosed {
		return fmt.Errorf("%w: kind must be \"open\" or \"closed\"", ErrInvalid)
	}
	if c.Capacity < 1 || c.Capacity > MaxCapacity {
		return fmt.Errorf("%w: capacity must be 1-%d", ErrInvalid, MaxCapacity)
	}
	if c.LockBehavior != LockWaiting && c.LockBehavior != LockRefuse {
		return fmt.Errorf("%w: lockBehavior must be \"waiting\" or \"refuse\"", ErrInvalid)
	}
	if clean, err := CleanDisplayName(c.DisplayName); err != nil {
		return err
	} else if clean != c.DisplayName {
		return fmt.Errorf("%w: displayName must not start or end with spaces", ErrInvalid)
	}
	if c.ShareEnd != "" && !c.ShareEnd.Valid() {
		return fmt.Errorf("%w: shareEnd must be \"stop\" or \"finish\"", ErrInvalid)
	}
	if !c.PeerLed.Valid() {
		return fmt.Errorf("%w: peerLed must be \"nobody\" or \"members\"", ErrInvalid)
	}
	if c.PasscodeHash != "" {
		// A stored hash with a huge cost would make every join hang.
		if cost, err := bcrypt.Cost([]byte(c.PasscodeHash)); err != nil || cost > maxPasscodeCost {
			return fmt.Errorf("%w: passcodeHash is not a bcrypt hash of cost <= %d", ErrInvalid, maxPasscodeCost)
		}
	}
	if c.Schedule != nil {
		if err := c.Schedule.Validate(); err != nil {
			return err
		}
	}
	if c.Agreement != nil {
		if err := c.Agreement.Validate(); err != nil {
			return err
		}
		if c.Agreement.Every == AcceptEverySession && c.Schedule == nil {
			return fmt.Errorf("%w: agreement: accepting at every session needs a schedule", ErrInvalid)
		}
	}
	if err := validateOverrides(c.RosterOverrides); err != nil {
		return err
	}
	return ValidateRoster(c.Roster)
}

// ValidateRoster checks roster entries: valid identities, unique, valid
// roles, names of at most 64 characters.
func ValidateRoster(roster []RosterEntry) error {
	if len(roster) > MaxRosterSize {
		return fmt.Errorf("%w: roster has more than %d entries", ErrInvalid, MaxRosterSize)
	}
	seen := make(map[string]bool, len(roster))
	for i, e := range roster {
		if err := ValidIdentity(e.Identity); err != nil {
			return fmt.Errorf("roster[%d]: %w", i, err)
		}
		if seen[e.Identity] {
			return fmt.Errorf("%w: roster[%d]: identity %q appears twice", ErrInvalid, i, e.Identity)
		}
		seen[e.Identity] = true
		if !e.Role.Valid() {
			return fmt.Errorf("%w: roster[%d]: unknown role %q", ErrInvalid, i, e.Role)
		}
		if e.Name != "" {
			if _, err := CleanName(e.Name); err != nil {
				return fmt.Errorf("roster[%d]: %w", i, err)
			}
		}
	}
	return nil
}

// Clone returns a deep copy, so stores never share a roster slice (or a
// schedule, agreement or override) with callers.
func (c RoomConfig) Clone() RoomConfig {
	if c.Roster != nil {
		c.Roster = append([]RosterEntry{}, c.Roster...)
	}
	if c.Schedule != nil {
		s := *c.Schedule
		if s.Rota != nil {
			s.Rota = append([]string{}, s.Rota...)
		}
		c.Schedule = &s
	}
	if c.Agreement != nil {
		a := *c.Agreement
		c.Agreement = &a
	}
	if c.RosterOverrides != nil {
		c.RosterOverrides = append([]RosterOverride{}, c.RosterOverrides...)
	}
	return c
}

// Info is what a participant is told about the room.
type Info struct {
	Name             string `json:"name"`
	Kind             Kind   `json:"kind"`
	Locked           bool   `json:"locked"`
	MembersJoinMuted bool   `json:"membersJoinMuted"`
	// DisplayName is the room's Title.
	DisplayName string `json:"displayName"`
	// ShareEnd is the room's default for a session's policy.
	ShareEnd ShareEnd `json:"shareEnd"`
	// PeerLed is "members" when members may run turn-taking while no
	// facilitator is present; left out otherwise.
	PeerLed PeerLed `json:"peerLed,omitempty"`
}
