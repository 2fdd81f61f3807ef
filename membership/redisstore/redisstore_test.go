package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/testutil/redistest"
	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/membership/redisstore"
	"github.com/hearth-rtc/hearth/membership/storetest"
	"github.com/hearth-rtc/hearth/room"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func open(t *testing.T, url, prefix string, ttl time.Duration) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(redisstore.Options{URL: url, Prefix: prefix, TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestContract runs the store contract against one real redis-server; each
// subtest gets its own key prefix, so they can run in parallel.
func TestContract(t *testing.T) {
	srv := redistest.Start(t)
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T, ttl time.Duration) membership.Store {
		return open(t, srv.URL(), fmt.Sprintf("test%d:", n.Add(1)), ttl)
	})
}

func TestBadURL(t *testing.T) {
	for _, u := range []string{"", "http://127.0.0.1:6379", "redis://127.0.0.1:6379/notanumber"} {
		if _, err := redisstore.New(redisstore.Options{URL: u}); !errors.Is(err, room.ErrInvalid) {
			t.Errorf("New(%q) = %v, want ErrInvalid", u, err)
		}
	}
}

// TestUnavailable stops Redis under a live store: every call fails with
// ErrUnavailable (wrapping the network error), and the store recovers once
// Redis is back (empty, since it persists nothing).
func TestUnavailable(t *testing.T) {
	srv := redistest.Start(t)
	s := open(t, srv.URL(), "", time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.CreateRoom(ctx, room.RoomConfig{Name: "r", Kind: room.KindOpen}); err != nil {
		t.Fatal(err)
	}
	p := room.Participant{ID: "p_1", Room: "r", Identity: "ann", Name: "Ann", Role: room.RoleMember, State: room.StateActive}
	if _, err := s.AddPresence(ctx, p, 10); err != nil {
		t.Fatal(err)
	}

	srv.Stop(t)
	calls := map[string]func() error{
		"Ping":      func() error { return s.Ping(ctx) },
		"GetRoom":   func() error { _, err := s.GetRoom(ctx, "r"); return err },
		"ListRooms": func() error { _, err := s.ListRooms(ctx); return err },
		"CreateRoom": func() error {
			_, err := s.CreateRoom(ctx, room.RoomConfig{Name: "q", Kind: room.KindOpen})
			return err
		},
		"UpdateRoom": func() error {
			_, err := s.UpdateRoom(ctx, "r", func(*room.RoomConfig) error { return nil })
			return err
		},
		"DeleteRoom":  func() error { return s.DeleteRoom(ctx, "r") },
		"Session":     func() error { _, err := s.Session(ctx, "r"); return err },
		"AddPresence": func() error { _, err := s.AddPresence(ctx, p, 10); return err },
		"SetState": func() error {
			_, err := s.SetState(ctx, "r", "p_1", room.StateReconnecting, "", 0)
			return err
		},
		"RemovePresence": func() error { _, err := s.RemovePresence(ctx, "r", "p_1"); return err },
		"Heartbeat":      func() error { _, err := s.Heartbeat(ctx, "r", []string{"p_1"}); return err },
		"SetLocked":      func() error { return s.SetLocked(ctx, "r", true) },
		"SetBlocked":     func() error { return s.SetBlocked(ctx, "r", "x", true) },
		"RecordJoin": func() error {
			return s.RecordJoin(ctx, "r", room.PresenceRecord{ID: "p_1", Identity: "ann", Role: room.RoleMember, JoinedAt: time.Now()})
		},
		"RecordLeave": func() error { return s.RecordLeave(ctx, "r", "p_1", time.Now()) },
		"Attendance":  func() error { _, err := s.Attendance(ctx, "r", time.Time{}, time.Now()); return err },
		"RecordAcceptance": func() error {
			return s.RecordAcceptance(ctx, "r", room.Acceptance{Identity: "ann", Version: "v", At: time.Now()})
		},
		"Acceptances": func() error { _, err := s.Acceptances(ctx, "r", time.Time{}, time.Now()); return err },
	}
	for name, call := range calls {
		start := time.Now()
		err := call()
		if !errors.Is(err, room.ErrUnavailable) {
			t.Errorf("%s with Redis down: %v, want ErrUnavailable", name, err)
		}
		if ne := (*net.OpError)(nil); !errors.As(err, &ne) {
			t.Errorf("%s: error %v does not wrap the network error", name, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s took %v to fail", name, d)
		}
		if got := room.ErrorCode(err); got != room.CodeUnavailable {
			t.Errorf("%s: ErrorCode = %q, want unavailable", name, got)
		}
	}

	srv.Restart(t)
	deadline := time.Now().Add(10 * time.Second)
	for s.Ping(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatal("store did not recover after Redis restarted")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := s.GetRoom(ctx, "r"); !errors.Is(err, room.ErrNotFound) {
		t.Fatalf("after restart of a non-persistent Redis: %v, want ErrNotFound", err)
	}
	if _, err := s.AddPresence(ctx, p, 10); err != nil {
		t.Fatalf("add after restart: %v", err)
	}
}

// TestKeys checks the namespace and that session keys carry a lifetime, so
// a room whose nodes all crashed leaves nothing behind in Redis.
func TestKeys(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	s := open(t, srv.URL(), "ns1:", 2*time.Second)
	other := open(t, srv.URL(), "ns2:", 2*time.Second)
	if _, err := s.CreateRoom(ctx, room.RoomConfig{Name: "r", Kind: room.KindOpen}); err != nil {
		t.Fatal(err)
	}
	p := room.Participant{ID: "p_1", Room: "r", Identity: "ann", Name: "Ann", Role: room.RoleMember, State: room.StateActive}
	if _, err := s.AddPresence(ctx, p, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.SetLocked(ctx, "r", true); err != nil {
		t.Fatal(err)
	}
	// Another prefix is another world.
	if _, err := other.GetRoom(ctx, "r"); !errors.Is(err, room.ErrNotFound) {
		t.Fatalf("room visible across prefixes: %v", err)
	}
	if _, err := other.AddPresence(ctx, p, 1); err != nil {
		t.Fatalf("seat taken across prefixes: %v", err)
	}

	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), DisableIdentity: true})
	defer rdb.Close()
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k[:4] != "ns1:" && k[:4] != "ns2:" {
			t.Errorf("key %q outside the prefixes", k)
		}
		ttl, err := rdb.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		isConfig := k == "ns1:rooms" || k == "ns1:room:{r}:config"
		if isConfig && ttl != -1 {
			t.Errorf("config key %q has a lifetime %v", k, ttl)
		}
		if !isConfig && (ttl <= 0 || ttl > 4*time.Second) {
			t.Errorf("session key %q lifetime %v, want (0, 2*TTL]", k, ttl)
		}
	}
}

