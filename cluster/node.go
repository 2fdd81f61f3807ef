package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hearth-rtc/hearth/room"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// DefaultPrefix namespaces the cluster's keys.
const DefaultPrefix = "hearth:cluster:"

// Defaults of Options: a record refreshed every 3 s that lives 10 s, so a
// node that stops refreshing is gone within 15 s whatever the phase; a
// room lease of 10 s renewed on the same beat.
const (
	DefaultRefresh = 3 * time.Second
	DefaultTTL     = 10 * time.Second
	DefaultLease   = 10 * time.Second
)

// ErrNoNodes says no live node may take a room (none registered, or all
// draining); it is a room.ErrUnavailable: try again shortly.
var ErrNoNodes = fmt.Errorf("cluster: no node can take the room: %w", room.ErrUnavailable)

// Options configure New.
type Options struct {
	// RedisURL is like redis://host:port/db.
	RedisURL string
	// Prefix namespaces keys; DefaultPrefix if empty.
	Prefix string
	// ID names this node; AdvertiseURL is its internal base URL (both
	// required).
	ID, AdvertiseURL string
	// Media lists the addresses of this node's media port.
	Media []string
	// Load reports this node's rooms and participants; CPU is measured
	// here. Nil reports nothing.
	Load func() Load
	// Rooms lists the rooms live on this node: their leases are renewed,
	// and a room that left the list has its lease released.
	Rooms func() []string
	// OnLost is told, after each refresh, of each room live here whose
	// lease another node holds (two nodes run the room: this one should
	// give its people up to the other). It is called from a goroutine of
	// Run's, one room at a time, never from the refresh itself, so that a
	// slow call (its store calls during an outage) delays no lease's
	// renewal; a room reported again while its call runs is told once
	// more after it. Rooms found by a Refresh outside Run are told once
	// Run starts. Nil tells nobody.
	OnLost func(room string)
	// Refresh, TTL and Lease: see the defaults.
	Refresh, TTL, Lease time.Duration
	Logger              *slog.Logger
}

// Node is this process's place in the cluster: its record in the
// registry, the leases of the rooms it runs, and the look-up of where any
// room runs.
//
// Lifecycle: New → Run (until its context ends, then the record and the
// leases are removed) → Close. Owner and Nodes may be called at any time.
type Node struct {
	opts     Options
	rdb      *redis.Client
	log      *slog.Logger
	draining atomic.Bool
	cpu      cpuMeter

	mu    sync.Mutex
	owned map[string]bool // rooms whose lease this node renewed last
	lost  map[string]bool // rooms another node holds, logged once
	// held are the rooms for OnLost, not told yet; tell wakes Run's
	// goroutine that tells them.
	held map[string]bool
	tell chan struct{}
}

