// Package redisstore is the Redis implementation of membership.Store, for running
// several Hearth nodes against one shared membership store.
//
// Layout (prefix P, default "hearth:"; room names cannot contain braces, so
// the {room} hash tag is safe):
//
//	P rooms                    set of configured room names
//	P room:{R}:config          room configuration (JSON)
//	P room:{R}:presence|expiry|seated|waiting|locked|blocked|mirror  live session (mirror.go)
//	P room:{R}:attendance|attendance:order|agreement          attendance (attendance.go)
//
// Session changes run as Lua scripts, so capacity checks and presence
// expiry are atomic on the server. It targets a single Redis primary.
package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/room"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// DefaultPrefix namespaces every key.
const DefaultPrefix = "hearth:"

// updateRetries bounds optimistic retries of UpdateRoom under contention.
const updateRetries = 50

// Options configure New.
type Options struct {
	// URL is like redis://[user:pass@]host:port/db (see redis.ParseURL).
	URL string
	// Prefix namespaces keys; DefaultPrefix if empty.
	Prefix string
	// TTL is how long a presence lives without a heartbeat;
	// membership.DefaultPresenceTTL if zero. Millisecond precision.
	TTL    time.Duration
	Logger *slog.Logger // slog.Default() if nil
	// AttendanceRetention is how long attendance is kept;
	// membership.DefaultAttendanceRetention if zero. Millisecond precision.
	AttendanceRetention time.Duration
	// MaxAttendanceRecords bounds each room's records and acceptances;
	// membership.DefaultMaxAttendanceRecords if zero.
	MaxAttendanceRecords int
}

// Store is a membership.Store backed by Redis.
type Store struct {
	rdb       *redis.Client
	prefix    string
	ttl       time.Duration
	log       *slog.Logger
	retention time.Duration
	maxRecs   int
}

var _ membership.Store = (*Store)(nil)

// New parses opts.URL and returns a Store. It does not connect: an
// unreachable Redis shows up as room.ErrUnavailable on use (and from Ping),
// so a node can start while Redis is down.
func New(opts Options) (*Store, error) {
	ro, err := redis.ParseURL(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("%w: redis URL: %v", room.ErrInvalid, err)
	}
	// Fail fast when Redis is down: callers turn that into "unavailable"
	// rather than holding a join for seconds. URL query options win.
	if ro.DialTimeout == 0 {
		ro.DialTimeout = 2 * time.Second
	}
	if ro.ReadTimeout == 0 {
		ro.ReadTimeout = 2 * time.Second
	}
	if ro.WriteTimeout == 0 {
		ro.WriteTimeout = 2 * time.Second
	}
	if ro.DialerRetries == 0 {
		ro.DialerRetries = 2
		ro.DialerRetryTimeout = 50 * time.Millisecond
	}
	if ro.MaxRetries == 0 {
		ro.MaxRetries = 1 // one retry covers a connection Redis closed while pooled
	}
	ro.DisableIdentity = true // CLIENT SETINFO is Redis >= 7.2 only
	ro.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.TTL <= 0 {
		opts.TTL = membership.DefaultPresenceTTL
	}
	if opts.TTL < time.Millisecond {
		return nil, fmt.Errorf("%w: presence TTL must be at least 1ms", room.ErrInvalid)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.AttendanceRetention <= 0 {
		opts.AttendanceRetention = membership.DefaultAttendanceRetention
	}
	if opts.AttendanceRetention < time.Millisecond {
		return nil, fmt.Errorf("%w: attendance retention must be at least 1ms", room.ErrInvalid)
	}
	if opts.MaxAttendanceRecords <= 0 {
		opts.MaxAttendanceRecords = membership.DefaultMaxAttendanceRecords
	}
	return &Store{rdb: redis.NewClient(ro), prefix: opts.Prefix, ttl: opts.TTL, log: opts.Logger,
		retention: opts.AttendanceRetention, maxRecs: opts.MaxAttendanceRecords}, nil
}

func (s *Store) ttlMS() int64 { return s.ttl.Milliseconds() }

func (s *Store) indexKey() string { return s.prefix + "rooms" }

func (s *Store) configKey(name string) string { return s.prefix + "room:{" + name + "}:config" }

func (s *Store) sessionKeys(name string) []string {
	base := s.prefix + "room:{" + name + "}:"
	return []string{base + "presence", base + "expiry", base + "seated", base + "waiting", base + "locked", base + "blocked",
		base + "mirror"}
}

// unavailable wraps a Redis or network failure so callers can tell "store
// down" from a refusal; the original error stays reachable with errors.Is.
func unavailable(op string, err error) error {
	return fmt.Errorf("redis %s: %w: %w", op, room.ErrUnavailable, err)
}

func (s *Store) CreateRoom(ctx context.Context, cfg room.RoomConfig) (room.RoomConfig, error) {
	cfg = cfg.Clone()
	cfg.Normalize()
	if err := cfg.Validate(); err != nil {
		return room.RoomConfig{}, err
	}
	now := time.Now().UTC()
	cfg.CreatedAt, cfg.UpdatedAt = now, now
	raw, err := json.Marshal(cfg)
	if err != nil {
		return room.RoomConfig{}, fmt.Errorf("encode room: %w", err)
	}
	n, err := createScript.Run(ctx, s.rdb, []string{s.configKey(cfg.Name), s.indexKey()}, raw, cfg.Name).Int()
	if err != nil {
		return room.RoomConfig{}, unavailable("create room", err)
	}
	if n == 0 {
		return room.RoomConfig{}, fmt.Errorf("room %q: %w", cfg.Name, room.ErrExists)
	}
	return cfg, nil
}

func decodeConfig(raw []byte) (room.RoomConfig, error) {
	var cfg room.RoomConfig
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return room.RoomConfig{}, fmt.Errorf("decode room config: %w", err)
	}
	cfg.Normalize()
	return cfg, nil
}