// TestAttendanceKeys: attendance keys carry the retention as their
// lifetime, so a room nobody records in any more loses its attendance;
// records past the retention are gone; a room keeps at most
// MaxAttendanceRecords of each kind; deleting the room deletes them.
func TestAttendanceKeys(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	const retention = 8 * time.Second // long enough for the writes on a busy machine
	s, err := redisstore.New(redisstore.Options{URL: srv.URL(), Prefix: "att:", AttendanceRetention: retention, MaxAttendanceRecords: 5})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), DisableIdentity: true})
	defer rdb.Close()
	keys := []string{"att:room:{r}:attendance", "att:room:{r}:attendance:order", "att:room:{r}:agreement"}

	now := time.Now()
	for i := range 8 {
		at := now.Add(time.Duration(i-8) * time.Millisecond)
		if err := s.RecordJoin(ctx, "r", room.PresenceRecord{ID: fmt.Sprintf("p_%d", i), Identity: "ann", Role: room.RoleMember, JoinedAt: at}); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordAcceptance(ctx, "r", room.Acceptance{Identity: fmt.Sprintf("id%d", i), Version: "v", At: at}); err != nil {
			t.Fatal(err)
		}
	}
	for i, k := range keys {
		n := rdb.HLen(ctx, k).Val()
		if i > 0 {
			n = rdb.ZCard(ctx, k).Val()
		}
		if n != 5 {
			t.Errorf("%s holds %d entries, want 5", k, n)
		}
		if ttl := rdb.PTTL(ctx, k).Val(); ttl <= 0 || ttl > retention {
			t.Errorf("%s lifetime %v, want (0, %v]", k, ttl, retention)
		}
	}
	recs, err := s.Attendance(ctx, "r", time.Time{}, time.Now().Add(time.Hour))
	if err != nil || len(recs) != 5 || recs[0].ID != "p_3" {
		t.Fatalf("attendance = %+v, %v; want the newest 5", recs, err)
	}
	// Past the retention, nothing is returned, and the keys expire.
	deadline := time.Now().Add(retention + 20*time.Second)
	for {
		recs, err := s.Attendance(ctx, "r", time.Time{}, time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		accs, err := s.Acceptances(ctx, "r", time.Time{}, time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 && len(accs) == 0 && rdb.Exists(ctx, keys...).Val() == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("past the retention: %d records, %d acceptances, %d keys", len(recs), len(accs), rdb.Exists(ctx, keys...).Val())
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Deleting the room deletes its attendance.
	if _, err := s.CreateRoom(ctx, room.RoomConfig{Name: "r", Kind: room.KindOpen}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordJoin(ctx, "r", room.PresenceRecord{ID: "p_9", Identity: "ann", Role: room.RoleMember, JoinedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordAcceptance(ctx, "r", room.Acceptance{Identity: "ann", Version: "v", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRoom(ctx, "r"); err != nil {
		t.Fatal(err)
	}
	if n := rdb.Exists(ctx, keys...).Val(); n != 0 {
		t.Fatalf("%d attendance keys left after DeleteRoom", n)
	}
}
