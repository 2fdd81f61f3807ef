package cluster_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/cluster"
	"github.com/hearth-rtc/hearth/internal/testutil/redistest"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newNode returns a node registered once (not running: tests refresh it
// by hand), with the given load.
func newNode(t *testing.T, rs *redistest.Server, id string, opts cluster.Options) *cluster.Node {
	t.Helper()
	opts.RedisURL, opts.ID = rs.URL(), id
	if opts.AdvertiseURL == "" {
		opts.AdvertiseURL = "http://" + id + ".internal:8080"
	}
	n, err := cluster.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	if err := n.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	return n
}

func rdb(t *testing.T, rs *redistest.Server) *redis.Client {
	t.Helper()
	o, err := redis.ParseURL(rs.URL())
	if err != nil {
		t.Fatal(err)
	}
	o.DisableIdentity = true
	c := redis.NewClient(o)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestRegistry: a node's record carries its URL, media and load, lives
// no longer than the TTL after its last refresh, and a node whose record
// is gone is no longer listed.
func TestRegistry(t *testing.T) {
	rs := redistest.Start(t)
	ctx := context.Background()
	a := newNode(t, rs, "a", cluster.Options{Media: []string{"127.0.0.1:7882"}, TTL: 800 * time.Millisecond,
		Load: func() cluster.Load { return cluster.Load{Rooms: 2, Participants: 9} }})
	newNode(t, rs, "b", cluster.Options{})
	recs, err := a.Nodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].ID != "a" || recs[1].ID != "b" {
		t.Fatalf("nodes %+v, want a and b", recs)
	}
	if r := recs[0]; r.URL != "http://a.internal:8080" || len(r.Media) != 1 || r.Rooms != 2 || r.Participants != 9 {
		t.Errorf("record of a: %+v", r)
	}
	ttl, err := rdb(t, rs).PTTL(ctx, cluster.DefaultPrefix+"node:a").Result()
	if err != nil || ttl <= 0 || ttl > 800*time.Millisecond {
		t.Fatalf("record lifetime %v (%v), want at most the TTL", ttl, err)
	}
	// a stops refreshing: it goes, and b forgets it.
	for {
		recs, err = a.Nodes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 1 && recs[0].ID == "b" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if ids, _ := rdb(t, rs).SMembers(ctx, cluster.DefaultPrefix+"nodes").Result(); len(ids) != 1 {
		t.Errorf("ids listed after a expired: %v", ids)
	}
}

// TestClaimIsAtomic: arrivals racing through three nodes for one room all
// find the same owner.
func TestClaimIsAtomic(t *testing.T) {
	rs := redistest.Start(t)
	nodes := []*cluster.Node{newNode(t, rs, "a", cluster.Options{}), newNode(t, rs, "b", cluster.Options{}),
		newNode(t, rs, "c", cluster.Options{})}
	var mu sync.Mutex
	owners := map[string]int{}
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec, err := nodes[i%3].Owner(context.Background(), "evening")
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			owners[rec.ID]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(owners) != 1 {
		t.Fatalf("owners %v, want one", owners)
	}
}

// TestClaimByLoad: rooms go to the least loaded node, a room claimed
// counts at once, a draining node takes none, and a room whose owner is
// gone is claimed again.
func TestClaimByLoad(t *testing.T) {
	rs := redistest.Start(t)
	ctx := context.Background()
	busy := newNode(t, rs, "busy", cluster.Options{Load: func() cluster.Load { return cluster.Load{Rooms: 3, Participants: 30} }})
	a := newNode(t, rs, "a", cluster.Options{})
	b := newNode(t, rs, "b", cluster.Options{})
	d := newNode(t, rs, "d", cluster.Options{TTL: 500 * time.Millisecond})
	if err := d.SetDraining(ctx, true); err != nil || !d.Draining() {
		t.Fatal(err)
	}
	count := map[string]int{}
	for i := range 6 {
		rec, err := busy.Owner(ctx, fmt.Sprintf("room-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		count[rec.ID]++
	}
	if count["a"] != 3 || count["b"] != 3 {
		t.Fatalf("six rooms placed %v, want three on a and three on b", count)
	}
	// Rooms claimed for b and not live there yet still count when b
	// reports its load: the next room goes to a (a tie, won by the
	// first id), not to b as if b were idle.
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if rec, err := busy.Owner(ctx, "room-6"); err != nil || rec.ID != "a" {
		t.Fatalf("room-6 placed on %q (%v), want a", rec.ID, err)
	}
	// Asked again, a room stays where it is.
	rec, err := b.Owner(ctx, "room-0")
	if err != nil {
		t.Fatal(err)
	}
	again, err := a.Owner(ctx, "room-0")
	if err != nil || again.ID != rec.ID {
		t.Fatalf("room-0 moved from %s to %s (%v)", rec.ID, again.ID, err)
	}
	cur, ok, err := a.CurrentOwner(ctx, "room-0")
	if err != nil || !ok || cur.ID != rec.ID {
		t.Fatalf("current owner %+v %v %v", cur, ok, err)
	}
	if _, ok, err := a.CurrentOwner(ctx, "nobody-here"); ok || err != nil {
		t.Fatalf("a room nobody claimed has an owner (%v)", err)
	}

	// The owner of room-0 goes (its record removed as if expired); the
	// room is claimed again by a live node.
	if err := rdb(t, rs).Del(ctx, cluster.DefaultPrefix+"node:"+rec.ID).Err(); err != nil {
		t.Fatal(err)
	}
	moved, err := busy.Owner(ctx, "room-0")
	if err != nil || moved.ID == rec.ID || moved.ID == "d" {
		t.Fatalf("room-0 after its owner went: %+v (%v)", moved, err)
	}
	if _, err := cluster.New(cluster.Options{RedisURL: rs.URL()}); err == nil {
		t.Error("a node without an id is accepted")
	}
	if _, err := a.Owner(ctx, "no spaces"); err == nil {
		t.Error("a name that is not a room's is claimed")
	}
}

// TestLeases: a node renews the leases of its rooms, takes a lapsed one
// back, leaves another node's alone (and is told of it), releases a room
// that has ended, and releases everything when it stops.
func TestLeases(t *testing.T) {
	rs := redistest.Start(t)
	ctx := context.Background()
	c := rdb(t, rs)
	var mu sync.Mutex
	rooms := []string{"one", "two"}
	a := newNode(t, rs, "a", cluster.Options{Lease: time.Minute, Rooms: func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), rooms...)
	}})
	lost := make(chan string, 10)
	b := newNode(t, rs, "b", cluster.Options{Rooms: func() []string { return []string{"two"} },
		OnLost: func(name string) { lost <- name }})
	for _, n := range []string{"one", "two"} {
		if id, _ := c.Get(ctx, cluster.DefaultPrefix+"owner:"+n).Result(); id != "a" {
			t.Fatalf("owner of %s: %q, want a", n, id)
		}
	}
	if ttl, _ := c.PTTL(ctx, cluster.DefaultPrefix+"owner:one").Result(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("lease %v", ttl)
	}
	// b also runs "two" (a split): it does not take it from a, and is
	// told (once it runs) after each refresh, so that it gives its people
	// up to a.
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if id, _ := c.Get(ctx, cluster.DefaultPrefix+"owner:two").Result(); id != "a" {
		t.Fatalf("owner of two after b's renewal: %q", id)
	}
	bctx, bstop := context.WithCancel(ctx)
	bdone := make(chan error, 1)
	go func() { bdone <- b.Run(bctx) }()
	for range 2 {
		if name := <-lost; name != "two" {
			t.Fatalf("b told of %q, want two", name)
		}
	}
	bstop()
	if err := <-bdone; err != nil {
		t.Fatal(err)
	}
	// "one" ends on a: its lease goes at the next refresh.
	mu.Lock()
	rooms = []string{"two"}
	mu.Unlock()
	if err := a.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Exists(ctx, cluster.DefaultPrefix+"owner:one").Result(); n != 0 {
		t.Fatal("the lease of an ended room stays")
	}
	// a stops: its record and its leases go at once.
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(rctx) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Exists(ctx, cluster.DefaultPrefix+"owner:two", cluster.DefaultPrefix+"node:a").Result(); n != 0 {
		t.Fatal("a's lease or record outlives it")
	}
}

// TestSlowYieldDelaysNoRefresh: a node told that another holds a room
// it runs is told on a goroutine of its own: while it takes its time
// giving the room up (its store calls hang in an outage), its record and
// its other leases go on being refreshed, and it is told again after.
func TestSlowYieldDelaysNoRefresh(t *testing.T) {
	rs := redistest.Start(t)
	ctx := context.Background()
	c := rdb(t, rs)
	newNode(t, rs, "a", cluster.Options{Lease: time.Minute, Rooms: func() []string { return []string{"two"} }})
	var refreshes atomic.Int64
	lost, release := make(chan string, 10), make(chan struct{})
	b := newNode(t, rs, "b", cluster.Options{Refresh: 20 * time.Millisecond, Lease: time.Second,
		Rooms: func() []string {
			refreshes.Add(1)
			return []string{"one", "two"}
		},
		OnLost: func(name string) {
			lost <- name
			<-release // a yield that hangs
		}})
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- b.Run(rctx) }()
	if name := <-lost; name != "two" {
		t.Fatalf("b told of %q, want two", name)
	}
	// The yield hangs; b's refreshes carry on, renewing its lease of one
	// (a second long) many times over.
	from := refreshes.Load()
	deadline := time.Now().Add(time.Minute)
	for refreshes.Load() < from+5 {
		if time.Now().After(deadline) {
			t.Fatalf("refreshes while a yield hangs: %d, want 5", refreshes.Load()-from)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if id, _ := c.Get(ctx, cluster.DefaultPrefix+"owner:one").Result(); id != "b" {
		t.Fatalf("owner of one while b's yield hangs: %q, want b", id)
	}
	close(release)
	if name := <-lost; name != "two" {
		t.Fatalf("b told again of %q, want two", name)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestUnreachable: a room's node that refused a connection at the URL its
// record gives loses the room's lease and its record at once; a report
// naming another URL (the node moved, or another took the room) changes
// nothing.
func TestUnreachable(t *testing.T) {
	rs := redistest.Start(t)
	ctx := context.Background()
	a := newNode(t, rs, "a", cluster.Options{})
	b := newNode(t, rs, "b", cluster.Options{Rooms: func() []string { return []string{"evening"} }})
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Unreachable(ctx, "evening", "http://elsewhere:8080"); err != nil {
		t.Fatal(err)
	}
	if rec, err := a.Owner(ctx, "evening"); err != nil || rec.ID != "b" {
		t.Fatalf("after a report about another URL evening runs on %q (%v), want b", rec.ID, err)
	}
	if err := a.Unreachable(ctx, "evening", "http://b.internal:8080"); err != nil {
		t.Fatal(err)
	}
	recs, err := a.Nodes(ctx)
	if err != nil || len(recs) != 1 || recs[0].ID != "a" {
		t.Fatalf("nodes after b refused: %+v (%v)", recs, err)
	}
	if rec, err := a.Owner(ctx, "evening"); err != nil || rec.ID != "a" {
		t.Fatalf("evening after b refused: %q (%v), want a", rec.ID, err)
	}
}