func (s *Store) GetRoom(ctx context.Context, name string) (room.RoomConfig, error) {
	if err := room.CheckRoomName(name); err != nil {
		return room.RoomConfig{}, err
	}
	raw, err := s.rdb.Get(ctx, s.configKey(name)).Bytes()
	if errors.Is(err, redis.Nil) {
		return room.RoomConfig{}, fmt.Errorf("room %q: %w", name, room.ErrNotFound)
	}
	if err != nil {
		return room.RoomConfig{}, unavailable("get room", err)
	}
	return decodeConfig(raw)
}

func (s *Store) UpdateRoom(ctx context.Context, name string, fn func(*room.RoomConfig) error) (room.RoomConfig, error) {
	if err := room.CheckRoomName(name); err != nil {
		return room.RoomConfig{}, err
	}
	key := s.configKey(name)
	var out room.RoomConfig
	var fnErr error // an error from fn or validation, returned as is
	txf := func(tx *redis.Tx) error {
		raw, err := tx.Get(ctx, key).Bytes()
		if errors.Is(err, redis.Nil) {
			fnErr = fmt.Errorf("room %q: %w", name, room.ErrNotFound)
			return fnErr
		}
		if err != nil {
			return err
		}
		old, err := decodeConfig(raw)
		if err != nil {
			fnErr = err
			return err
		}
		cfg := old.Clone()
		if err := fn(&cfg); err != nil {
			fnErr = err
			return err
		}
		if cfg.Name != name {
			fnErr = fmt.Errorf("%w: a room cannot be renamed", room.ErrInvalid)
			return fnErr
		}
		cfg.Normalize()
		if err := cfg.Validate(); err != nil {
			fnErr = err
			return err
		}
		cfg.CreatedAt, cfg.UpdatedAt = old.CreatedAt, time.Now().UTC()
		enc, err := json.Marshal(cfg)
		if err != nil {
			fnErr = fmt.Errorf("encode room: %w", err)
			return fnErr
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, key, enc, 0)
			return nil
		})
		if err == nil {
			out = cfg
		}
		return err
	}
	for i := 0; i < updateRetries; i++ {
		fnErr = nil
		err := s.rdb.Watch(ctx, txf, key)
		switch {
		case err == nil:
			return out, nil
		case fnErr != nil:
			return room.RoomConfig{}, fnErr
		case errors.Is(err, redis.TxFailedErr):
			continue // someone else updated it first: reread and retry
		default:
			return room.RoomConfig{}, unavailable("update room", err)
		}
	}
	return room.RoomConfig{}, unavailable("update room", fmt.Errorf("too much contention on %q", name))
}

