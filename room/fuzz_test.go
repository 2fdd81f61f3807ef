package room_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hearth-rtc/hearth/room"
	"golang.org/x/crypto/bcrypt"
)

var fuzzNow = time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)

// FuzzVerifyToken feeds arbitrary strings to join-token verification, and
// arbitrary claims to issuing. Verification never panics and fails only
// with the token sentinels (codes invalid_token or token_expired); what it
// accepts has valid claims, re-issues to the same claims and checks out
// for its own room only. Issuing accepts only valid claims, and what it
// issues verifies back to them.
func FuzzVerifyToken(f *testing.F) {
	secret := []byte("fuzz-token-secret-0123456789")
	good, err := room.IssueToken(secret, room.TokenParams{Room: "tuesday-grief", Identity: "client-04", Name: "Rae",
		Role: room.RoleMember, TTL: time.Hour, Now: fuzzNow})
	if err != nil {
		f.Fatal(err)
	}
	for _, tok := range []string{good, "", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
		good[:len(good)-2], strings.Replace(good, ".", "..", 1), good + "x"} {
		f.Add(tok, "tuesday-grief", "client-04", "Rae", "member", int64(3600))
	}
	f.Add(good, "r", "id with space", " ", "facilitator", int64(-1))
	f.Add(good, "", "\x00", "\u202e", "owner", int64(1<<40))
	f.Fuzz(func(t *testing.T, token, roomName, identity, name, role string, ttl int64) {
		c, err := room.VerifyToken(secret, token, fuzzNow)
		if err != nil {
			checkTokenError(t, err)
		} else {
			checkClaims(t, c)
			again, err := room.IssueToken(secret, room.TokenParams{Room: c.Room, Identity: c.Identity, Name: c.Name,
				Role: c.Role, TTL: time.Hour, Now: fuzzNow})
			if err != nil {
				t.Fatalf("accepted claims %+v do not re-issue: %v", c, err)
			}
			c2, err := room.VerifyToken(secret, again, fuzzNow)
			if err != nil || c2.Room != c.Room || c2.Identity != c.Identity || c2.Name != c.Name || c2.Role != c.Role {
				t.Fatalf("re-issued %+v verifies as %+v, %v", c, c2, err)
			}
			if _, err := room.VerifyTokenFor(secret, token, c.Room, fuzzNow); err != nil {
				t.Fatalf("token for %q refused for its room: %v", c.Room, err)
			}
			if _, err := room.VerifyTokenFor(secret, token, c.Room+"x", fuzzNow); !errors.Is(err, room.ErrWrongRoom) ||
				room.ErrorCode(err) != room.CodeWrongRoom {
				t.Fatalf("token for %q accepted for another room: %v", c.Room, err)
			}
		}
		if _, err := room.VerifyToken([]byte("short"), token, fuzzNow); !errors.Is(err, room.ErrTokenInvalid) {
			t.Fatalf("verified with a trivial secret: %v", err)
		}

		// Up to about 68 years either way, so expiries stay in range.
		p := room.TokenParams{Room: roomName, Identity: identity, Name: name, Role: room.Role(role),
			TTL: time.Duration(ttl%(1<<31)) * time.Second, Now: fuzzNow}
		tok, err := room.IssueToken(secret, p)
		_, nerr := room.CleanName(name)
		valid := room.ValidRoomName(roomName) && room.ValidIdentity(identity) == nil && nerr == nil &&
			room.Role(role).Valid() && p.TTL > 0
		if err != nil {
			if valid || !errors.Is(err, room.ErrInvalid) {
				t.Fatalf("IssueToken(%+v): %v", p, err)
			}
			return
		}
		if !valid {
			t.Fatalf("IssueToken accepted %+v", p)
		}
		c, err = room.VerifyToken(secret, tok, fuzzNow)
		clean, _ := room.CleanName(name)
		if err != nil || c.Room != roomName || c.Identity != identity || c.Name != clean || c.Role != room.Role(role) {
			t.Fatalf("issued %+v, verified %+v, %v", p, c, err)
		}
		if _, err := room.VerifyToken(secret, tok, fuzzNow.Add(p.TTL+room.TokenLeeway+time.Second)); !errors.Is(err, room.ErrTokenExpired) {
			t.Fatalf("token used after expiry: %v", err)
		}
		if _, err := room.VerifyToken(secret, tok, fuzzNow.Add(-room.TokenLeeway-time.Second)); !errors.Is(err, room.ErrTokenNotYetValid) {
			t.Fatalf("token used before issue: %v", err)
		}
		if _, err := room.VerifyToken([]byte("another-secret-0123456789"), tok, fuzzNow); !errors.Is(err, room.ErrTokenInvalid) {
			t.Fatalf("token verified with another secret: %v", err)
		}
	})
}

func checkTokenError(t *testing.T, err error) {
	t.Helper()
	n := 0
	for _, s := range []error{room.ErrTokenInvalid, room.ErrTokenExpired, room.ErrTokenNotYetValid} {
		if errors.Is(err, s) {
			n++
		}
	}
	code := room.ErrorCode(err)
	if n != 1 || (code != room.CodeInvalidToken && code != room.CodeTokenExpired) {
		t.Fatalf("verification error %v (code %q) is not exactly one token sentinel", err, code)
	}
}

