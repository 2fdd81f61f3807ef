package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/room"
	"github.com/redis/go-redis/v9"
)

// The controls mirror (membership.MirrorStore): a hash beside the
// session's other keys, deleted with them when the session ends.

func (s *Store) SetMirror(ctx context.Context, name string, m membership.Mirror) error {
	if err := membership.CheckMirror(name, m); err != nil {
		return err
	}
	status, err := setMirrorScript.Run(ctx, s.rdb, s.sessionKeys(name),
		strconv.FormatUint(m.Version, 10), m.Node, m.Data, s.ttlMS(), strconv.FormatUint(m.Term, 10)).Text()
	switch {
	case err != nil:
		return unavailable("set mirror", err)
	case status == "nosession":
		return fmt.Errorf("session of room %q: %w", name, room.ErrNotFound)
	}
	return nil
}

func (s *Store) Mirror(ctx context.Context, name string) (membership.Mirror, error) {
	if err := room.CheckRoomName(name); err != nil {
		return membership.Mirror{}, err
	}
	res, err := mirrorScript.Run(ctx, s.rdb, s.sessionKeys(name)).Slice()
	if err != nil {
		return membership.Mirror{}, unavailable("mirror", err)
	}
	if len(res) != 4 {
		return membership.Mirror{}, fmt.Errorf("redis mirror: unexpected reply of %d values", len(res))
	}
	ver, ok := res[0].(string)
	if !ok {
		return membership.Mirror{}, fmt.Errorf("mirror of room %q: %w", name, room.ErrNotFound)
	}
	v, err := strconv.ParseUint(ver, 10, 64)
	if err != nil {
		return membership.Mirror{}, fmt.Errorf("redis mirror: version %q: %w", ver, err)
	}
	node, _ := res[1].(string)
	data, _ := res[2].(string)
	term, _ := res[3].(string)
	t, _ := strconv.ParseUint(term, 10, 64) // none: 0
	return membership.Mirror{Term: t, Version: v, Node: node, Data: []byte(data)}, nil
}

func (s *Store) MirrorTerm(ctx context.Context, name string) (uint64, error) {
	if err := room.CheckRoomName(name); err != nil {
		return 0, err
	}
	t, err := mirrorTermScript.Run(ctx, s.rdb, s.sessionKeys(name), s.ttlMS()).Text()
	if err != nil {
		return 0, unavailable("mirror term", err)
	}
	v, err := strconv.ParseUint(t, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("redis mirror term %q: %w", t, err)
	}
	return v, nil
}

// Seats given up are fields of the mirror's hash, "y:" and the key, so
// that they end with the session as the mirror does.

func (s *Store) YieldSeats(ctx context.Context, name string, seats map[string]string) error {
	if err := membership.CheckYielded(name, seats); err != nil {
		return err
	}
	args := []any{s.ttlMS(), membership.MaxYieldedSeats}
	for key, id := range seats {
		args = append(args, "y:"+key, id)
	}
	status, err := yieldSeatsScript.Run(ctx, s.rdb, s.sessionKeys(name), args...).Text()
	switch {
	case err != nil:
		return unavailable("yield seats", err)
	case status == "nosession":
		return fmt.Errorf("session of room %q: %w", name, room.ErrNotFound)
	case status == "full":
		return fmt.Errorf("%w: seats given up in room %q: more than %d", room.ErrInvalid, name, membership.MaxYieldedSeats)
	}
	return nil
}

func (s *Store) TakeYielded(ctx context.Context, name, key string) (string, error) {
	if err := room.CheckRoomName(name); err != nil {
		return "", err
	}
	id, err := takeYieldedScript.Run(ctx, s.rdb, s.sessionKeys(name), "y:"+key).Text()
	switch {
	case errors.Is(err, redis.Nil):
		return "", fmt.Errorf("seat given up in room %q: %w", name, room.ErrNotFound)
	case err != nil:
		return "", unavailable("take a seat given up", err)
	}
	return id, nil
}

func (s *Store) AdoptPresence(ctx context.Context, name, id, node string) (room.Participant, time.Time, error) {
	if err := room.CheckRoomName(name); err != nil {
		return room.Participant{}, time.Time{}, err
	}
	if node == "" {
		return room.Participant{}, time.Time{}, fmt.Errorf("%w: node is required", room.ErrInvalid)
	}
	res, err := adoptScript.Run(ctx, s.rdb, s.sessionKeys(name), id, node, s.ttlMS()).Slice()
	if err != nil {
		return room.Participant{}, time.Time{}, unavailable("adopt presence", err)
	}
	if status, _ := res[0].(string); status == "notfound" {
		return room.Participant{}, time.Time{}, fmt.Errorf("participant %q in room %q: %w", id, name, room.ErrNotFound)
	}
	if len(res) != 3 {
		return room.Participant{}, time.Time{}, fmt.Errorf("redis adopt presence: unexpected reply of %d values", len(res))
	}
	p, err := decodeParticipant(res[1])
	if err != nil {
		return room.Participant{}, time.Time{}, err
	}
	expires, _ := res[2].(string)
	ms, err := strconv.ParseFloat(expires, 64)
	if err != nil {
		return room.Participant{}, time.Time{}, fmt.Errorf("redis adopt presence: expiry %q: %w", expires, err)
	}
	// The presence lived a TTL from its last refresh.
	return p, time.UnixMilli(int64(ms)).Add(-s.ttl), nil
}
