package membership_test

import (
	"testing"

	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/membership/storetest"
)

func BenchmarkMemStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) membership.Store {
		s := membership.NewMemStore(membership.MemStoreOptions{})
		b.Cleanup(func() { _ = s.Close() })
		return s
	})
}
