package room

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"sync"
)

// maxPasscodeMemo bounds a PasscodeMemo. Only passcodes that matched are
// kept, about one per room with a passcode, so the bound is reached only
// after many passcode changes; then the memo starts over.
const maxPasscodeMemo = 4096

// PasscodeMemo remembers passcodes that matched a room's hash, so that of
// a group arriving on the hour with the same passcode only the first pays
// for the bcrypt check (about 50 ms of CPU each). What it keeps is a keyed
// hash of the stored hash and the passcode, never the passcode, under a
// key made for the process: a changed passcode (a new hash) matches
// nothing remembered. Wrong passcodes are never remembered and always
// cost a full check.
//
// A nil *PasscodeMemo checks every passcode in full.
type PasscodeMemo struct {
	key [32]byte

	mu      sync.Mutex
	matched map[[sha256.Size]byte]struct{}
}

// NewPasscodeMemo returns an empty memo.
func NewPasscodeMemo() *PasscodeMemo {
	m := &PasscodeMemo{matched: map[[sha256.Size]byte]struct{}{}}
	_, _ = rand.Read(m.key[:]) // never fails (crypto/rand)
	return m
}

// Check reports whether passcode opens cfg's room, as cfg.CheckPasscode.
func (m *PasscodeMemo) Check(cfg RoomConfig, passcode string) bool {
	if m == nil || cfg.PasscodeHash == "" {
		return cfg.CheckPasscode(passcode)
	}
	mac := hmac.New(sha256.New, m.key[:])
	mac.Write([]byte(cfg.PasscodeHash))
	mac.Write([]byte{0})
	mac.Write([]byte(passcode))
	var k [sha256.Size]byte
	mac.Sum(k[:0])

	m.mu.Lock()
	_, ok := m.matched[k]
	m.mu.Unlock()
	if ok {
		return true
	}
	if !cfg.CheckPasscode(passcode) {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.matched) >= maxPasscodeMemo {
		clear(m.matched)
	}
	m.matched[k] = struct{}{}
	return true
}
