package redisstore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/hearth-rtc/hearth/room"
	"github.com/redis/go-redis/v9"
)

// Attendance (membership.AttendanceStore) lives in three keys per room:
//
//	P room:{R}:attendance        hash  participant id -> presence record JSON
//	P room:{R}:attendance:order  zset  participant id scored by JoinedAt (ms)
//	P room:{R}:agreement         zset  acceptance JSON scored by At (ms)
//
// Every write first deletes what is past retention (by the Redis server's
// clock) and the oldest beyond the room's limit, then gives the keys a
// lifetime of the retention, so a room nobody records in any more loses
// its attendance when the last record would have gone.

func (s *Store) attendanceKeys(name string) []string {
	base := s.prefix + "room:{" + name + "}:"
	return []string{base + "attendance", base + "attendance:order", base + "agreement"}
}

const attendancePrelude = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`

// KEYS: attendance, order. ARGV: id, record JSON, joined ms, retention ms,
// max records.
var recordJoinScript = redis.NewScript(attendancePrelude + `
local retention = tonumber(ARGV[4])
local cutoff = now_ms() - retention
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. cutoff)) do
  redis.call('HDEL', KEYS[1], id)
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. cutoff)
if tonumber(ARGV[3]) < cutoff then return 'old' end
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 'dup' end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
local extra = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[5])
if extra > 0 then
  for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, extra - 1)) do
    redis.call('HDEL', KEYS[1], id)
  end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, extra - 1)
end
redis.call('PEXPIRE', KEYS[1], retention)
redis.call('PEXPIRE', KEYS[2], retention)
return 'ok'
`)

// KEYS: attendance. ARGV: id, leftAt (RFC 3339).
var recordLeaveScript = redis.NewScript(`
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 'notfound' end
local r = cjson.decode(raw)
if r['leftAt'] then return 'ok' end
r['leftAt'] = ARGV[2]
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(r))
return 'ok'
`)

// KEYS: attendance, order. ARGV: from ms, to ms (excluded), retention ms.
// Returns the record JSONs.
var attendanceScript = redis.NewScript(attendancePrelude + `
local from = math.max(tonumber(ARGV[1]), now_ms() - tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], from, '(' .. ARGV[2])) do
  local raw = redis.call('HGET', KEYS[1], id)
  if raw then out[#out + 1] = raw end
end
return out
`)

// KEYS: agreement. ARGV: acceptance JSON, at ms, retention ms, max.
var recordAcceptanceScript = redis.NewScript(attendancePrelude + `
local retention = tonumber(ARGV[3])
local cutoff = now_ms() - retention
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. cutoff)
if tonumber(ARGV[2]) < cutoff then return 'old' end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local extra = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4])
if extra > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, extra - 1) end
redis.call('PEXPIRE', KEYS[1], retention)
return 'ok'
`)

// KEYS: agreement. ARGV: from ms, to ms (excluded), retention ms.
var acceptancesScript = redis.NewScript(attendancePrelude + `
local from = math.max(tonumber(ARGV[1]), now_ms() - tonumber(ARGV[3]))
return redis.call('ZRANGEBYSCORE', KEYS[1], from, '(' .. ARGV[2])
`)

// ms is t in Unix milliseconds, within what a Lua number holds exactly.
func ms(t time.Time) int64 {
	const limit = 1 << 52
	return min(max(t.UnixMilli(), -limit), limit)
}

func (s *Store) AttendanceRetention() time.Duration { return s.retention }

func (s *Store) RecordJoin(ctx context.Context, name string, rec room.PresenceRecord) error {
	if err := room.CheckRoomName(name); err != nil {
		return err
	}
	if err := room.ValidatePresenceRecord(rec); err != nil {
		return err
	}
	rec.LeftAt = time.Time{}
	raw, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode presence record: %w", err)
	}
	k := s.attendanceKeys(name)
	err = recordJoinScript.Run(ctx, s.rdb, k[:2], rec.ID, raw, ms(rec.JoinedAt), s.retention.Milliseconds(), s.maxRecs).Err()
	if err != nil {
		return unavailable("record join", err)
	}
	return nil
}

func (s *Store) RecordLeave(ctx context.Context, name, id string, at time.Time) error {
	if err := room.CheckRoomName(name); err != nil {
		return err
	}
	if id == "" || at.IsZero() {
		return fmt.Errorf("%w: a leave needs a participant id and a time", room.ErrInvalid)
	}
	res, err := recordLeaveScript.Run(ctx, s.rdb, s.attendanceKeys(name)[:1], id, at.UTC().Format(time.RFC3339Nano)).Text()
	if err != nil {
		return unavailable("record leave", err)
	}
	if res == "notfound" {
		return fmt.Errorf("presence record %q in room %q: %w", id, name, room.ErrNotFound)
	}
	return nil
}

func (s *Store) Attendance(ctx context.Context, name string, from, to time.Time) ([]room.PresenceRecord, error) {
	if err := room.CheckRoomName(name); err != nil {
		return nil, err
	}
	vals, err := attendanceScript.Run(ctx, s.rdb, s.attendanceKeys(name)[:2], ms(from), ms(to)+1, s.retention.Milliseconds()).StringSlice()
	if err != nil {
		return nil, unavailable("attendance", err)
	}
	out := make([]room.PresenceRecord, 0, len(vals))
	for _, v := range vals {
		var r room.PresenceRecord
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			return nil, fmt.Errorf("decode presence record: %w", err)
		}
		// Scores have milliseconds; the record has the exact time.
		if !r.JoinedAt.Before(from) && r.JoinedAt.Before(to) {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b room.PresenceRecord) int {
		if c := a.JoinedAt.Compare(b.JoinedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

func (s *Store) RecordAcceptance(ctx context.Context, name string, acc room.Acceptance) error {
	if err := room.CheckRoomName(name); err != nil {
		return err
	}
	if err := room.ValidateAcceptance(acc); err != nil {
		return err
	}
	acc.At = acc.At.UTC()
	raw, err := json.Marshal(acc)
	if err != nil {
		return fmt.Errorf("encode acceptance: %w", err)
	}
	err = recordAcceptanceScript.Run(ctx, s.rdb, s.attendanceKeys(name)[2:], raw, ms(acc.At), s.retention.Milliseconds(), s.maxRecs).Err()
	if err != nil {
		return unavailable("record acceptance", err)
	}
	return nil
}

func (s *Store) Acceptances(ctx context.Context, name string, from, to time.Time) ([]room.Acceptance, error) {
	if err := room.CheckRoomName(name); err != nil {
		return nil, err
	}
	vals, err := acceptancesScript.Run(ctx, s.rdb, s.attendanceKeys(name)[2:], ms(from), ms(to)+1, s.retention.Milliseconds()).StringSlice()
	if err != nil {
		return nil, unavailable("acceptances", err)
	}
	out := make([]room.Acceptance, 0, len(vals))
	for _, v := range vals {
		var a room.Acceptance
		if err := json.Unmarshal([]byte(v), &a); err != nil {
			return nil, fmt.Errorf("decode acceptance: %w", err)
		}
		if !a.At.Before(from) && a.At.Before(to) { // as for records
			out = append(out, a)
		}
	}
	slices.SortStableFunc(out, func(a, b room.Acceptance) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Identity, b.Identity); c != 0 {
			return c
		}
		return cmp.Compare(a.Version, b.Version)
	})
	return out, nil
}