func (s *Store) DeleteRoom(ctx context.Context, name string) error {
	if err := room.CheckRoomName(name); err != nil {
		return err
	}
	keys := append([]string{s.configKey(name), s.indexKey()}, s.attendanceKeys(name)...)
	n, err := deleteScript.Run(ctx, s.rdb, keys, name).Int()
	if err != nil {
		return unavailable("delete room", err)
	}
	if n == 0 {
		return fmt.Errorf("room %q: %w", name, room.ErrNotFound)
	}
	return nil
}

func (s *Store) ListRooms(ctx context.Context) ([]room.RoomConfig, error) {
	names, err := s.rdb.SMembers(ctx, s.indexKey()).Result()
	if err != nil {
		return nil, unavailable("list rooms", err)
	}
	sort.Strings(names)
	out := []room.RoomConfig{}
	if len(names) == 0 {
		return out, nil
	}
	keys := make([]string, len(names))
	for i, n := range names {
		keys[i] = s.configKey(n)
	}
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, unavailable("list rooms", err)
	}
	for i, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue // deleted between SMEMBERS and MGET
		}
		cfg, err := decodeConfig([]byte(str))
		if err != nil {
			return nil, fmt.Errorf("room %q: %w", names[i], err)
		}
		out = append(out, cfg)
	}
	return out, nil
}

func (s *Store) Session(ctx context.Context, name string) (room.Session, error) {
	if err := room.CheckRoomName(name); err != nil {
		return room.Session{}, err
	}
	res, err := sessionScript.Run(ctx, s.rdb, s.sessionKeys(name)).Slice()
	if err != nil {
		return room.Session{}, unavailable("session", err)
	}
	out := room.Session{Room: name, Blocked: []string{}, Participants: []room.Participant{}}
	if len(res) != 3 {
		return room.Session{}, fmt.Errorf("redis session: unexpected reply %v", res)
	}
	vals, _ := res[0].([]any)
	for _, v := range vals {
		p, err := decodeParticipant(v)
		if err != nil {
			return room.Session{}, err
		}
		out.Participants = append(out.Participants, p)
	}
	room.SortParticipants(out.Participants)
	locked, _ := res[1].(int64)
	out.Locked = locked == 1
	blocked, _ := res[2].([]any)
	for _, b := range blocked {
		if id, ok := b.(string); ok {
			out.Blocked = append(out.Blocked, id)
		}
	}
	sort.Strings(out.Blocked)
	return out, nil
}

func decodeParticipant(v any) (room.Participant, error) {
	str, ok := v.(string)
	if !ok {
		return room.Participant{}, fmt.Errorf("redis: participant is %T, not a string", v)
	}
	var p room.Participant
	if err := json.Unmarshal([]byte(str), &p); err != nil {
		return room.Participant{}, fmt.Errorf("decode participant: %w", err)
	}
	return p, nil
}

func class(st room.State) string {
	if st.Seated() {
		return "s"
	}
	return "w"
}

func (s *Store) AddPresence(ctx context.Context, p room.Participant, limit int) (room.Participant, error) {
	if err := membership.ValidatePresence(p); err != nil {
		return room.Participant{}, err
	}
	if p.JoinedAt.IsZero() {
		p.JoinedAt = time.Now().UTC()
	}
	if p.State != room.StateWaiting {
		p.Reason = ""
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return room.Participant{}, fmt.Errorf("encode participant: %w", err)
	}
	res, err := addScript.Run(ctx, s.rdb, s.sessionKeys(p.Room), p.ID, raw, class(p.State), limit, s.ttlMS(), p.Identity).Text()
	if err != nil {
		return room.Participant{}, unavailable("add presence", err)
	}
	switch res {
	case "ok":
		return p, nil
	case "blocked":
		return room.Participant{}, fmt.Errorf("identity %q in room %q: %w", p.Identity, p.Room, room.ErrBlocked)
	case "exists":
		return room.Participant{}, fmt.Errorf("participant %q: %w", p.ID, room.ErrExists)
	case "identity":
		return room.Participant{}, fmt.Errorf("identity %q in room %q: %w", p.Identity, p.Room, room.ErrIdentityPresent)
	case "full":
		return room.Participant{}, fmt.Errorf("room %q: %w", p.Room, room.ErrRoomFull)
	}
	return room.Participant{}, fmt.Errorf("redis add presence: unexpected reply %q", res)
}

