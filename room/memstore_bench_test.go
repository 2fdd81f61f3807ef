package room_test

import (
	"testing"

	"github.com/hearth-rtc/hearth/room"
	"github.com/hearth-rtc/hearth/room/storetest"
)

func BenchmarkMemStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) room.Store {
		s := room.NewMemStore(room.MemStoreOptions{})
		b.Cleanup(func() { _ = s.Close() })
		return s
	})
}
