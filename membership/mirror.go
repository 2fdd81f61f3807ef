package membership

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hearth-rtc/hearth/room"
)

// A live room's control state, mirrored: the node running a room writes
// its controls (seats, mutes, hands, floor, roles) to the store as they
// change, and a node that takes the room over, after the owner died or
// handed it over, reads them back and adopts the seats' presences. The
// store keeps the state opaque; it belongs to the session and ends with
// it, as the lock and blocks do.

// Mirror is one room's control state as its owner last wrote it.
type Mirror struct {
	// Term and Version order mirrors: a store keeps the one with the
	// highest term, and within a term the highest version. A node takes a
	// term (MirrorTerm) as it opens the room, so a node that opened the
	// room before another (and lost it to that one: two nodes ran the room
	// at once) can never overwrite that one's mirror, whatever its version.
	Term    uint64
	Version uint64
	// Node is the node that wrote it.
	Node string
	// Data is the state, opaque to the store (package live encodes it).
	Data []byte
}

// MaxMirrorBytes bounds a mirror's Data.
const MaxMirrorBytes = 256 << 10

// MirrorStore keeps mirrors and lets a node adopt another's presences.
type MirrorStore interface {
	// SetMirror stores m as the session's control state, unless the one
	// stored is of a later term, or of the same term and a version at
	// least m.Version, or a later term was started (MirrorTerm): then
	// nothing changes and it returns nil. ErrNotFound if nobody is present: the mirror goes
	// with the session (the last presence), like the lock and blocks.
	// Data over MaxMirrorBytes wraps ErrInvalid.
	SetMirror(ctx context.Context, roomName string, m Mirror) error
	// Mirror returns the session's control state. ErrNotFound if there
	// is none (no session, or nothing written in it).
	Mirror(ctx context.Context, roomName string) (Mirror, error)
	// MirrorTerm starts a new term of the session's mirror, for a node
	// opening the room, and returns it: greater than any term started or
	// written in the session, and at least the store's clock in
	// milliseconds, so that a store that lost its data (a Redis restarted
	// empty) still gives a node opening the room after another the
	// greater term. From then on writes of an earlier term change nothing.
	// With no session it returns such a term and keeps nothing.
	MirrorTerm(ctx context.Context, roomName string) (uint64, error)
	// YieldSeats keeps, for the session, the seats a node gave up to the
	// room's node (two nodes ran the room at once): by the key of each
	// seat's resume secret (a SHA-256 in hex), its participant id. A
	// later call adds to them. ErrNotFound if nobody is present; more than
	// MaxYieldedSeats in the session, or a key or id that is not one,
	// wraps ErrInvalid. They end with the session.
	YieldSeats(ctx context.Context, roomName string, seats map[string]string) error
	// TakeYielded returns the participant id of the seat given up with
	// key, once: it is forgotten as it is taken. ErrNotFound if there is
	// none.
	TakeYielded(ctx context.Context, roomName, key string) (string, error)
	// AdoptPresence makes node host a present participant, which keeps
	// its id, role, state and arrival time, and refreshes its TTL: the
	// new owner of a room takes over the seats of the node that ran it.
	// seen is when the presence was refreshed before (by its previous
	// node's heartbeat or write: that node's last sign of life).
	// ErrNotFound if the participant is not present.
	AdoptPresence(ctx context.Context, roomName, id, node string) (p room.Participant, seen time.Time, err error)
}

// MaxYieldedSeats bounds the seats given up kept for one session.
const MaxYieldedSeats = room.MaxCapacity

// CheckYielded validates YieldSeats' arguments, for every Store.
func CheckYielded(roomName string, seats map[string]string) error {
	if err := room.CheckRoomName(roomName); err != nil {
		return err
	}
	if len(seats) > MaxYieldedSeats {
		return errf("seats given up in room %q: %d, at most %d", roomName, len(seats), MaxYieldedSeats)
	}
	for key, id := range seats {
		if !resumeKey(key) || id == "" || len(id) > 64 {
			return errf("a seat given up in room %q: not a resume key and a participant id", roomName)
		}
	}
	return nil
}

