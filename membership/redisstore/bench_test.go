package redisstore_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/hearth-rtc/hearth/internal/testutil/redistest"
	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/membership/redisstore"
	"github.com/hearth-rtc/hearth/membership/storetest"
)

// BenchmarkRedisStore runs the store benchmarks against a real redis-server
// on loopback: each operation is one or a few round trips and Lua scripts.
func BenchmarkRedisStore(b *testing.B) {
	srv := redistest.Start(b)
	var n atomic.Int64
	storetest.Bench(b, func(b *testing.B) membership.Store {
		s, err := redisstore.New(redisstore.Options{URL: srv.URL(), Prefix: fmt.Sprintf("bench%d:", n.Add(1))})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = s.Close() })
		return s
	})
}
