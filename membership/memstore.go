package membership

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/hearth-rtc/hearth/room"
)

// MemStoreOptions configure NewMemStore.
type MemStoreOptions struct {
	// TTL is how long a presence lives without a heartbeat;
	// DefaultPresenceTTL if zero.
	TTL time.Duration
	// Now is the clock; time.Now if nil. Tests inject a fake one.
	Now func() time.Time
	// AttendanceRetention is how long attendance is kept;
	// DefaultAttendanceRetention if zero.
	AttendanceRetention time.Duration
	// MaxAttendanceRecords bounds each room's records and acceptances;
	// DefaultMaxAttendanceRecords if zero.
	MaxAttendanceRecords int
}

// MemStore is the in-memory Store: the default for a single node without
// Redis. Expired presences are dropped whenever their room is read or
// written, so no sweeper goroutine is needed.
type MemStore struct {
	ttl       time.Duration
	now       func() time.Time
	retention time.Duration
	maxRecs   int

	mu         sync.Mutex
	closed     bool
	rooms      map[string]room.RoomConfig
	sessions   map[string]*memSession
	attendance map[string]*memAttendance // memattendance.go
	swept      time.Time                 // when every room's attendance was last pruned
}

type memSession struct {
	locked  bool
	blocked map[string]bool
	present map[string]memEntry
	mirror  *Mirror // the controls mirrored (mirror.go)
	term    uint64  // the mirror's latest term (started or written)
	// yielded are seats other nodes gave up: participant id by resume key.
	yielded map[string]string
}

type memEntry struct {
	p       room.Participant
	expires time.Time
}

var _ Store = (*MemStore)(nil)

// NewMemStore returns an empty in-memory store.
func NewMemStore(opts MemStoreOptions) *MemStore {
	if opts.TTL <= 0 {
		opts.TTL = DefaultPresenceTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.AttendanceRetention <= 0 {
		opts.AttendanceRetention = DefaultAttendanceRetention
	}
	if opts.MaxAttendanceRecords <= 0 {
		opts.MaxAttendanceRecords = DefaultMaxAttendanceRecords
	}
	return &MemStore{
		ttl:        opts.TTL,
		now:        opts.Now,
		retention:  opts.AttendanceRetention,
		maxRecs:    opts.MaxAttendanceRecords,
		rooms:      make(map[string]room.RoomConfig),
		sessions:   make(map[string]*memSession),
		attendance: make(map[string]*memAttendance),
	}
}

// lock takes the mutex after checking ctx and Close; callers must unlock.
func (m *MemStore) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", room.ErrUnavailable, err)
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return fmt.Errorf("%w: memory store closed", room.ErrUnavailable)
	}
	return nil
}

func (m *MemStore) CreateRoom(ctx context.Context, cfg room.RoomConfig) (room.RoomConfig, error) {
	cfg = cfg.Clone()
	cfg.Normalize()
	if err := cfg.Validate(); err != nil {
		return room.RoomConfig{}, err
	}
	if err := m.lock(ctx); err != nil {
		return room.RoomConfig{}, err
	}
	defer m.mu.Unlock()
	if _, ok := m.rooms[cfg.Name]; ok {
		return room.RoomConfig{}, fmt.Errorf("room %q: %w", cfg.Name, room.ErrExists)
	}
	now := m.now().UTC()
	cfg.CreatedAt, cfg.UpdatedAt = now, now
	m.rooms[cfg.Name] = cfg
	return cfg.Clone(), nil
}

func (m *MemStore) GetRoom(ctx context.Context, name string) (room.RoomConfig, error) {
	if err := room.CheckRoomName(name); err != nil {
		return room.RoomConfig{}, err
	}
	if err := m.lock(ctx); err != nil {
		return room.RoomConfig{}, err
	}
	defer m.mu.Unlock()
	cfg, ok := m.rooms[name]
	if !ok {
		return room.RoomConfig{}, fmt.Errorf("room %q: %w", name, room.ErrNotFound)
	}
	return cfg.Clone(), nil
}

