package room

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A room's display name is what people see ("Thursday circle"); its name
// stays the address ("thursday-circle"). It is plain text: shown as text,
// never as markup.

// CleanDisplayName trims a display name and checks it: empty (the default
// from the name) or 1–64 characters with no control or invisible
// formatting characters.
func CleanDisplayName(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxNameLen {
		return "", fmt.Errorf("%w: displayName must be at most %d characters", ErrInvalid, MaxNameLen)
	}
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) >= 0 {
		return "", fmt.Errorf("%w: displayName must be plain text on one line, without control or invisible formatting characters", ErrInvalid)
	}
	return s, nil
}

// DefaultDisplayName makes a room's name readable: dashes, underscores and
// dots become spaces and the first letter a capital ("thursday-circle" is
// "Thursday circle").
func DefaultDisplayName(name string) string {
	words := strings.FieldsFunc(name, func(r rune) bool { return r == '-' || r == '_' || r == '.' || unicode.IsSpace(r) })
	s := strings.Join(words, " ")
	if s == "" {
		return name
	}
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// Title is the name people see: the display name, or one made from the
// room's name.
func (c RoomConfig) Title() string {
	if c.DisplayName != "" {
		return c.DisplayName
	}
	return DefaultDisplayName(c.Name)
}
