package membership

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/hearth-rtc/hearth/room"
)

// The Service and its lifetime: configuration, the presences hosted on this
// node and their upkeep (Heartbeat, Run), leaving and the plain reads. The
// door is join.go; what facilitators do, moderation.go; writes that wait for
// the store, pending.go; writing a lost store back, recovery.go.

// DefaultMaxWaiting caps a room's waiting room, so knock spam cannot grow
// it without bound.
const DefaultMaxWaiting = 100

// ServiceConfig configures NewService.
type ServiceConfig struct {
	Store Store // required
	// Secret is the HMAC key of join tokens (at least MinSecretLen bytes).
	Secret []byte
	// NodeID names this server process in presence records (required).
	NodeID string
	Logger *slog.Logger // slog.Default() if nil
	// Now is the clock for tokens and join times; time.Now if nil.
	Now func() time.Time
	// HeartbeatInterval is how often Run refreshes this node's presences;
	// DefaultHeartbeatInterval if zero. Keep it well under the store TTL.
	HeartbeatInterval time.Duration
	// PresenceTTL is the store's presence lifetime (DefaultPresenceTTL if
	// zero): a node that could not refresh its presences for about that
	// long writes back those the store let expire (recovery.go).
	PresenceTTL time.Duration
	// MaxWaiting caps each room's waiting room; DefaultMaxWaiting if zero.
	MaxWaiting int
	// OnGone, if set, is called from Run (one call at a time) for each
	// participant hosted here that is no longer in the store: denied or
	// removed from another node, or expired. The caller should close its
	// connection. It must not block for long.
	OnGone func(roomName, participantID string)
}

// Service is the door: signaling asks it to decide joins, and the live
// rooms (package live) to write what their facilitators decided (admit,
// deny, remove, lock), which they authorized themselves; and it keeps the
// presences of the participants hosted on this node alive.
type Service struct {
	store      Store
	secret     []byte
	node       string
	log        *slog.Logger
	now        func() time.Time
	interval   time.Duration
	ttl        time.Duration
	maxWaiting int
	onGone     func(roomName, id string)
	passcodes  *room.PasscodeMemo

	mu      sync.Mutex
	local   map[string]map[string]room.Participant // room -> id -> hosted here, as last known
	rooms   map[string]hostedRoom                  // what is known of the rooms in local
	pending map[string]pendingRoom                 // changes not yet written to the store (pending.go)
	attSeq  uint64                                 // numbers pending attendance writes (pendingattendance.go)
	beats   map[string]time.Time                   // room -> when its presences were last refreshed

	flushMu sync.Mutex // serializes writing pending changes
	beatMu  sync.Mutex // serializes heartbeats of a room (recovery.go)

	recMu sync.Mutex // serializes epoch checks and restores (recovery.go)
	epoch string     // the store's epoch last seen
}

