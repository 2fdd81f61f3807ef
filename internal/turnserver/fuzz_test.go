package turnserver_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hearth-rtc/hearth/internal/turnserver"
)

// FuzzCredentials feeds arbitrary usernames to the TURN credential check,
// which every TURN request reaches before authentication. It never
// panics; it refuses with exactly one of ErrMalformed and ErrExpired;
// what it accepts is "<digits>:<printable user>" not yet expired, and the
// password it expects is the one Credentials hands out for that user and
// expiry (a round trip), which differs for any other key.
func FuzzCredentials(f *testing.F) {
	now := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	good, _ := turnserver.Credentials(testKey, "p_0a1b2c3d", now.Add(time.Hour))
	for _, s := range []string{good, "", ":", "1:", ":p", "0:p", "-1:p", "+99999999999:p", "999999999999:p", "9999999999999:p",
		"1764093600", "1764093600:p q", "1764093600:p\x00", "1764093600:\xff", "01764093600:p", "1764093600::p",
		"1764093600:" + strings.Repeat("x", 129)} {
		f.Add(s)
	}
	other := turnserver.DeriveKey([]byte("some-other-secret-0123456789"))
	f.Fuzz(func(t *testing.T, username string) {
		user, password, err := turnserver.Password(testKey, username, now)
		if err != nil {
			if errors.Is(err, turnserver.ErrMalformed) == errors.Is(err, turnserver.ErrExpired) {
				t.Fatalf("Password(%q): %v is not exactly one of the sentinels", username, err)
			}
			return
		}
		ts, rest, _ := strings.Cut(username, ":")
		if rest != user || ts == "" || strings.Trim(ts, "0123456789") != "" || user == "" || len(user) > turnserver.MaxUserLen ||
			!utf8.ValidString(user) || strings.ContainsAny(user, " \t\r\n\x00") {
			t.Fatalf("accepted %q (user %q)", username, user)
		}
		secs, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || secs <= now.Unix() {
			t.Fatalf("accepted %q expiring at %d (%v), now is %d", username, secs, err, now.Unix())
		}
		u2, p2 := turnserver.Credentials(testKey, user, time.Unix(secs, 0))
		if canonical := strconv.FormatInt(secs, 10) == ts; canonical && (u2 != username || p2 != password) {
			t.Fatalf("Credentials(%q, %d) = %q/%q; the check wanted %q for %q", user, secs, u2, p2, password, username)
		}
		if _, p3, err := turnserver.Password(other, username, now); err != nil || p3 == password {
			t.Fatalf("another key gives %q, %v", p3, err)
		}
		if _, _, err := turnserver.Password(testKey, username, time.Unix(secs, 0)); !errors.Is(err, turnserver.ErrExpired) {
			t.Fatalf("%q still accepted at its expiry: %v", username, err)
		}
	})
}