func (m *MemStore) UpdateRoom(ctx context.Context, name string, fn func(*room.RoomConfig) error) (room.RoomConfig, error) {
	if err := room.CheckRoomName(name); err != nil {
		return room.RoomConfig{}, err
	}
	if err := m.lock(ctx); err != nil {
		return room.RoomConfig{}, err
	}
	defer m.mu.Unlock()
	old, ok := m.rooms[name]
	if !ok {
		return room.RoomConfig{}, fmt.Errorf("room %q: %w", name, room.ErrNotFound)
	}
	cfg := old.Clone()
	if err := fn(&cfg); err != nil {
		return room.RoomConfig{}, err
	}
	if cfg.Name != name {
		return room.RoomConfig{}, errf("a room cannot be renamed")
	}
	cfg.Normalize()
	if err := cfg.Validate(); err != nil {
		return room.RoomConfig{}, err
	}
	cfg.CreatedAt, cfg.UpdatedAt = old.CreatedAt, m.now().UTC()
	m.rooms[name] = cfg
	return cfg.Clone(), nil
}

func (m *MemStore) DeleteRoom(ctx context.Context, name string) error {
	if err := room.CheckRoomName(name); err != nil {
		return err
	}
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if _, ok := m.rooms[name]; !ok {
		return fmt.Errorf("room %q: %w", name, room.ErrNotFound)
	}
	delete(m.rooms, name)
	delete(m.attendance, name)
	return nil
}

