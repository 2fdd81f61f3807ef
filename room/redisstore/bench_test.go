package redisstore_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/hearth-rtc/hearth/internal/testutil/redistest"
	"github.com/hearth-rtc/hearth/room"
	"github.com/hearth-rtc/hearth/room/redisstore"
	"github.com/hearth-rtc/hearth/room/storetest"
)

// BenchmarkRedisStore runs the store benchmarks against a real redis-server
// on loopback: each operation is one or a few round trips and Lua scripts.
func BenchmarkRedisStore(b *testing.B) {
	srv := redistest.Start(b)
	var n atomic.Int64
	storetest.Bench(b, func(b *testing.B) room.Store {
		s, err := redisstore.New(redisstore.Options{URL: srv.URL(), Prefix: fmt.Sprintf("bench%d:", n.Add(1))})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = s.Close() })
		return s
	})
}
