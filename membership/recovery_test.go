package membership_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/room"
)

// lossyStore is a Store that can go down and can lose its data, like a
// Redis without persistence that is stopped and restarted.
type lossyStore struct {
	mu        sync.Mutex
	inner     *membership.MemStore
	gen       int
	down      bool
	epochDown bool
	// onHeartbeat, if set, runs (once) in place of the next Heartbeat.
	onHeartbeat func() error
	// onGetRoom, if set, runs (once) before the next GetRoom.
	onGetRoom func()
}

var _ membership.Epocher = (*lossyStore)(nil)

func newLossyStore() *lossyStore {
	return &lossyStore{inner: membership.NewMemStore(membership.MemStoreOptions{TTL: time.Minute}), gen: 1}
}

// lose replaces everything with an empty store and a new epoch.
func (l *lossyStore) lose() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inner = membership.NewMemStore(membership.MemStoreOptions{TTL: time.Minute})
	l.gen++
}

func (l *lossyStore) setDown(down bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.down = down
}

func (l *lossyStore) setEpochDown(down bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.epochDown = down
}

var errDown = fmt.Errorf("test store: %w", room.ErrUnavailable)

func (l *lossyStore) s() (*membership.MemStore, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.down {
		return nil, errDown
	}
	return l.inner, nil
}

func (l *lossyStore) Epoch(context.Context) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.down || l.epochDown {
		return "", errDown
	}
	return fmt.Sprintf("gen-%d", l.gen), nil
}

func (l *lossyStore) CreateRoom(ctx context.Context, cfg room.RoomConfig) (room.RoomConfig, error) {
	s, err := l.s()
	if err != nil {
		return room.RoomConfig{}, err
	}
	return s.CreateRoom(ctx, cfg)
}

func (l *lossyStore) GetRoom(ctx context.Context, name string) (room.RoomConfig, error) {
	l.mu.Lock()
	hook := l.onGetRoom
	l.onGetRoom = nil
	l.mu.Unlock()
	if hook != nil {
		hook()
	}
	s, err := l.s()
	if err != nil {
		return room.RoomConfig{}, err
	}
	return s.GetRoom(ctx, name)
}

func (l *lossyStore) UpdateRoom(ctx context.Context, name string, fn func(*room.RoomConfig) error) (room.RoomConfig, error) {
	s, err := l.s()
	if err != nil {
		return room.RoomConfig{}, err
	}
	return s.UpdateRoom(ctx, name, fn)
}

func (l *lossyStore) DeleteRoom(ctx context.Context, name string) error {
	s, err := l.s()
	if err != nil {
		return err
	}
	return s.DeleteRoom(ctx, name)
}

func (l *lossyStore) ListRooms(ctx context.Context) ([]room.RoomConfig, error) {
	s, err := l.s()
	if err != nil {
		return nil, err
	}
	return s.ListRooms(ctx)
}

func (l *lossyStore) Session(ctx context.Context, name string) (room.Session, error) {
	s, err := l.s()
	if err != nil {
		return room.Session{}, err
	}
	return s.Session(ctx, name)
}

func (l *lossyStore) AddPresence(ctx context.Context, p room.Participant, limit int) (room.Participant, error) {
	s, err := l.s()
	if err != nil {
		return room.Participant{}, err
	}
	return s.AddPresence(ctx, p, limit)
}

func (l *lossyStore) SetState(ctx context.Context, name, id string, st room.State, r room.WaitReason, limit int) (room.Participant, error) {
	s, err := l.s()
	if err != nil {
		return room.Participant{}, err
	}
	return s.SetState(ctx, name, id, st, r, limit)
}

func (l *lossyStore) RemovePresence(ctx context.Context, name, id string) (room.Participant, error) {
	s, err := l.s()
	if err != nil {
		return room.Participant{}, err
	}
	return s.RemovePresence(ctx, name, id)
}

func (l *lossyStore) Heartbeat(ctx context.Context, name string, ids []string) ([]string, error) {
	l.mu.Lock()
	hook := l.onHeartbeat
	l.onHeartbeat = nil
	l.mu.Unlock()
	if hook != nil {
		return nil, hook()
	}
	s, err := l.s()
	if err != nil {
		return nil, err
	}
	return s.Heartbeat(ctx, name, ids)
}