func (m *MemStore) ListRooms(ctx context.Context) ([]room.RoomConfig, error) {
	if err := m.lock(ctx); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	out := make([]room.RoomConfig, 0, len(m.rooms))
	for _, c := range m.rooms {
		out = append(out, c.Clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// session returns the live session of room after dropping expired entries;
// nil when nobody is present. The caller holds mu.
func (m *MemStore) session(roomName string, now time.Time) *memSession {
	s := m.sessions[roomName]
	if s == nil {
		return nil
	}
	for id, e := range s.present {
		if !e.expires.After(now) {
			delete(s.present, id)
		}
	}
	if len(s.present) == 0 {
		// The session is over: its lock and blocks go with it.
		delete(m.sessions, roomName)
		return nil
	}
	return s
}

// presence returns the session of roomName and id's entry in it, or
// ErrNotFound. Under mu.
func (m *MemStore) presence(roomName, id string, now time.Time) (*memSession, memEntry, error) {
	s := m.session(roomName, now)
	if s == nil {
		return nil, memEntry{}, fmt.Errorf("participant %q in room %q: %w", id, roomName, room.ErrNotFound)
	}
	e, ok := s.present[id]
	if !ok {
		return nil, memEntry{}, fmt.Errorf("participant %q in room %q: %w", id, roomName, room.ErrNotFound)
	}
	return s, e, nil
}

func (m *MemStore) Session(ctx context.Context, roomName string) (room.Session, error) {
	if err := room.CheckRoomName(roomName); err != nil {
		return room.Session{}, err
	}
	if err := m.lock(ctx); err != nil {
		return room.Session{}, err
	}
	defer m.mu.Unlock()
	out := room.Session{Room: roomName, Blocked: []string{}, Participants: []room.Participant{}}
	s := m.session(roomName, m.now())
	if s == nil {
		return out, nil
	}
	out.Locked = s.locked
	for id := range s.blocked {
		out.Blocked = append(out.Blocked, id)
	}
	slices.Sort(out.Blocked)
	for _, e := range s.present {
		out.Participants = append(out.Participants, e.p)
	}
	room.SortParticipants(out.Participants)
	return out, nil
}

// countClass counts present participants in the same capacity class as
// state (seated, or waiting).
func (s *memSession) countClass(state room.State) int {
	n := 0
	for _, e := range s.present {
		if e.p.State.Seated() == state.Seated() {
			n++
		}
	}
	return n
}

func (m *MemStore) AddPresence(ctx context.Context, p room.Participant, limit int) (room.Participant, error) {
	if err := ValidatePresence(p); err != nil {
		return room.Participant{}, err
	}
	if err := m.lock(ctx); err != nil {
		return room.Participant{}, err
	}
	defer m.mu.Unlock()
	now := m.now()
	if p.JoinedAt.IsZero() {
		p.JoinedAt = now.UTC()
	}
	if p.State != room.StateWaiting {
		p.Reason = ""
	}
	s := m.session(p.Room, now)
	if s == nil {
		s = &memSession{blocked: map[string]bool{}, present: map[string]memEntry{}}
	}
	if s.blocked[p.Identity] {
		return room.Participant{}, fmt.Errorf("identity %q in room %q: %w", p.Identity, p.Room, room.ErrBlocked)
	}
	if _, dup := s.present[p.ID]; dup {
		return room.Participant{}, fmt.Errorf("participant %q: %w", p.ID, room.ErrExists)
	}
	for _, e := range s.present {
		if e.p.Identity == p.Identity {
			return room.Participant{}, fmt.Errorf("identity %q in room %q: %w", p.Identity, p.Room, room.ErrIdentityPresent)
		}
	}
	if limit > 0 && s.countClass(p.State) >= limit {
		return room.Participant{}, fmt.Errorf("room %q: %w", p.Room, room.ErrRoomFull)
	}
	s.present[p.ID] = memEntry{p: p, expires: now.Add(m.ttl)}
	m.sessions[p.Room] = s
	return p, nil
}

func (m *MemStore) SetState(ctx context.Context, roomName, id string, state room.State, reason room.WaitReason, limit int) (room.Participant, error) {
	if err := room.CheckRoomName(roomName); err != nil {
		return room.Participant{}, err
	}
	if !state.Valid() {
		return room.Participant{}, errf("state %q is invalid", state)
	}
	if err := m.lock(ctx); err != nil {
		return room.Participant{}, err
	}
	defer m.mu.Unlock()
	now := m.now()
	s, e, err := m.presence(roomName, id, now)
	if err != nil {
		return room.Participant{}, err
	}
	if e.p.State.Seated() != state.Seated() && limit > 0 && s.countClass(state) >= limit {
		return room.Participant{}, fmt.Errorf("room %q: %w", roomName, room.ErrRoomFull)
	}
	e.p.State, e.p.Reason = state, ""
	if state == room.StateWaiting {
		e.p.Reason = reason
	}
	e.expires = now.Add(m.ttl)
	s.present[id] = e
	return e.p, nil
}

func (m *MemStore) RemovePresence(ctx context.Context, roomName, id string) (room.Participant, error) {
	if err := room.CheckRoomName(roomName); err != nil {
		return room.Participant{}, err
	}
	if err := m.lock(ctx); err != nil {
		return room.Participant{}, err
	}
	defer m.mu.Unlock()
	now := m.now()
	s, e, err := m.presence(roomName, id, now)
	if err != nil {
		return room.Participant{}, err
	}
	delete(s.present, id)
	m.session(roomName, now) // ends the session if that was the last one
	return e.p, nil
}

func (m *MemStore) Heartbeat(ctx context.Context, roomName string, ids []string) ([]string, error) {
	if err := room.CheckRoomName(roomName); err != nil {
		return nil, err
	}
	if err := m.lock(ctx); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	now := m.now()
	s := m.session(roomName, now)
	var gone []string
	for _, id := range ids {
		if s == nil {
			gone = append(gone, id)
			continue
		}
		e, ok := s.present[id]
		if !ok {
			gone = append(gone, id)
			continue
		}
		e.expires = now.Add(m.ttl)
		s.present[id] = e
	}
	return gone, nil
}

func (m *MemStore) SetLocked(ctx context.Context, roomName string, locked bool) error {
	if err := room.CheckRoomName(roomName); err != nil {
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
	s.locked = locked
	return nil
}

func (m *MemStore) SetBlocked(ctx context.Context, roomName, identity string, blocked bool) error {
	if err := room.CheckRoomName(roomName); err != nil {
		return err
	}
	if identity == "" {
		return errf("identity is required")
	}
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	s := m.session(roomName, m.now())
	if s == nil {
		return fmt.Errorf("session of room %q: %w", roomName, room.ErrNotFound)
	}
	if blocked {
		s.blocked[identity] = true
	} else {
		delete(s.blocked, identity)
	}
	return nil
}

func (m *MemStore) Ping(ctx context.Context) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	m.mu.Unlock()
	return nil
}

func (m *MemStore) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}