// resumeKey reports whether key looks like a resume secret's key: a
// SHA-256 in lower-case hex.
func resumeKey(key string) bool {
	if len(key) != 64 {
		return false
	}
	for _, c := range key {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// CheckMirror validates SetMirror's arguments, for every Store.
func CheckMirror(roomName string, m Mirror) error {
	if err := room.CheckRoomName(roomName); err != nil {
		return err
	}
	if len(m.Data) > MaxMirrorBytes {
		return errf("mirror of room %q: %d bytes, at most %d", roomName, len(m.Data), MaxMirrorBytes)
	}
	return nil
}

// Mirror writes a live room's control state (encoded by the room) to the
// store, for a node that takes the room over, in the term the room took
// as it opened (MirrorTerm). An earlier term, or a version not newer than
// the one stored in the same term, changes nothing. ErrNotFound once the
// session ended; a store that cannot be reached wraps ErrUnavailable (the
// caller retries).
func (s *Service) Mirror(ctx context.Context, roomName string, term, version uint64, data []byte) error {
	if err := s.store.SetMirror(ctx, roomName, Mirror{Term: term, Version: version, Node: s.node, Data: data}); err != nil {
		return fmt.Errorf("mirror %q: %w", roomName, err)
	}
	return nil
}

// MirrorTerm starts a term of a room's mirror for this node, which opens
// the room: writes of the node that ran it before change nothing from now
// on. A store that cannot be reached wraps ErrUnavailable.
func (s *Service) MirrorTerm(ctx context.Context, roomName string) (uint64, error) {
	t, err := s.store.MirrorTerm(ctx, roomName)
	if err != nil {
		return 0, fmt.Errorf("mirror term of %q: %w", roomName, err)
	}
	return t, nil
}

// YieldSeats keeps the seats this node gives up to the room's node (two
// nodes ran the room at once), by the key of each seat's resume secret,
// so that the room's node gives each back, as themselves, to the client
// that resumes with the secret (TakeYielded). It first writes back the
// presences hosted here if the store lost its data (as after a Redis
// restarted empty, the usual cause of two nodes running one room), so
// that they are there to adopt.
func (s *Service) YieldSeats(ctx context.Context, roomName string, seats map[string]string) error {
	if _, err := s.storeLost(ctx); err != nil {
		return fmt.Errorf("yield seats in %q: %w", roomName, err)
	}
	if err := s.store.YieldSeats(ctx, roomName, seats); err != nil {
		return fmt.Errorf("yield seats in %q: %w", roomName, err)
	}
	return nil
}

// TakeYielded returns, once, the participant id of a seat another node
// gave up with the resume key key. ErrNotFound if there is none.
func (s *Service) TakeYielded(ctx context.Context, roomName, key string) (string, error) {
	id, err := s.store.TakeYielded(ctx, roomName, key)
	if err != nil {
		return "", fmt.Errorf("take a seat given up in %q: %w", roomName, err)
	}
	return id, nil
}

// Mirrored returns a room's control state as its owner last mirrored it;
// ok is false when there is none (no session, or nothing written).
func (s *Service) Mirrored(ctx context.Context, roomName string) (version uint64, data []byte, ok bool, err error) {
	m, err := s.store.Mirror(ctx, roomName)
	switch {
	case errors.Is(err, room.ErrNotFound):
		return 0, nil, false, nil
	case err != nil:
		return 0, nil, false, fmt.Errorf("mirrored %q: %w", roomName, err)
	}
	return m.Version, m.Data, true, nil
}

// Adopt makes this node host a present participant that another node
// hosted (the room's previous owner): same id, role and arrival, its
// seat held (reconnecting) until its client comes back here; seen is
// when the previous node last refreshed it. ErrNotFound if it is no
// longer present; a waiting participant wraps ErrForbidden.
func (s *Service) Adopt(ctx context.Context, roomName, id string) (room.Participant, time.Time, error) {
	p, seen, err := s.store.AdoptPresence(ctx, roomName, id, s.node)
	if err != nil {
		return room.Participant{}, time.Time{}, fmt.Errorf("adopt %q: %w", id, err)
	}
	if !p.State.Seated() {
		return room.Participant{}, time.Time{}, fmt.Errorf("adopt %q: %w: waiting", id, room.ErrForbidden)
	}
	s.track(p)
	if p.State != room.StateReconnecting {
		if p, err = s.store.SetState(ctx, roomName, id, room.StateReconnecting, "", 0); err != nil {
			return room.Participant{}, time.Time{}, fmt.Errorf("adopt %q: %w", id, err)
		}
		s.remember(p)
	}
	return p, seen, nil
}