func (l *lossyStore) SetLocked(ctx context.Context, name string, locked bool) error {
	s, err := l.s()
	if err != nil {
		return err
	}
	return s.SetLocked(ctx, name, locked)
}

func (l *lossyStore) SetBlocked(ctx context.Context, name, identity string, blocked bool) error {
	s, err := l.s()
	if err != nil {
		return err
	}
	return s.SetBlocked(ctx, name, identity, blocked)
}

func (l *lossyStore) SetMirror(ctx context.Context, name string, m membership.Mirror) error {
	s, err := l.s()
	if err != nil {
		return err
	}
	return s.SetMirror(ctx, name, m)
}

func (l *lossyStore) Mirror(ctx context.Context, name string) (membership.Mirror, error) {
	s, err := l.s()
	if err != nil {
		return membership.Mirror{}, err
	}
	return s.Mirror(ctx, name)
}

func (l *lossyStore) MirrorTerm(ctx context.Context, name string) (uint64, error) {
	s, err := l.s()
	if err != nil {
		return 0, err
	}
	return s.MirrorTerm(ctx, name)
}

func (l *lossyStore) YieldSeats(ctx context.Context, name string, seats map[string]string) error {
	s, err := l.s()
	if err != nil {
		return err
	}
	return s.YieldSeats(ctx, name, seats)
}

func (l *lossyStore) TakeYielded(ctx context.Context, name, key string) (string, error) {
	s, err := l.s()
	if err != nil {
		return "", err
	}
	return s.TakeYielded(ctx, name, key)
}

func (l *lossyStore) AdoptPresence(ctx context.Context, name, id, node string) (room.Participant, time.Time, error) {
	s, err := l.s()
	if err != nil {
		return room.Participant{}, time.Time{}, err
	}
	return s.AdoptPresence(ctx, name, id, node)
}

func (l *lossyStore) Ping(context.Context) error {
	_, err := l.s()
	return err
}

func (l *lossyStore) Close() error { return nil }

func (l *lossyStore) AttendanceRetention() time.Duration {
	return membership.DefaultAttendanceRetention
}

func (l *lossyStore) RecordJoin(ctx context.Context, name string, rec room.PresenceRecord) error {
	s, err := l.s()
	if err != nil {
		return err
	}
	return s.RecordJoin(ctx, name, rec)
}

func (l *lossyStore) RecordLeave(ctx context.Context, name, id string, at time.Time) error {
	s, err := l.s()
	if err != nil {
		return err
	}
	return s.RecordLeave(ctx, name, id, at)
}

func (l *lossyStore) Attendance(ctx context.Context, name string, from, to time.Time) ([]room.PresenceRecord, error) {
	s, err := l.s()
	if err != nil {
		return nil, err
	}
	return s.Attendance(ctx, name, from, to)
}

func (l *lossyStore) RecordAcceptance(ctx context.Context, name string, acc room.Acceptance) error {
	s, err := l.s()
	if err != nil {
		return err
	}
	return s.RecordAcceptance(ctx, name, acc)
}

func (l *lossyStore) Acceptances(ctx context.Context, name string, from, to time.Time) ([]room.Acceptance, error) {
	s, err := l.s()
	if err != nil {
		return nil, err
	}
	return s.Acceptances(ctx, name, from, to)
}

// node is one Hearth node's room service on a shared lossy store, with
// the participants its heartbeat reported gone.
type node struct {
	t   *testing.T
	svc *membership.Service
	ctx context.Context

	mu   sync.Mutex
	gone []string
}

func newNode(t *testing.T, store membership.Store, id string) *node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	n := &node{t: t, ctx: ctx}
	svc, err := membership.NewService(membership.ServiceConfig{
		Store: store, Secret: testSecret, NodeID: id,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnGone: func(rm, pid string) {
			n.mu.Lock()
			defer n.mu.Unlock()
			n.gone = append(n.gone, rm+"/"+pid)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	n.svc = svc
	return n
}

func (n *node) goneList() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.gone)
}

func (n *node) join(rm, identity string, role room.Role) room.Participant {
	n.t.Helper()
	res, err := n.svc.Join(n.ctx, membership.JoinRequest{Room: rm, Token: token(n.t, rm, identity, role)})
	if err != nil {
		n.t.Fatalf("join %s: %v", identity, err)
	}
	return res.Participant
}

