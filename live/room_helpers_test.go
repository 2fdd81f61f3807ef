package live_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/live"
	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
	"github.com/hearth-rtc/hearth/sfu"
)

// A live room under test runs on the real parts around it: membership's
// Service on its in-memory store (which can be taken down), and an SFU
// engine on loopback. Clients are conns: the in-memory transport below,
// which keeps what the room sends.

var testSecret = []byte("live-test-secret-0123456789abcdef")

// conn is a client's connection as the room sees it: it keeps every
// message sent, and how it was closed.
type conn struct {
	mu     sync.Mutex
	msgs   []sentMsg
	closed bool
	last   any
}

type sentMsg struct {
	Type string
	raw  json.RawMessage
}

func (c *conn) Send(msg any) {
	b, err := json.Marshal(msg)
	if err != nil {
		panic(err)
	}
	var env protocol.Envelope
	_ = json.Unmarshal(b, &env)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.msgs = append(c.msgs, sentMsg{Type: env.Type, raw: b})
	}
}

func (c *conn) Close(last any) {
	if last != nil {
		c.Send(last)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed, c.last = true, last
}

// last returns the last message of type typ, decoded into v.
func (c *conn) lastOf(t *testing.T, typ string, v any) bool {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.msgs) - 1; i >= 0; i-- {
		if c.msgs[i].Type == typ {
			if err := json.Unmarshal(c.msgs[i].raw, v); err != nil {
				t.Fatal(err)
			}
			return true
		}
	}
	return false
}

func (c *conn) types() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, m := range c.msgs {
		out = append(out, m.Type)
	}
	return out
}

func (c *conn) has(typ string) bool { return slices.Contains(c.types(), typ) }

// bye is the reason of the bye the connection was closed with ("" for
// none).
func (c *conn) bye() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b, ok := c.last.(protocol.Bye); ok {
		return b.Reason
	}
	return ""
}

func (c *conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// flakyStore is a membership store that can be taken down, or whose
// mirror writes can be made to hang until their context ends.
type flakyStore struct {
	membership.Store
	down atomic.Bool
	hang atomic.Bool
	// mirrors counts the mirror writes the store answered.
	mirrors atomic.Int64
}

var errDown = fmt.Errorf("test store: %w", room.ErrUnavailable)

func (s *flakyStore) err() error {
	if s.down.Load() {
		return errDown
	}
	return nil
}

func (s *flakyStore) GetRoom(ctx context.Context, name string) (room.RoomConfig, error) {
	if err := s.err(); err != nil {
		return room.RoomConfig{}, err
	}
	return s.Store.GetRoom(ctx, name)
}

func (s *flakyStore) Session(ctx context.Context, name string) (room.Session, error) {
	if err := s.err(); err != nil {
		return room.Session{}, err
	}
	return s.Store.Session(ctx, name)
}

func (s *flakyStore) AddPresence(ctx context.Context, p room.Participant, limit int) (room.Participant, error) {
	if err := s.err(); err != nil {
		return room.Participant{}, err
	}
	return s.Store.AddPresence(ctx, p, limit)
}

func (s *flakyStore) SetState(ctx context.Context, name, id string, st room.State, r room.WaitReason, limit int) (room.Participant, error) {
	if err := s.err(); err != nil {
		return room.Participant{}, err
	}
	return s.Store.SetState(ctx, name, id, st, r, limit)
}

func (s *flakyStore) RemovePresence(ctx context.Context, name, id string) (room.Participant, error) {
	if err := s.err(); err != nil {
		return room.Participant{}, err
	}
	return s.Store.RemovePresence(ctx, name, id)
}

func (s *flakyStore) SetLocked(ctx context.Context, name string, locked bool) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.SetLocked(ctx, name, locked)
}

func (s *flakyStore) SetBlocked(ctx context.Context, name, identity string, blocked bool) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.SetBlocked(ctx, name, identity, blocked)
}

func (s *flakyStore) SetMirror(ctx context.Context, name string, m membership.Mirror) error {
	if err := s.err(); err != nil {
		return err
	}
	if s.hang.Load() {
		<-ctx.Done()
		return fmt.Errorf("test store: %w: %w", room.ErrUnavailable, ctx.Err())
	}
	err := s.Store.SetMirror(ctx, name, m)
	if err == nil {
		s.mirrors.Add(1)
	}
	return err
}