// New returns a Node; it does not connect until used.
func New(opts Options) (*Node, error) {
	if opts.ID == "" || opts.AdvertiseURL == "" {
		return nil, fmt.Errorf("cluster: a node needs an id and an advertised URL")
	}
	ro, err := redis.ParseURL(opts.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("cluster: redis URL: %w", err)
	}
	if ro.DialTimeout == 0 {
		ro.DialTimeout = 2 * time.Second
	}
	if ro.ReadTimeout == 0 {
		ro.ReadTimeout = 2 * time.Second
	}
	if ro.WriteTimeout == 0 {
		ro.WriteTimeout = 2 * time.Second
	}
	ro.DisableIdentity = true
	ro.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.Refresh <= 0 {
		opts.Refresh = DefaultRefresh
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.Lease <= 0 {
		opts.Lease = DefaultLease
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Node{opts: opts, rdb: redis.NewClient(ro), log: opts.Logger.With("node", opts.ID),
		owned: map[string]bool{}, lost: map[string]bool{}, held: map[string]bool{}, tell: make(chan struct{}, 1)}, nil
}

// ID is this node's id.
func (n *Node) ID() string { return n.opts.ID }

func (n *Node) nodeKey(id string) string    { return n.opts.Prefix + "node:" + id }
func (n *Node) nodesKey() string            { return n.opts.Prefix + "nodes" }
func (n *Node) loadKey() string             { return n.opts.Prefix + "load" }
func (n *Node) ownerKey(name string) string { return n.opts.Prefix + "owner:" + name }
func (n *Node) claimedKey(id string) string { return n.opts.Prefix + "claimed:" + id }

// Run registers this node and refreshes its record and its rooms' leases
// every Refresh until ctx ends; it then removes the record and releases
// the leases, so that the rooms can be claimed again at once. Rooms lost
// to another node are told to OnLost from a goroutine of its own, which
// ends with ctx (after the call running then) before Run returns.
func (n *Node) Run(ctx context.Context) error {
	t := time.NewTicker(n.opts.Refresh)
	defer t.Stop()
	told := make(chan struct{})
	go n.tellLost(ctx, told)
	defer func() { <-told }()
	for {
		if err := n.Refresh(ctx); err != nil && ctx.Err() == nil {
			n.log.Warn("cluster: refresh", "err", err)
		}
		select {
		case <-ctx.Done():
			lctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			return n.leave(lctx)
		case <-t.C:
		}
	}
}

// Refresh writes this node's record and load, and renews the leases of
// its rooms (Run does it every Refresh).
func (n *Node) Refresh(ctx context.Context) error {
	var live []string
	rec := n.record()
	if n.opts.Rooms != nil {
		// The rooms counted are the rooms listed, so that a room going live
		// meanwhile counts once, whether as live or as pending.
		live = n.opts.Rooms()
		rec.Rooms = len(live)
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("cluster: record: %w", err)
	}
	args := []any{n.opts.ID, b, n.opts.TTL.Milliseconds(), rec.score(), roomWeight, n.opts.Lease.Milliseconds()}
	for _, name := range live {
		args = append(args, name)
	}
	keys := []string{n.nodeKey(n.opts.ID), n.nodesKey(), n.loadKey(), n.claimedKey(n.opts.ID)}
	if err := refreshScript.Run(ctx, n.rdb, keys, args...).Err(); err != nil {
		return fmt.Errorf("cluster: register: %w", err)
	}
	return n.renew(ctx, live)
}

// record is this node's record now.
func (n *Node) record() Record {
	var l Load
	if n.opts.Load != nil {
		l = n.opts.Load()
	}
	l.CPU = n.cpu.percent(time.Now())
	return Record{ID: n.opts.ID, URL: n.opts.AdvertiseURL, Media: n.opts.Media, Load: l,
		Draining: n.draining.Load(), At: time.Now().UTC()}
}

// renew extends the leases of the rooms live here and releases those of
// rooms no longer here.
func (n *Node) renew(ctx context.Context, live []string) error {
	n.mu.Lock()
	var gone []string
	for name := range n.owned {
		if !slices.Contains(live, name) {
			gone = append(gone, name)
		}
	}
	n.mu.Unlock()
	lease := n.opts.Lease.Milliseconds()
	renews := make([]*redis.Cmd, len(live))
	_, err := n.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, name := range live {
			renews[i] = renewScript.Eval(ctx, p, []string{n.ownerKey(name)}, n.opts.ID, lease)
		}
		for _, name := range gone {
			releaseScript.Eval(ctx, p, []string{n.ownerKey(name)}, n.opts.ID)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("cluster: renew leases: %w", err)
	}
	var held []string
	n.mu.Lock()
	clear(n.owned)
	for i, name := range live {
		ok, err := renews[i].Int()
		if err != nil {
			continue // neither renewed nor known to be held
		}
		if ok == 1 {
			n.owned[name] = true
			delete(n.lost, name)
			continue
		}
		held = append(held, name)
		if !n.lost[name] {
			n.lost[name] = true
			n.log.Warn("cluster: a room live here is held by another node", "room", name)
		}
	}
	for name := range n.lost {
		if !slices.Contains(live, name) {
			delete(n.lost, name)
		}
	}
	if n.opts.OnLost != nil && len(held) > 0 {
		for _, name := range held {
			n.held[name] = true
		}
		select {
		case n.tell <- struct{}{}:
		default:
		}
	}
	n.mu.Unlock()
	return nil
}

// tellLost tells OnLost of the rooms renew found held by another node, as
// they come, until ctx ends; then it closes done.
func (n *Node) tellLost(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.tell:
		}
		n.mu.Lock()
		names := make([]string, 0, len(n.held))
		for name := range n.held {
			names = append(names, name)
		}
		clear(n.held)
		n.mu.Unlock()
		for _, name := range names {
			if ctx.Err() != nil {
				return
			}
			n.opts.OnLost(name)
		}
	}
}

// leave removes this node's record and releases its leases.
func (n *Node) leave(ctx context.Context) error {
	// The rooms live now, too: one claimed since the last refresh is not
	// in owned yet.
	var owned []string
	if n.opts.Rooms != nil {
		owned = n.opts.Rooms()
	}
	n.mu.Lock()
	for name := range n.owned {
		if !slices.Contains(owned, name) {
			owned = append(owned, name)
		}
	}
	clear(n.owned)
	n.mu.Unlock()
	_, err := n.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, n.nodeKey(n.opts.ID))
		p.SRem(ctx, n.nodesKey(), n.opts.ID)
		p.ZRem(ctx, n.loadKey(), n.opts.ID)
		p.Del(ctx, n.claimedKey(n.opts.ID))
		for _, name := range owned {
			releaseScript.Eval(ctx, p, []string{n.ownerKey(name)}, n.opts.ID)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("cluster: leave: %w", err)
	}
	return nil
}

// SetDraining marks this node as taking no new rooms, or as taking them
// again, and writes its record at once; the rooms it runs stay until they
// end (or the node stops, which gives them up).
func (n *Node) SetDraining(ctx context.Context, on bool) error {
	n.draining.Store(on)
	return n.Refresh(ctx)
}

// Draining reports whether this node takes no new rooms.
func (n *Node) Draining() bool { return n.draining.Load() }

