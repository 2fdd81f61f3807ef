package membership

import (
	"context"
	"fmt"
	"time"

	"github.com/hearth-rtc/hearth/room"
)

// The memory store's side of mirror.go.

func (m *MemStore) SetMirror(ctx context.Context, roomName string, mr Mirror) error {
	if err := CheckMirror(roomName, mr); err != nil {
		return err
	}
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	s := m.session(roomName, m.now())
	if s == nil {
		return fmt.Errorf("session of room %q: %w", roomName, room.ErrNotFound)
	}
	if mr.Term < s.term || s.mirror != nil && mr.Term == s.mirror.Term && s.mirror.Version >= mr.Version {
		return nil
	}
	s.term = mr.Term
	mr.Data = append([]byte(nil), mr.Data...)
	s.mirror = &mr
	return nil
}

func (m *MemStore) Mirror(ctx context.Context, roomName string) (Mirror, error) {
	if err := room.CheckRoomName(roomName); err != nil {
		return Mirror{}, err
	}
	if err := m.lock(ctx); err != nil {
		return Mirror{}, err
	}
	defer m.mu.Unlock()
	s := m.session(roomName, m.now())
	if s == nil || s.mirror == nil {
		return Mirror{}, fmt.Errorf("mirror of room %q: %w", roomName, room.ErrNotFound)
	}
	out := *s.mirror
	out.Data = append([]byte(nil), out.Data...)
	return out, nil
}

func (m *MemStore) MirrorTerm(ctx context.Context, roomName string) (uint64, error) {
	if err := room.CheckRoomName(roomName); err != nil {
		return 0, err
	}
	if err := m.lock(ctx); err != nil {
		return 0, err
	}
	defer m.mu.Unlock()
	now := m.now()
	t := uint64(max(now.UnixMilli(), 0))
	s := m.session(roomName, now)
	if s == nil {
		return t, nil
	}
	s.term = max(s.term+1, t)
	return s.term, nil
}

func (m *MemStore) YieldSeats(ctx context.Context, roomName string, seats map[string]string) error {
	if err := CheckYielded(roomName, seats); err != nil {
		return err
	}
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	s := m.session(roomName, m.now())
	if s == nil {
		return fmt.Errorf("session of room %q: %w", roomName, room.ErrNotFound)
	}
	n := len(s.yielded)
	for key := range seats {
		if _, ok := s.yielded[key]; !ok {
			n++
		}
	}
	if n > MaxYieldedSeats {
		return errf("seats given up in room %q: %d, at most %d", roomName, n, MaxYieldedSeats)
	}
	if s.yielded == nil {
		s.yielded = map[string]string{}
	}
	for key, id := range seats {
		s.yielded[key] = id
	}
	return nil
}

func (m *MemStore) TakeYielded(ctx context.Context, roomName, key string) (string, error) {
	if err := room.CheckRoomName(roomName); err != nil {
		return "", err
	}
	if err := m.lock(ctx); err != nil {
		return "", err
	}
	defer m.mu.Unlock()
	s := m.session(roomName, m.now())
	id, ok := "", false
	if s != nil {
		id, ok = s.yielded[key]
	}
	if !ok {
		return "", fmt.Errorf("seat given up in room %q: %w", roomName, room.ErrNotFound)
	}
	delete(s.yielded, key)
	return id, nil
}

func (m *MemStore) AdoptPresence(ctx context.Context, roomName, id, node string) (room.Participant, time.Time, error) {
	if err := room.CheckRoomName(roomName); err != nil {
		return room.Participant{}, time.Time{}, err
	}
	if node == "" {
		return room.Participant{}, time.Time{}, errf("node is required")
	}
	if err := m.lock(ctx); err != nil {
		return room.Participant{}, time.Time{}, err
	}
	defer m.mu.Unlock()
	now := m.now()
	s, e, err := m.presence(roomName, id, now)
	if err != nil {
		return room.Participant{}, time.Time{}, err
	}
	seen := e.expires.Add(-m.ttl)
	e.p.Node = node
	e.expires = now.Add(m.ttl)
	s.present[id] = e
	return e.p, seen, nil
}
