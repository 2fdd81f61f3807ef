package live

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
)

// A seat's resume secret: every joined carries a fresh one, which takes
// the seat back after a dropped connection. The room keeps only its
// SHA-256 (the key), and mirrors the key with the controls, so that a
// node carrying the room on after this one can check a resume; reading
// the key gives nothing to present.

// newResumeSecret returns a fresh secret and its key.
func newResumeSecret() (secret, key string) {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	secret = hex.EncodeToString(b)
	return secret, resumeKey(secret)
}

// resumeKey is the key of secret: its SHA-256, in hex.
func resumeKey(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// keyMatches reports, in constant time, whether key is want; an empty
// want matches nothing.
func keyMatches(want, key string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(key)) == 1
}