// Nodes lists the live nodes (those whose record has not expired), by id,
// and forgets the ids of the others.
func (n *Node) Nodes(ctx context.Context) ([]Record, error) {
	ids, err := n.rdb.SMembers(ctx, n.nodesKey()).Result()
	if err != nil {
		return nil, unavailable("list nodes", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	slices.Sort(ids)
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = n.nodeKey(id)
	}
	vals, err := n.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, unavailable("read nodes", err)
	}
	var recs []Record
	var dead []any
	for i, v := range vals {
		s, ok := v.(string)
		var rec Record
		if !ok || json.Unmarshal([]byte(s), &rec) != nil {
			dead = append(dead, ids[i])
			continue
		}
		recs = append(recs, rec)
	}
	if len(dead) > 0 {
		_, _ = n.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.SRem(ctx, n.nodesKey(), dead...)
			p.ZRem(ctx, n.loadKey(), dead...)
			return nil
		})
	}
	return recs, nil
}

// Owner returns the node that runs room, claiming the room for the live,
// not draining node with the lowest load when no live node holds it
// (the claim takes three round trips to Redis; finding the owner of a
// room already running, one).
func (n *Node) Owner(ctx context.Context, name string) (Record, error) {
	if !room.ValidRoomName(name) {
		return Record{}, fmt.Errorf("cluster: %w: not a room name", room.ErrInvalid)
	}
	// A room running on a live node: one round trip.
	s, err := ownerScript.Run(ctx, n.rdb, []string{n.ownerKey(name)}, n.nodeKey("")).Text()
	switch {
	case err == nil:
		var rec Record
		if json.Unmarshal([]byte(s), &rec) == nil {
			return rec, nil
		}
	case !errors.Is(err, redis.Nil):
		return Record{}, unavailable("look up a room", err)
	}
	recs, err := n.Nodes(ctx)
	if err != nil {
		return Record{}, err
	}
	args := []any{n.opts.Lease.Milliseconds(), n.nodeKey(""), roomWeight, n.claimedKey(""), name}
	for _, r := range recs {
		if !r.Draining {
			args = append(args, r.ID)
		}
	}
	id, err := claimScript.Run(ctx, n.rdb, []string{n.ownerKey(name), n.loadKey()}, args...).Text()
	if errors.Is(err, redis.Nil) {
		return Record{}, ErrNoNodes
	}
	if err != nil {
		return Record{}, unavailable("claim a room", err)
	}
	return n.lookup(ctx, recs, id)
}

// CurrentOwner returns the node that runs room, if a live one does; it
// claims nothing.
func (n *Node) CurrentOwner(ctx context.Context, name string) (Record, bool, error) {
	id, err := n.rdb.Get(ctx, n.ownerKey(name)).Result()
	if errors.Is(err, redis.Nil) {
		return Record{}, false, nil
	}
	if err != nil {
		return Record{}, false, unavailable("look up a room", err)
	}
	rec, err := n.lookup(ctx, nil, id)
	if errors.Is(err, ErrNoNodes) {
		return Record{}, false, nil
	}
	return rec, err == nil, err
}

// lookup finds id's record in recs, or else in Redis.
func (n *Node) lookup(ctx context.Context, recs []Record, id string) (Record, error) {
	for _, r := range recs {
		if r.ID == id {
			return r, nil
		}
	}
	s, err := n.rdb.Get(ctx, n.nodeKey(id)).Result()
	if errors.Is(err, redis.Nil) {
		return Record{}, ErrNoNodes
	}
	if err != nil {
		return Record{}, unavailable("read a node", err)
	}
	var rec Record
	if err := json.Unmarshal([]byte(s), &rec); err != nil {
		return Record{}, fmt.Errorf("cluster: node %s: %w", id, err)
	}
	return rec, nil
}

// OwnerURL returns the internal URL of the node that runs room, claiming
// it as Owner does; "" means this node, and so does a name that is not a
// room's (this node's door refuses it). It implements signaling.Placement.
func (n *Node) OwnerURL(ctx context.Context, name string) (string, error) {
	if !room.ValidRoomName(name) {
		return "", nil
	}
	rec, err := n.Owner(ctx, name)
	if err != nil {
		return "", err
	}
	if rec.ID == n.opts.ID {
		return "", nil
	}
	return rec.URL, nil
}

// Unreachable reports that url, given as the owner of room, refused a
// connection: nothing listens there, so that node runs no rooms any more
// (it died, or is restarting and has lost them). The room's lease and that
// node's record go at once, if they still say so, and the next arrival
// claims the room for a live node rather than waiting for them to lapse.
// A node that is alive after all registers again at its next refresh.
func (n *Node) Unreachable(ctx context.Context, name, url string) error {
	if err := goneScript.Run(ctx, n.rdb, []string{n.ownerKey(name)}, n.nodeKey(""), url).Err(); err != nil {
		return unavailable("drop an unreachable node", err)
	}
	n.log.Info("cluster: a room's node refused a connection; its rooms are free", "room", name, "url", url)
	return nil
}

// Close closes the Redis client.
func (n *Node) Close() error { return n.rdb.Close() }

// unavailable wraps a Redis failure as room.ErrUnavailable, which the
// transport and the admin API tell as "try again shortly".
func unavailable(what string, err error) error {
	return fmt.Errorf("cluster: %s: %w: %v", what, room.ErrUnavailable, err)
}