func checkClaims(t *testing.T, c room.Claims) {
	t.Helper()
	clean, err := room.CleanName(c.Name)
	if !room.ValidRoomName(c.Room) || room.ValidIdentity(c.Identity) != nil || !c.Role.Valid() || err != nil || clean != c.Name ||
		!c.ExpiresAt.After(fuzzNow.Add(-room.TokenLeeway)) {
		t.Fatalf("accepted invalid claims %+v", c)
	}
}

var roomNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// FuzzNames checks the room name, display name and identity validators
// against their definitions: room names are 1-64 of A-Z a-z 0-9 . _ -;
// a clean display name is trimmed, 1-64 characters of valid UTF-8
// without control or format characters, and cleaning it again changes nothing;
// identities are 1-128 bytes of valid UTF-8, printable, without spaces.
// Refusals wrap ErrInvalid.
func FuzzNames(f *testing.F) {
	for _, s := range []string{"tuesday-grief", "", "a b", "Ann", "  Rae  ", "client-04", "\u00e9l\u00e8ve", "\x00",
		"\t", "\u202eevil", strings.Repeat("x", 64), strings.Repeat("x", 65), strings.Repeat("\u00e9", 64),
		"\xff", "line\nbreak", "\u00a0nbsp\u00a0", "\u200b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := room.ValidRoomName(s), roomNameRE.MatchString(s); got != want {
			t.Fatalf("ValidRoomName(%q) = %v, want %v", s, got, want)
		}
		if err := room.CheckRoomName(s); (err == nil) != room.ValidRoomName(s) || (err != nil && !errors.Is(err, room.ErrInvalid)) {
			t.Fatalf("CheckRoomName(%q) = %v", s, err)
		}

		clean, err := room.CleanName(s)
		if err != nil {
			if !errors.Is(err, room.ErrInvalid) {
				t.Fatalf("CleanName(%q): %v, want ErrInvalid", s, err)
			}
			if t2 := strings.TrimSpace(s); t2 != "" && utf8.ValidString(t2) && utf8.RuneCountInString(t2) <= 64 &&
				strings.IndexFunc(t2, unicode.IsControl) < 0 && strings.IndexFunc(t2, isFormat) < 0 {
				t.Fatalf("CleanName refused the fine name %q: %v", s, err)
			}
		} else {
			n := utf8.RuneCountInString(clean)
			if clean != strings.TrimSpace(s) || n < 1 || n > 64 || !utf8.ValidString(clean) ||
				strings.IndexFunc(clean, unicode.IsControl) >= 0 || strings.IndexFunc(clean, isFormat) >= 0 {
				t.Fatalf("CleanName(%q) = %q", s, clean)
			}
			if again, err := room.CleanName(clean); err != nil || again != clean {
				t.Fatalf("CleanName not idempotent on %q: %q, %v", clean, again, err)
			}
		}

		err = room.ValidIdentity(s)
		ok := s != "" && len(s) <= room.MaxIdentityLen && utf8.ValidString(s) &&
			strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) < 0
		if (err == nil) != ok || (err != nil && !errors.Is(err, room.ErrInvalid)) {
			t.Fatalf("ValidIdentity(%q) = %v, want ok=%v", s, err, ok)
		}
	})
}

// FuzzPasscode: a room's passcode check accepts exactly its passcode (and
// anything when there is none); a stored hash passes validation only if
// it is a bcrypt hash of bounded cost; invalid passcodes are refused
// before any hashing.
func FuzzPasscode(f *testing.F) {
	const secret = "open sesame"
	// The lowest cost keeps the fuzzer fast; the check does not depend on it.
	h, err := bcrypt.GenerateFromPassword([]byte(secret), bcrypt.MinCost)
	if err != nil {
		f.Fatal(err)
	}
	withCode := room.RoomConfig{Name: "r", Kind: room.KindOpen, Capacity: 5, LockBehavior: room.LockWaiting, PasscodeHash: string(h)}
	without := withCode
	without.PasscodeHash = ""
	for _, s := range []string{secret, "", "open sesam", "open sesame ", "OPEN SESAME", strings.Repeat("a", 73), string(h),
		"$2a$04$abcdefghijklmnopqrstuu", "$2a$31$" + strings.Repeat("a", 53)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got := withCode.CheckPasscode(s); got != (s == secret) {
			t.Fatalf("CheckPasscode(%q) = %v", s, got)
		}
		if !without.CheckPasscode(s) {
			t.Fatalf("a room without passcode refused %q", s)
		}
		if s == "" || len(s) > room.MaxPasscodeLen {
			if _, err := room.HashPasscode(s); !errors.Is(err, room.ErrInvalid) {
				t.Fatalf("HashPasscode(%q): %v, want ErrInvalid", s, err)
			}
			var c room.RoomConfig
			if err := c.SetPasscode(s); s != "" && !errors.Is(err, room.ErrInvalid) {
				t.Fatalf("SetPasscode(%q): %v, want ErrInvalid", s, err)
			}
		}
		cfg := withCode
		cfg.PasscodeHash = s
		err := cfg.Validate()
		if s == "" {
			if err != nil {
				t.Fatalf("no passcode: %v", err)
			}
			return
		}
		if cost, cerr := bcrypt.Cost([]byte(s)); (err == nil) != (cerr == nil && cost <= 12) {
			t.Fatalf("Validate with passcodeHash %q: %v (cost %d, %v)", s, err, cost, cerr)
		}
		if err != nil && !errors.Is(err, room.ErrInvalid) {
			t.Fatalf("Validate: %v, want ErrInvalid", err)
		}
	})
}

func isFormat(r rune) bool { return unicode.Is(unicode.Cf, r) }