// NewService checks cfg and returns a Service. Call Run to keep presences
// alive.
func NewService(cfg ServiceConfig) (*Service, error) {
	if cfg.Store == nil {
		return nil, errf("service needs a store")
	}
	if cfg.NodeID == "" {
		return nil, errf("service needs a node id")
	}
	if len(cfg.Secret) < room.MinSecretLen {
		return nil, errf("token secret must be at least %d bytes", room.MinSecretLen)
	}
	s := &Service{
		store:      cfg.Store,
		secret:     append([]byte(nil), cfg.Secret...),
		node:       cfg.NodeID,
		log:        cfg.Logger,
		now:        cfg.Now,
		interval:   cfg.HeartbeatInterval,
		ttl:        cfg.PresenceTTL,
		maxWaiting: cfg.MaxWaiting,
		onGone:     cfg.OnGone,
		passcodes:  room.NewPasscodeMemo(),
		local:      make(map[string]map[string]room.Participant),
		rooms:      make(map[string]hostedRoom),
		pending:    make(map[string]pendingRoom),
		beats:      make(map[string]time.Time),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.interval <= 0 {
		s.interval = DefaultHeartbeatInterval
	}
	if s.ttl <= 0 {
		s.ttl = DefaultPresenceTTL
	}
	if s.maxWaiting <= 0 {
		s.maxWaiting = DefaultMaxWaiting
	}
	return s, nil
}

// Room returns the room's stored configuration, or DefaultRoomConfig when
// none is stored (drop-in open room).
func (s *Service) Room(ctx context.Context, name string) (room.RoomConfig, error) {
	cfg, err := s.store.GetRoom(ctx, name)
	if errors.Is(err, room.ErrNotFound) {
		return room.DefaultRoomConfig(name), nil
	}
	if err != nil {
		return room.RoomConfig{}, fmt.Errorf("room %q: %w", name, err)
	}
	return cfg, nil
}

// Leave removes a participant (a waiting one too). Leaving twice is not an
// error, and neither is a store that cannot be reached: the removal is
// queued and written, before any join is decided, once the store answers
// (pending.go). Other store errors are returned.
func (s *Service) Leave(ctx context.Context, roomName, id string) error {
	p, hosted := s.hostedHere(roomName, id)
	s.untrack(roomName, id)
	_, err := s.store.RemovePresence(ctx, roomName, id)
	if err != nil && !errors.Is(err, room.ErrNotFound) {
		if unreachable(err) {
			// Written when the store answers, the presence first, so
			// nobody counts them present meanwhile (pending.go).
			s.leaveLater(roomName, id)
			if !hosted {
				p = room.Participant{ID: id}
			}
			s.queueLeft(ctx, roomName, p, s.now())
			return nil
		}
		return fmt.Errorf("leave: %w", err)
	}
	if hosted {
		s.recordLeft(ctx, roomName, p)
	} else {
		s.recordLeft(ctx, roomName, room.Participant{ID: id})
	}
	return nil
}

// LetGo stops heartbeating a participant from this node without removing
// its presence: the room's node takes it over (a join of the same
// identity adopts it), or it expires after the presence TTL.
func (s *Service) LetGo(roomName, id string) {
	s.untrack(roomName, id)
}

// SetReconnecting marks a seated participant as reconnecting (seat kept)
// or back to active. A waiting participant cannot use it to get a seat.
func (s *Service) SetReconnecting(ctx context.Context, roomName, id string, reconnecting bool) (room.Participant, error) {
	sess, err := s.store.Session(ctx, roomName)
	if err != nil {
		return room.Participant{}, fmt.Errorf("room %q: %w", roomName, err)
	}
	p, ok := sess.Find(id)
	if !ok {
		return room.Participant{}, fmt.Errorf("participant %q: %w", id, room.ErrNotFound)
	}
	if !p.State.Seated() {
		return room.Participant{}, fmt.Errorf("%w: participant %q is waiting", room.ErrForbidden, id)
	}
	state := room.StateActive
	if reconnecting {
		state = room.StateReconnecting
	}
	p, err = s.store.SetState(ctx, roomName, id, state, "", 0)
	if err != nil {
		return room.Participant{}, fmt.Errorf("set state of %q: %w", id, err)
	}
	s.remember(p)
	return p, nil
}

// Session returns the live session (everyone present, lock, blocked).
func (s *Service) Session(ctx context.Context, roomName string) (room.Session, error) {
	sess, err := s.store.Session(ctx, roomName)
	if err != nil {
		return room.Session{}, fmt.Errorf("room %q: %w", roomName, err)
	}
	return sess, nil
}

// Heartbeat writes what changed here while the store was unreachable,
// refreshes, once, every presence hosted on this node, and reports to
// OnGone those the store no longer has, unless the store lost its data:
// then they are written back instead (see recovery.go). Run calls it.
func (s *Service) Heartbeat(ctx context.Context) error {
	var errs []error
	// Changes made here while the store was unreachable are written first
	// (pending.go); the presences are refreshed whatever comes of it.
	if _, err := s.sync(ctx); err != nil {
		errs = append(errs, err)
	}
	for roomName, ids := range s.snapshot() {
		if err := s.heartbeatRoom(ctx, roomName, ids); err != nil {
			errs = append(errs, err)
		}
	}
	s.refresh(ctx)
	return errors.Join(errs...)
}

// Run heartbeats every HeartbeatInterval until ctx ends, then returns nil.
// Store failures are logged and retried on the next tick.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := s.Heartbeat(ctx); err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "heartbeat failed", "err", err)
			}
		}
	}
}

// Hosted returns the ids hosted on this node in room, sorted.
func (s *Service) Hosted(roomName string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.local[roomName]))
	for id := range s.local[roomName] {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func (s *Service) track(p room.Participant) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.local[p.Room] == nil {
		s.local[p.Room] = map[string]room.Participant{}
		s.beats[p.Room] = s.now()
	}
	s.local[p.Room][p.ID] = p
}

// untrack forgets a local participant and reports whether it was tracked.
func (s *Service) untrack(roomName, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.local[roomName][id]; !ok {
		return false
	}
	delete(s.local[roomName], id)
	if len(s.local[roomName]) == 0 {
		delete(s.local, roomName)
		delete(s.beats, roomName)
	}
	return true
}

func (s *Service) snapshot() map[string][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string][]string, len(s.local))
	for roomName, ids := range s.local {
		for id := range ids {
			out[roomName] = append(out[roomName], id)
		}
	}
	return out
}