// statusReply runs a script answering {status} or {"ok", participant JSON}.
func (s *Store) statusReply(ctx context.Context, op string, sc *redis.Script, name string, args ...any) (string, room.Participant, error) {
	res, err := sc.Run(ctx, s.rdb, s.sessionKeys(name), args...).Slice()
	if err != nil {
		return "", room.Participant{}, unavailable(op, err)
	}
	if len(res) == 0 {
		return "", room.Participant{}, fmt.Errorf("redis %s: empty reply", op)
	}
	status, _ := res[0].(string)
	if status != "ok" || len(res) < 2 {
		return status, room.Participant{}, nil
	}
	p, err := decodeParticipant(res[1])
	return status, p, err
}

func (s *Store) SetState(ctx context.Context, name, id string, state room.State, reason room.WaitReason, limit int) (room.Participant, error) {
	if err := room.CheckRoomName(name); err != nil {
		return room.Participant{}, err
	}
	if !state.Valid() {
		return room.Participant{}, fmt.Errorf("%w: state %q is invalid", room.ErrInvalid, state)
	}
	if state != room.StateWaiting {
		reason = ""
	}
	status, p, err := s.statusReply(ctx, "set state", setStateScript, name, id, string(state), string(reason), class(state), limit, s.ttlMS())
	switch {
	case err != nil:
		return room.Participant{}, err
	case status == "notfound":
		return room.Participant{}, fmt.Errorf("participant %q in room %q: %w", id, name, room.ErrNotFound)
	case status == "full":
		return room.Participant{}, fmt.Errorf("room %q: %w", name, room.ErrRoomFull)
	}
	return p, nil
}

func (s *Store) RemovePresence(ctx context.Context, name, id string) (room.Participant, error) {
	if err := room.CheckRoomName(name); err != nil {
		return room.Participant{}, err
	}
	status, p, err := s.statusReply(ctx, "remove presence", removeScript, name, id)
	switch {
	case err != nil:
		return room.Participant{}, err
	case status == "notfound":
		return room.Participant{}, fmt.Errorf("participant %q in room %q: %w", id, name, room.ErrNotFound)
	}
	return p, nil
}

func (s *Store) Heartbeat(ctx context.Context, name string, ids []string) ([]string, error) {
	if err := room.CheckRoomName(name); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(ids)+1)
	args = append(args, s.ttlMS())
	for _, id := range ids {
		args = append(args, id)
	}
	gone, err := heartbeatScript.Run(ctx, s.rdb, s.sessionKeys(name), args...).StringSlice()
	if err != nil {
		return nil, unavailable("heartbeat", err)
	}
	if len(gone) == 0 {
		return nil, nil
	}
	return gone, nil
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func (s *Store) SetLocked(ctx context.Context, name string, locked bool) error {
	if err := room.CheckRoomName(name); err != nil {
		return err
	}
	res, err := setLockedScript.Run(ctx, s.rdb, s.sessionKeys(name), flag(locked), s.ttlMS()).Text()
	if err != nil {
		return unavailable("set locked", err)
	}
	if res == "nosession" {
		return fmt.Errorf("session of room %q: %w", name, room.ErrNotFound)
	}
	return nil
}

func (s *Store) SetBlocked(ctx context.Context, name, identity string, blocked bool) error {
	if err := room.CheckRoomName(name); err != nil {
		return err
	}
	if identity == "" {
		return fmt.Errorf("%w: identity is required", room.ErrInvalid)
	}
	res, err := setBlockedScript.Run(ctx, s.rdb, s.sessionKeys(name), identity, flag(blocked), s.ttlMS()).Text()
	if err != nil {
		return unavailable("set blocked", err)
	}
	if res == "nosession" {
		return fmt.Errorf("session of room %q: %w", name, room.ErrNotFound)
	}
	return nil
}

func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return unavailable("ping", err)
	}
	return nil
}

// Close closes the connection pool; later calls fail with ErrUnavailable.
func (s *Store) Close() error {
	if err := s.rdb.Close(); err != nil && !errors.Is(err, redis.ErrClosed) {
		return fmt.Errorf("redis close: %w", err)
	}
	return nil
}
