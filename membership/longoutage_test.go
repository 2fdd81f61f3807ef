package membership_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/room"
)

// downStore is a memory store that can be made unreachable.
type downStore struct {
	*membership.MemStore
	down atomic.Bool
}

func (d *downStore) err() error {
	if d.down.Load() {
		return errDown
	}
	return nil
}

func (d *downStore) Session(ctx context.Context, name string) (room.Session, error) {
	if err := d.err(); err != nil {
		return room.Session{}, err
	}
	return d.MemStore.Session(ctx, name)
}

func (d *downStore) Heartbeat(ctx context.Context, name string, ids []string) ([]string, error) {
	if err := d.err(); err != nil {
		return nil, err
	}
	return d.MemStore.Heartbeat(ctx, name, ids)
}

func (d *downStore) AddPresence(ctx context.Context, p room.Participant, limit int) (room.Participant, error) {
	if err := d.err(); err != nil {
		return room.Participant{}, err
	}
	return d.MemStore.AddPresence(ctx, p, limit)
}

// TestOutageLongerThanTTL: a store that keeps its data but cannot be
// reached for longer than the presence TTL lets everyone's presence
// expire. When it answers again, the node writes them back and
// disconnects nobody; a removal made through the store afterwards still
// disconnects its target.
func TestOutageLongerThanTTL(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	store := &downStore{MemStore: membership.NewMemStore(membership.MemStoreOptions{TTL: 10 * time.Second, Now: clock})}
	var gone []string
	var goneMu sync.Mutex
	svc, err := membership.NewService(membership.ServiceConfig{Store: store, Secret: testSecret, NodeID: "node-a", Now: clock,
		PresenceTTL: 10 * time.Second, HeartbeatInterval: 3 * time.Second,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnGone: func(rm, id string) { goneMu.Lock(); defer goneMu.Unlock(); gone = append(gone, id) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	var ids []string
	for _, who := range []string{"fac", "m1"} {
		res, err := svc.Join(ctx, membership.JoinRequest{Room: "circle", Token: token(t, "circle", who, room.RoleMember)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.Participant.ID)
	}
	if err := svc.Heartbeat(ctx); err != nil {
		t.Fatal(err)
	}

	store.down.Store(true)
	for range 10 { // 30 s without a refresh
		advance(3 * time.Second)
		if err := svc.Heartbeat(ctx); err == nil {
			t.Fatal("heartbeat succeeded while the store was down")
		}
	}
	store.down.Store(false)
	if err := svc.Heartbeat(ctx); err != nil {
		t.Fatal(err)
	}
	goneMu.Lock()
	if len(gone) != 0 {
		t.Fatalf("disconnected after a long outage: %v", gone)
	}
	goneMu.Unlock()
	sess, err := store.Session(ctx, "circle")
	if err != nil {
		t.Fatal(err)
	}
	if len(sess.Participants) != 2 {
		t.Fatalf("present after the outage: %+v, want both written back", sess.Participants)
	}

	// Back to normal: a removal through the store disconnects its target.
	advance(3 * time.Second)
	if _, err := store.RemovePresence(ctx, "circle", ids[1]); err != nil {
		t.Fatal(err)
	}
	if err := svc.Heartbeat(ctx); err != nil {
		t.Fatal(err)
	}
	goneMu.Lock()
	defer goneMu.Unlock()
	if len(gone) != 1 || gone[0] != ids[1] {
		t.Fatalf("gone = %v, want %s", gone, ids[1])
	}
}