func (n *node) heartbeat() {
	n.t.Helper()
	if err := n.svc.Heartbeat(n.ctx); err != nil {
		n.t.Fatalf("heartbeat: %v", err)
	}
}

func token(t *testing.T, rm, identity string, role room.Role) string {
	t.Helper()
	tok, err := room.IssueToken(testSecret, room.TokenParams{Room: rm, Identity: identity, Name: "Name " + identity, Role: role, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// circle is a closed room for three with a roster.
func circle(t *testing.T, s membership.Store) room.RoomConfig {
	t.Helper()
	cfg := room.RoomConfig{Name: "circle", Kind: room.KindClosed, Capacity: 3, Roster: []room.RosterEntry{
		{Identity: "fac", Role: room.RoleFacilitator},
		{Identity: "m1", Role: room.RoleMember}, {Identity: "m2", Role: room.RoleMember},
		{Identity: "m3", Role: room.RoleMember}, {Identity: "m4", Role: room.RoleMember},
	}}
	created, err := s.CreateRoom(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return created
}

func byID(sess room.Session) map[string]room.Participant {
	out := map[string]room.Participant{}
	for _, p := range sess.Participants {
		out[p.ID] = p
	}
	return out
}

// TestStoreLossWritesPresencesBack: when the store loses its data, the
// next heartbeat writes back everyone hosted here (roles, states, arrival
// times), the room's configuration, lock and blocks, and disconnects
// nobody; new arrivals are then decided with them counted.
func TestStoreLossWritesPresencesBack(t *testing.T) {
	store := newLossyStore()
	circle(t, store)
	n := newNode(t, store, "node-a")
	fac := n.join("circle", "fac", room.RoleFacilitator)
	m1 := n.join("circle", "m1", room.RoleMember)
	m3 := n.join("circle", "m3", room.RoleMember)
	if _, err := n.svc.Remove(n.ctx, "circle", m3.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := n.svc.Lock(n.ctx, "circle", true); err != nil {
		t.Fatal(err)
	}
	res, err := n.svc.Join(n.ctx, membership.JoinRequest{Room: "circle", Token: token(t, "circle", "m2", room.RoleMember)})
	if err != nil || res.Status != membership.JoinWaiting {
		t.Fatalf("m2 while locked: %+v, %v", res, err)
	}
	m2 := res.Participant
	n.heartbeat()
	before, err := store.Session(n.ctx, "circle")
	if err != nil {
		t.Fatal(err)
	}

	store.lose()
	n.heartbeat()
	if g := n.goneList(); len(g) != 0 {
		t.Fatalf("participants disconnected after the store lost its data: %v", g)
	}
	after, err := store.Session(n.ctx, "circle")
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Participants) != 3 || !after.Locked || !slices.Equal(after.Blocked, []string{"m3"}) {
		t.Fatalf("session after the loss: %+v", after)
	}
	old := byID(before)
	for id, p := range byID(after) {
		if o := old[id]; o.Role != p.Role || o.State != p.State || o.Identity != p.Identity || o.Name != p.Name ||
			o.Reason != p.Reason || o.Node != p.Node || !o.JoinedAt.Equal(p.JoinedAt) {
			t.Fatalf("written back as %+v, was %+v", p, o)
		}
	}
	if got := byID(after); got[fac.ID].State != room.StateActive || got[m1.ID].Role != room.RoleMember ||
		got[m2.ID].State != room.StateWaiting || got[m2.ID].Reason != room.WaitLocked {
		t.Fatalf("roles and states not kept: %+v", after.Participants)
	}
	cfg, err := store.GetRoom(n.ctx, "circle")
	if err != nil || cfg.Kind != room.KindClosed || cfg.Capacity != 3 || len(cfg.Roster) != 5 {
		t.Fatalf("room configuration after the loss: %+v, %v", cfg, err)
	}
	// So is the seated people's attendance, from their arrival.
	recs, err := store.Attendance(n.ctx, "circle", time.Time{}, time.Now().Add(time.Minute))
	if err != nil || len(recs) != 2 || recs[0].ID != fac.ID || !recs[0].JoinedAt.Equal(fac.JoinedAt) || recs[1].ID != m1.ID {
		t.Fatalf("attendance after the loss: %+v, %v", recs, err)
	}

	// New arrivals see all that: the block holds, and seats are counted.
	if _, err := n.svc.Join(n.ctx, membership.JoinRequest{Room: "circle", Token: token(t, "circle", "m3", room.RoleMember)}); room.ErrorCode(err) != room.CodeBlocked {
		t.Fatalf("blocked identity after the loss: %v", err)
	}
	if err := n.svc.Lock(n.ctx, "circle", false); err != nil {
		t.Fatal(err)
	}
	n.join("circle", "m4", room.RoleMember) // third seat
	if _, err := n.svc.Admit(n.ctx, "circle", m2.ID); !errors.Is(err, room.ErrRoomFull) {
		t.Fatalf("admitting a fourth into a room for three: %v", err)
	}
	n.heartbeat()
	if g := n.goneList(); len(g) != 0 {
		t.Fatalf("disconnected: %v", g)
	}
}

// TestStoreLossNoticedByJoin: an arrival right after the loss, before any
// heartbeat, is decided with the people already here written back: the
// facilitator counts, so a member is admitted rather than kept waiting.
func TestStoreLossNoticedByJoin(t *testing.T) {
	store := newLossyStore()
	circle(t, store)
	n := newNode(t, store, "node-a")
	n.join("circle", "fac", room.RoleFacilitator)
	store.lose()
	res, err := n.svc.Join(n.ctx, membership.JoinRequest{Room: "circle", Token: token(t, "circle", "m1", room.RoleMember)})
	if err != nil || res.Status != membership.JoinAdmitted || len(res.Others) != 1 {
		t.Fatalf("join after the loss: %+v, %v", res, err)
	}
}

// TestRemovalOnAnotherNodeStillDisconnects: the store kept its data, so a
// participant removed by a facilitator on another node is disconnected
// here; and still so after a loss was recovered from.
func TestRemovalOnAnotherNodeStillDisconnects(t *testing.T) {
	store := newLossyStore()
	circle(t, store)
	a, b := newNode(t, store, "node-a"), newNode(t, store, "node-b")
	b.join("circle", "fac", room.RoleFacilitator)
	m1 := a.join("circle", "m1", room.RoleMember)
	m2 := a.join("circle", "m2", room.RoleMember)
	a.heartbeat()

	if _, err := b.svc.Remove(b.ctx, "circle", m1.ID, false); err != nil {
		t.Fatal(err)
	}
	a.heartbeat()
	if g := a.goneList(); !slices.Equal(g, []string{"circle/" + m1.ID}) {
		t.Fatalf("gone = %v, want only the removed %s", g, m1.ID)
	}

	store.lose()
	a.heartbeat()
	b.heartbeat()
	if sess, _ := store.Session(a.ctx, "circle"); len(sess.Participants) != 2 {
		t.Fatalf("after the loss: %+v", sess.Participants)
	}
	if _, err := b.svc.Remove(b.ctx, "circle", m2.ID, false); err != nil {
		t.Fatal(err)
	}
	a.heartbeat()
	if g := a.goneList(); !slices.Equal(g, []string{"circle/" + m1.ID, "circle/" + m2.ID}) {
		t.Fatalf("gone = %v, want the two removed", g)
	}
	if g := b.goneList(); len(g) != 0 {
		t.Fatalf("node b disconnected %v", g)
	}
}

// TestStoreDown: while the store is unreachable, heartbeats fail without
// disconnecting anyone and joins fail with unavailable; when it comes back
// with its data, nothing was lost; when it comes back empty, everyone is
// written back.
func TestStoreDown(t *testing.T) {
	store := newLossyStore()
	circle(t, store)
	n := newNode(t, store, "node-a")
	n.join("circle", "fac", room.RoleFacilitator)
	n.join("circle", "m1", room.RoleMember)

	store.setDown(true)
	if err := n.svc.Heartbeat(n.ctx); !errors.Is(err, room.ErrUnavailable) {
		t.Fatalf("heartbeat while down: %v", err)
	}
	_, err := n.svc.Join(n.ctx, membership.JoinRequest{Room: "circle", Token: token(t, "circle", "m2", room.RoleMember)})
	if room.ErrorCode(err) != room.CodeUnavailable {
		t.Fatalf("join while down: %v (code %q)", err, room.ErrorCode(err))
	}
	store.setDown(false)
	n.heartbeat()

	store.setDown(true)
	store.lose()
	if err := n.svc.Heartbeat(n.ctx); err == nil {
		t.Fatal("heartbeat while down succeeded")
	}
	store.setDown(false)
	n.heartbeat()
	if sess, _ := store.Session(n.ctx, "circle"); len(sess.Participants) != 2 {
		t.Fatalf("after coming back empty: %+v", sess.Participants)
	}
	if g := n.goneList(); len(g) != 0 {
		t.Fatalf("disconnected: %v", g)
	}
}

// TestUndecidedWhileEpochUnreadable: people are missing but the epoch
// cannot be read: nobody is disconnected until it can be told whether they
// were removed or forgotten.
func TestUndecidedWhileEpochUnreadable(t *testing.T) {
	store := newLossyStore()
	circle(t, store)
	n := newNode(t, store, "node-a")
	n.join("circle", "fac", room.RoleFacilitator)
	store.lose()
	store.setEpochDown(true)
	if err := n.svc.Heartbeat(n.ctx); !errors.Is(err, room.ErrUnavailable) {
		t.Fatalf("heartbeat: %v", err)
	}
	if g := n.goneList(); len(g) != 0 {
		t.Fatalf("disconnected without knowing why: %v", g)
	}
	store.setEpochDown(false)
	n.heartbeat()
	if sess, _ := store.Session(n.ctx, "circle"); len(sess.Participants) != 1 {
		t.Fatalf("not written back: %+v", sess.Participants)
	}
	if g := n.goneList(); len(g) != 0 {
		t.Fatalf("disconnected: %v", g)
	}
}

// TestLossDuringHeartbeat: the store fails a heartbeat and comes back
// empty before the same heartbeat re-reads the rooms. What the node
// remembers is kept (an empty store's word does not count), so the next
// heartbeat writes everything back, configuration included.
func TestLossDuringHeartbeat(t *testing.T) {
	store := newLossyStore()
	circle(t, store)
	n := newNode(t, store, "node-a")
	n.join("circle", "fac", room.RoleFacilitator)
	if err := n.svc.Lock(n.ctx, "circle", true); err != nil {
		t.Fatal(err)
	}
	n.heartbeat()
	store.mu.Lock()
	store.onHeartbeat = func() error {
		store.inner = membership.NewMemStore(membership.MemStoreOptions{TTL: time.Minute})
		store.gen++
		return errDown
	}
	store.mu.Unlock()
	if err := n.svc.Heartbeat(n.ctx); !errors.Is(err, room.ErrUnavailable) {
		t.Fatalf("heartbeat: %v", err)
	}
	n.heartbeat()
	cfg, err := store.GetRoom(n.ctx, "circle")
	if err != nil || cfg.Kind != room.KindClosed {
		t.Fatalf("configuration not written back: %+v, %v", cfg, err)
	}
	if sess, _ := store.Session(n.ctx, "circle"); len(sess.Participants) != 1 || !sess.Locked {
		t.Fatalf("session not written back: %+v", sess)
	}
	if g := n.goneList(); len(g) != 0 {
		t.Fatalf("disconnected: %v", g)
	}
}

// TestLossDuringJoin: the store loses its data after a join checked it and
// before the join read the room, so the closed room reads as a drop-in
// one. The join must not stand: it is undone and refused as unavailable,
// and the next one, after the node wrote everything back, is decided on
// the real room.
func TestLossDuringJoin(t *testing.T) {
	store := newLossyStore()
	circle(t, store)
	n := newNode(t, store, "node-a")
	fac := n.join("circle", "fac", room.RoleFacilitator)
	store.mu.Lock()
	store.onGetRoom = func() { store.lose() }
	store.mu.Unlock()
	res, err := n.svc.Join(n.ctx, membership.JoinRequest{Room: "circle", Name: "Stranger"})
	if room.ErrorCode(err) != room.CodeUnavailable {
		t.Fatalf("join while the store lost its data: %+v, %v", res, err)
	}
	if _, err := n.svc.Join(n.ctx, membership.JoinRequest{Room: "circle", Name: "Stranger"}); room.ErrorCode(err) != room.CodeNotOnRoster {
		t.Fatalf("stranger in the closed room after the loss: %v", err)
	}
	sess, err := store.Session(n.ctx, "circle")
	if err != nil || len(sess.Participants) != 1 || sess.Participants[0].ID != fac.ID {
		t.Fatalf("session: %+v, %v", sess, err)
	}
	if g := n.goneList(); len(g) != 0 {
		t.Fatalf("disconnected: %v", g)
	}
}
