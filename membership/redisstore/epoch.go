package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"github.com/hearth-rtc/hearth/membership"
	"github.com/redis/go-redis/v9"
)

var _ membership.Epocher = (*Store)(nil)

// KEYS: epoch. ARGV: a fresh epoch. Returns the current epoch, starting
// the fresh one if there is none.
var epochScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
`)

func (s *Store) epochKey() string { return s.prefix + "epoch" }

// Epoch implements membership.Epocher. The epoch is a random token kept in a key
// without expiry; a Redis that lost its data (restarted without
// persistence, flushed) has none, so the next call starts a new one. Keep
// Redis from evicting keys (no allkeys-* maxmemory policy), or an eviction
// reads as a loss.
func (s *Store) Epoch(ctx context.Context) (string, error) {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24
	v, err := epochScript.Run(ctx, s.rdb, []string{s.epochKey()}, hex.EncodeToString(b[:])).Text()
	if err != nil {
		return "", unavailable("epoch", err)
	}
	return v, nil
}
