package membership_test

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/room"
)

// outageSetup seats a facilitator and two members on one node, then takes
// the store down.
func outageSetup(t *testing.T) (*lossyStore, *node, room.Participant, room.Participant, room.Participant) {
	t.Helper()
	store := newLossyStore()
	circle(t, store)
	n := newNode(t, store, "node-a")
	fac := n.join("circle", "fac", room.RoleFacilitator)
	m1 := n.join("circle", "m1", room.RoleMember)
	m2 := n.join("circle", "m2", room.RoleMember)
	n.heartbeat()
	store.setDown(true)
	return store, n, fac, m1, m2
}

// TestControlsWhileStoreDown: with the store unreachable, a lock and a
// removal with block (which the live room authorized) take effect here;
// the lock shows at once; what needs the store answers unavailable.
func TestControlsWhileStoreDown(t *testing.T) {
	store, n, fac, m1, m2 := outageSetup(t)
	ctx := n.ctx
	if err := n.svc.Lock(ctx, "circle", true); err != nil {
		t.Fatalf("lock while the store is down: %v", err)
	}
	if info := n.svc.RoomInfo(ctx, "circle"); !info.Locked || info.Kind != room.KindClosed {
		t.Fatalf("room while the store is down: %+v", info)
	}
	p, err := n.svc.Remove(ctx, "circle", m2.ID, true)
	if err != nil || p.ID != m2.ID || p.Identity != "m2" {
		t.Fatalf("remove while the store is down: %+v, %v", p, err)
	}
	if got := n.svc.Hosted("circle"); !slices.Equal(got, sortedIDs(fac, m1)) {
		t.Fatalf("hosted after the removal: %v", got)
	}
	if _, err := n.svc.Remove(ctx, "circle", "p_elsewhere", false); room.ErrorCode(err) != room.CodeUnavailable {
		t.Fatalf("removing someone not hosted here while the store is down: %v", err)
	}
	if _, err := n.svc.Admit(ctx, "circle", membership.AllWaiting); room.ErrorCode(err) != room.CodeUnavailable {
		t.Fatalf("admit while the store is down: %v", err)
	}
	if _, err := n.svc.Join(ctx, membership.JoinRequest{Room: "circle", Token: token(t, "circle", "m3", room.RoleMember)}); room.ErrorCode(err) != room.CodeUnavailable {
		t.Fatalf("join while the store is down: %v", err)
	}
	if err := n.svc.Heartbeat(ctx); !errors.Is(err, room.ErrUnavailable) {
		t.Fatalf("heartbeat while the store is down: %v", err)
	}
	if g := n.goneList(); len(g) != 0 {
		t.Fatalf("disconnected: %v", g)
	}
	store.setDown(false)
}

// TestPendingWrittenWhenStoreAnswers: the store comes back with its data.
// The first join, before any heartbeat, finds the block and the lock
// written and the removed presence gone.
func TestPendingWrittenWhenStoreAnswers(t *testing.T) {
	store, n, fac, m1, m2 := outageSetup(t)
	ctx := n.ctx
	if err := n.svc.Lock(ctx, "circle", true); err != nil {
		t.Fatal(err)
	}
	if _, err := n.svc.Remove(ctx, "circle", m2.ID, true); err != nil {
		t.Fatal(err)
	}
	store.setDown(false)

	if _, err := n.svc.Join(ctx, membership.JoinRequest{Room: "circle", Token: token(t, "circle", "m2", room.RoleMember)}); room.ErrorCode(err) != room.CodeBlocked {
		t.Fatalf("removed identity rejoins after the store returned: %v", err)
	}
	sess, err := store.Session(ctx, "circle")
	if err != nil || !sess.Locked || !slices.Equal(sess.Blocked, []string{"m2"}) {
		t.Fatalf("session after the store returned: %+v, %v", sess, err)
	}
	if got := byID(sess); len(got) != 2 || got[fac.ID].ID == "" || got[m1.ID].ID == "" {
		t.Fatalf("present after the store returned: %+v", sess.Participants)
	}
	res, err := n.svc.Join(ctx, membership.JoinRequest{Room: "circle", Token: token(t, "circle", "m3", room.RoleMember)})
	if err != nil || res.Status != membership.JoinWaiting || res.Reason != room.WaitLocked {
		t.Fatalf("arrival after the store returned: %+v, %v", res, err)
	}
	n.heartbeat()
	if g := n.goneList(); len(g) != 0 {
		t.Fatalf("disconnected: %v", g)
	}
}