// Epoch passes the inner store's on (membership.Epocher), so that a node
// on a Redis that lost its data writes its presences back; a store that
// cannot lose its data has one epoch.
func (s *flakyStore) Epoch(ctx context.Context) (string, error) {
	if err := s.err(); err != nil {
		return "", err
	}
	if ep, ok := s.Store.(membership.Epocher); ok {
		return ep.Epoch(ctx)
	}
	return "memory", nil
}

func (s *flakyStore) AdoptPresence(ctx context.Context, name, id, node string) (room.Participant, time.Time, error) {
	if err := s.err(); err != nil {
		return room.Participant{}, time.Time{}, err
	}
	return s.Store.AdoptPresence(ctx, name, id, node)
}

// node is one Hearth node's membership and live rooms.
type node struct {
	t     *testing.T
	ctx   context.Context
	store *flakyStore
	svc   *membership.Service
	rooms *live.Rooms
}

func newNode(t *testing.T, cfg live.Config) *node {
	t.Helper()
	return newNodeOn(t, &flakyStore{Store: membership.NewMemStore(membership.MemStoreOptions{TTL: time.Minute})}, "node-a", cfg)
}

// newNodeOn is a node named id on store, which other nodes may share.
func newNodeOn(t *testing.T, store *flakyStore, id string, cfg live.Config) *node {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	svc, err := membership.NewService(membership.ServiceConfig{Store: store, Secret: testSecret, NodeID: id, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	engine, err := sfu.NewEngine(sfu.Config{UDPAddr: "127.0.0.1:0", LoopbackOnly: true, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Door, cfg.Engine, cfg.Logger = svc, engine, log
	n := &node{t: t, ctx: ctx, store: store, svc: svc, rooms: live.NewRooms(cfg)}
	t.Cleanup(func() {
		store.down.Store(false)
		n.rooms.Close()
		if err := engine.Close(); err != nil {
			t.Error(err)
		}
	})
	return n
}

func (n *node) create(cfg room.RoomConfig) {
	n.t.Helper()
	if _, err := n.store.CreateRoom(n.ctx, cfg); err != nil {
		n.t.Fatal(err)
	}
}

// person is one client in a room.
type person struct {
	p    room.Participant
	room *live.Room
	c    *conn
}

// apply sends a command as the person.
func (x person) apply(ctx context.Context, cmd live.Command) error {
	return x.room.Apply(ctx, x.p.ID, x.c, cmd)
}

// join joins rm as identity with role, through the door and into the live
// room: seated or waiting, as membership decides.
func (n *node) join(rm, identity string, role room.Role) person {
	n.t.Helper()
	tok, err := room.IssueToken(testSecret, room.TokenParams{Room: rm, Identity: identity, Name: "Name " + identity, Role: role, TTL: time.Hour})
	if err != nil {
		n.t.Fatal(err)
	}
	res, err := n.svc.Join(n.ctx, membership.JoinRequest{Room: rm, Token: tok})
	if err != nil {
		n.t.Fatalf("join %s: %v", identity, err)
	}
	c := &conn{}
	var r *live.Room
	switch {
	case res.TakeOver:
		var ok bool
		r, ok, err = n.rooms.TakeOver(n.ctx, res.Participant, res.Room, c)
		if !ok && err == nil {
			err = errors.New("nobody to take over from")
		}
	case res.Status == membership.JoinWaiting:
		r, err = n.rooms.Wait(n.ctx, res.Participant, res.Room, c)
	default:
		r, err = n.rooms.Seat(n.ctx, res.Participant, res.Room, c)
	}
	if err != nil {
		n.t.Fatalf("join %s: %v", identity, err)
	}
	return person{p: res.Participant, room: r, c: c}
}

// participants decodes joined's participants by id.
func joinedParticipants(t *testing.T, c *conn) map[string]protocol.Participant {
	t.Helper()
	var j protocol.Joined
	if !c.lastOf(t, "joined", &j) {
		t.Fatalf("no joined; got %v", c.types())
	}
	out := map[string]protocol.Participant{}
	for _, p := range j.Participants {
		out[p.ID] = p
	}
	return out
}
