package live

import (
	"testing"
	"time"
)

// TestRestoredGrace: a restored seat is held for what is left of the
// grace since its node was last seen alive, never less than
// minRestoredGrace, nor more than the grace itself.
func TestRestoredGrace(t *testing.T) {
	now := time.Date(2026, 12, 3, 19, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		grace time.Duration
		ago   time.Duration // since the node was last seen; -1: unknown
		want  time.Duration
	}{
		{20 * time.Second, -1, 20 * time.Second},
		{20 * time.Second, 0, 20 * time.Second},
		{20 * time.Second, 3 * time.Second, 17 * time.Second},
		{20 * time.Second, 14 * time.Second, 6 * time.Second},
		{20 * time.Second, 19 * time.Second, minRestoredGrace},
		{20 * time.Second, time.Hour, minRestoredGrace},
		{2 * time.Second, 10 * time.Second, 2 * time.Second}, // a grace shorter than the least
		{20 * time.Second, -time.Minute, 20 * time.Second},   // a clock ahead of ours
	} {
		var seen time.Time
		if tc.ago != -1 {
			seen = now.Add(-tc.ago)
		}
		if got := restoredGrace(tc.grace, seen, now); got != tc.want {
			t.Errorf("grace %v, last seen %v ago: %v, want %v", tc.grace, tc.ago, got, tc.want)
		}
	}
}
