package turnserver

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // the TURN REST scheme is defined with HMAC-SHA1
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Credential errors. ParseUsername and Password wrap them.
var (
	// ErrMalformed: the username is not "<unix-expiry>:<user>".
	ErrMalformed = errors.New("turnserver: malformed username")
	// ErrExpired: the username's expiry has passed.
	ErrExpired = errors.New("turnserver: credentials expired")
)

// MaxUserLen bounds the user part of a username, in bytes.
const MaxUserLen = 128

// maxExpiryDigits keeps expiries within what int64 seconds and time.Time
// handle (year 2286 needs 10 digits; 12 leave room and cannot overflow).
const maxExpiryDigits = 12

// keyLabel separates the TURN key from every other use of the server secret.
const keyLabel = "hearth turn credentials v1"

// DeriveKey derives the TURN credential key from the server secret, so that
// a TURN password never reveals anything about the secret that signs join
// tokens, and a join token's key is never used as a TURN key.
func DeriveKey(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(keyLabel))
	return m.Sum(nil)
}

// Credentials returns short-lived TURN credentials in the TURN REST scheme
// (draft-uberti-behave-turn-rest): username "<unix-expiry>:<user>" and
// password base64(HMAC-SHA1(key, username)). Any server holding key can
// check them without storing anything.
func Credentials(key []byte, user string, expires time.Time) (username, password string) {
	username = strconv.FormatInt(expires.Unix(), 10) + ":" + user
	return username, mac(key, username)
}

// ParseUsername splits a TURN REST username into its expiry and user. The
// expiry is 1-12 decimal digits; the user is 1-MaxUserLen bytes of
// printable characters without spaces (Hearth puts a participant id there).
// Errors wrap ErrMalformed.
func ParseUsername(username string) (expires time.Time, user string, err error) {
	ts, user, ok := strings.Cut(username, ":")
	if !ok {
		return time.Time{}, "", fmt.Errorf("%w: no ':'", ErrMalformed)
	}
	if ts == "" || len(ts) > maxExpiryDigits || strings.Trim(ts, "0123456789") != "" {
		return time.Time{}, "", fmt.Errorf("%w: expiry must be 1-%d digits", ErrMalformed, maxExpiryDigits)
	}
	if user == "" || len(user) > MaxUserLen || !utf8.ValidString(user) ||
		strings.IndexFunc(user, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) >= 0 {
		return time.Time{}, "", fmt.Errorf("%w: user must be 1-%d printable bytes", ErrMalformed, MaxUserLen)
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil { // cannot happen with at most 12 digits
		return time.Time{}, "", fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return time.Unix(secs, 0), user, nil
}

// Password returns the password that goes with username as of now: the
// username must parse (ErrMalformed) and not have expired (ErrExpired).
func Password(key []byte, username string, now time.Time) (user, password string, err error) {
	expires, user, err := ParseUsername(username)
	if err != nil {
		return "", "", err
	}
	if !now.Before(expires) {
		return "", "", fmt.Errorf("%w at %s", ErrExpired, expires.UTC().Format(time.RFC3339))
	}
	return user, mac(key, username), nil
}

func mac(key []byte, username string) string {
	m := hmac.New(sha1.New, key)
	m.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
