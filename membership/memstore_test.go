package membership_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/membership/storetest"
	"github.com/hearth-rtc/hearth/room"
)

func TestMemStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T, ttl time.Duration) membership.Store {
		s := membership.NewMemStore(membership.MemStoreOptions{TTL: ttl})
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// fakeClock is a manually advanced clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestMemStoreTTLWithClock pins the exact expiry boundary with an injected
// clock (the contract suite checks it against real time).
func TestMemStoreTTLWithClock(t *testing.T) {
	clk := &fakeClock{now: time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)}
	s := membership.NewMemStore(membership.MemStoreOptions{TTL: 10 * time.Second, Now: clk.Now})
	ctx := context.Background()
	p := room.Participant{ID: "p_1", Room: "r", Identity: "ann", Name: "Ann", Role: room.RoleMember, State: room.StateActive}
	got, err := s.AddPresence(ctx, p, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !got.JoinedAt.Equal(clk.Now()) {
		t.Fatalf("JoinedAt = %v, want the injected clock's %v", got.JoinedAt, clk.Now())
	}
	present := func() bool {
		sess, err := s.Session(ctx, "r")
		if err != nil {
			t.Fatal(err)
		}
		_, ok := sess.Find("p_1")
		return ok
	}
	clk.Advance(9 * time.Second)
	if !present() {
		t.Fatal("gone before the TTL")
	}
	if gone, err := s.Heartbeat(ctx, "r", []string{"p_1"}); err != nil || len(gone) != 0 {
		t.Fatalf("heartbeat: %v %v", gone, err)
	}
	clk.Advance(9 * time.Second) // 18 s after joining, 9 s after the heartbeat
	if !present() {
		t.Fatal("heartbeat did not extend the TTL")
	}
	clk.Advance(time.Second) // exactly TTL after the heartbeat
	if present() {
		t.Fatal("still present at the TTL")
	}
}

func TestMemStoreDefaults(t *testing.T) {
	s := membership.NewMemStore(membership.MemStoreOptions{})
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}
