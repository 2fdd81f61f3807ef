package room

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// A room may carry a group agreement (confidentiality, no recording, what
// to do if distressed) that a member accepts before entering: once per
// series, or at every session.

// AcceptEvery says how often the agreement is accepted.
type AcceptEvery string

const (
	// AcceptOncePerSeries: one acceptance of the current text lasts (within
	// the attendance retention).
	AcceptOncePerSeries AcceptEvery = "series"
	// AcceptEverySession: an acceptance lasts for the session it was made
	// in; it needs a schedule.
	AcceptEverySession AcceptEvery = "session"
)

// Agreement limits.
const (
	MaxAgreementLen = 4000 // characters of text
	MaxContactLen   = 200  // characters of contact
	// AcceptanceFresh is how long an acceptance lasts, in an every-session
	// room, when it was made outside any session's window (an open room's
	// drop-in between sessions): long enough to enter.
	AcceptanceFresh = 10 * time.Minute
)

// Agreement is a room's group agreement.
type Agreement struct {
	// Text is what the member reads and accepts.
	Text string `json:"text"`
	// Contact says how to reach the facilitator, for someone who declines.
	Contact string      `json:"contact,omitempty"`
	Every   AcceptEvery `json:"every"`
}

func (a *Agreement) normalize() {
	if a.Every == "" {
		a.Every = AcceptOncePerSeries
	}
}

// Version names the text: an acceptance is of one version, and a changed
// text must be accepted again.
func (a Agreement) Version() string {
	h := sha256.Sum256([]byte(a.Text))
	return hex.EncodeToString(h[:8])
}

// Validate checks the agreement; errors wrap ErrInvalid.
func (a Agreement) Validate() error {
	a.normalize()
	if strings.TrimSpace(a.Text) == "" || !utf8.ValidString(a.Text) || utf8.RuneCountInString(a.Text) > MaxAgreementLen {
		return errf("agreement: text must be 1-%d characters", MaxAgreementLen)
	}
	if strings.IndexFunc(a.Text, func(r rune) bool { return badTextRune(r) && r != '\n' && r != '\r' && r != '\t' }) >= 0 {
		return errf("agreement: text contains control or invisible formatting characters")
	}
	if !utf8.ValidString(a.Contact) || utf8.RuneCountInString(a.Contact) > MaxContactLen || strings.IndexFunc(a.Contact, badTextRune) >= 0 {
		return errf("agreement: contact must be one line of at most %d characters", MaxContactLen)
	}
	if a.Every != AcceptOncePerSeries && a.Every != AcceptEverySession {
		return errf("agreement: every must be \"series\" or \"session\"")
	}
	return nil
}

// badTextRune is a control character or an invisible format mark (such as
// a bidirectional override) other than the joiners some scripts need.
func badTextRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) && r != '\u200c' && r != '\u200d'
}

// Acceptance is one person's acceptance of a version of a room's agreement.
type Acceptance struct {
	Identity string    `json:"identity"`
	Version  string    `json:"version"`
	At       time.Time `json:"at"`
}

// ValidateAcceptance checks what a store requires of an acceptance; errors
// wrap ErrInvalid.
func ValidateAcceptance(a Acceptance) error {
	if err := ValidIdentity(a.Identity); err != nil {
		return err
	}
	if a.Version == "" || len(a.Version) > 64 {
		return errf("acceptance: version must be 1-64 bytes")
	}
	if a.At.IsZero() {
		return errf("acceptance: time is required")
	}
	return nil
}

// AcceptanceCovers reports whether acc lets its person in at now: it is of
// the current text and, in an every-session room, was made in the session
// under way (from FacilitatorLead before its start to its end), or within
// AcceptanceFresh when no session is under way. Without an agreement every
// acceptance covers.
func (c RoomConfig) AcceptanceCovers(acc Acceptance, now time.Time) bool {
	if c.Agreement == nil {
		return true
	}
	if acc.Version != c.Agreement.Version() || acc.At.After(now) {
		return false
	}
	if c.Agreement.Every != AcceptEverySession {
		return true
	}
	if c.Schedule != nil {
		if x, err := c.Schedule.Series(); err == nil {
			if s, ok := x.At(now, FacilitatorLead); ok {
				return !acc.At.Before(s.Start.Add(-FacilitatorLead))
			}
		}
	}
	return now.Sub(acc.At) <= AcceptanceFresh
}
