package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/room"
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