// TestPendingWrittenByHeartbeat: the node's heartbeat writes what changed
// here during the outage, so another node's joins see it.
func TestPendingWrittenByHeartbeat(t *testing.T) {
	store, a, _, _, m2 := outageSetup(t)
	b := newNode(t, store, "node-b")
	if err := a.svc.Lock(a.ctx, "circle", true); err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.Remove(a.ctx, "circle", m2.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := a.svc.Lock(a.ctx, "circle", false); err != nil {
		t.Fatal(err)
	}
	if err := a.svc.Lock(a.ctx, "circle", true); err != nil {
		t.Fatal(err)
	}
	store.setDown(false)
	a.heartbeat()
	if _, err := b.svc.Join(b.ctx, membership.JoinRequest{Room: "circle", Token: token(t, "circle", "m2", room.RoleMember)}); room.ErrorCode(err) != room.CodeBlocked {
		t.Fatalf("removed identity joins on another node: %v", err)
	}
	res, err := b.svc.Join(b.ctx, membership.JoinRequest{Room: "circle", Token: token(t, "circle", "m3", room.RoleMember)})
	if err != nil || res.Status != membership.JoinWaiting || res.Reason != room.WaitLocked {
		t.Fatalf("arrival on another node: %+v, %v", res, err)
	}
}

// TestPendingAfterStoreLoss: the store comes back empty; the node writes
// back its people, then the lock and the block made during the outage,
// and the removed participant is not among those written back.
func TestPendingAfterStoreLoss(t *testing.T) {
	store, n, fac, m1, m2 := outageSetup(t)
	ctx := n.ctx
	if err := n.svc.Lock(ctx, "circle", true); err != nil {
		t.Fatal(err)
	}
	if _, err := n.svc.Remove(ctx, "circle", m2.ID, true); err != nil {
		t.Fatal(err)
	}
	store.lose()
	store.setDown(false)
	n.heartbeat()
	sess, err := store.Session(ctx, "circle")
	if err != nil || !sess.Locked || !slices.Equal(sess.Blocked, []string{"m2"}) {
		t.Fatalf("session after the store came back empty: %+v, %v", sess, err)
	}
	if got := byID(sess); len(got) != 2 || got[fac.ID].ID == "" || got[m1.ID].ID == "" {
		t.Fatalf("written back: %+v", sess.Participants)
	}
	if _, err := n.svc.Join(ctx, membership.JoinRequest{Room: "circle", Token: token(t, "circle", "m2", room.RoleMember)}); room.ErrorCode(err) != room.CodeBlocked {
		t.Fatalf("removed identity rejoins: %v", err)
	}
	if g := n.goneList(); len(g) != 0 {
		t.Fatalf("disconnected: %v", g)
	}
}

// TestRemoveWithStoreUpIsWrittenThrough: with the store reachable, the
// removal and the block are in the store when Remove returns, and someone
// hosted on another node can be removed.
func TestRemoveWithStoreUpIsWrittenThrough(t *testing.T) {
	store := newLossyStore()
	circle(t, store)
	a, b := newNode(t, store, "node-a"), newNode(t, store, "node-b")
	a.join("circle", "fac", room.RoleFacilitator)
	m1 := b.join("circle", "m1", room.RoleMember)
	if _, err := a.svc.Remove(a.ctx, "circle", m1.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := a.svc.Lock(a.ctx, "circle", true); err != nil {
		t.Fatal(err)
	}
	sess, err := store.Session(a.ctx, "circle")
	if err != nil || !sess.Locked || !slices.Equal(sess.Blocked, []string{"m1"}) || len(sess.Participants) != 1 {
		t.Fatalf("session after remove and lock: %+v, %v", sess, err)
	}
	if _, err := a.svc.Remove(a.ctx, "circle", m1.ID, false); !errors.Is(err, room.ErrNotFound) {
		t.Fatalf("removing someone no longer there: %v", err)
	}
}

// blockFails is a store that cannot take blocks while fail is set.
type blockFails struct {
	*lossyStore
	fail atomic.Bool
}

func (b *blockFails) SetBlocked(ctx context.Context, name, identity string, blocked bool) error {
	if b.fail.Load() {
		return errDown
	}
	return b.lossyStore.SetBlocked(ctx, name, identity, blocked)
}

// TestBlockBeforeRemoval: the store takes everything but the block. The
// removal waits for the block (so the identity cannot slip back in), joins
// wait for both, and both are written once the store takes blocks again.
func TestBlockBeforeRemoval(t *testing.T) {
	store := &blockFails{lossyStore: newLossyStore()}
	circle(t, store)
	n := newNode(t, store, "node-a")
	n.join("circle", "fac", room.RoleFacilitator)
	m1 := n.join("circle", "m1", room.RoleMember)
	store.fail.Store(true)
	if _, err := n.svc.Remove(n.ctx, "circle", m1.ID, true); err != nil {
		t.Fatalf("remove with block while blocks fail: %v", err)
	}
	if sess, _ := store.Session(n.ctx, "circle"); len(sess.Participants) != 2 || len(sess.Blocked) != 0 {
		t.Fatalf("removal written before the block: %+v", sess)
	}
	if _, err := n.svc.Join(n.ctx, membership.JoinRequest{Room: "circle", Token: token(t, "circle", "m1", room.RoleMember)}); room.ErrorCode(err) != room.CodeUnavailable {
		t.Fatalf("join decided before the block was written: %v", err)
	}
	if err := n.svc.Heartbeat(n.ctx); !errors.Is(err, room.ErrUnavailable) {
		t.Fatalf("heartbeat with a block unwritten: %v", err)
	}
	store.fail.Store(false)
	if _, err := n.svc.Join(n.ctx, membership.JoinRequest{Room: "circle", Token: token(t, "circle", "m1", room.RoleMember)}); room.ErrorCode(err) != room.CodeBlocked {
		t.Fatalf("removed identity rejoins: %v", err)
	}
	sess, err := store.Session(n.ctx, "circle")
	if err != nil || len(sess.Participants) != 1 || !slices.Equal(sess.Blocked, []string{"m1"}) {
		t.Fatalf("session once blocks are taken: %+v, %v", sess, err)
	}
}

func sortedIDs(ps ...room.Participant) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.ID)
	}
	slices.Sort(out)
	return out
}
