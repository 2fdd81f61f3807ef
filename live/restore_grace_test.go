package live_test

import (
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/live"
	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// TestRestoredGraceCountsFromTheOldNode: node a last refreshed Ann's and
// Fran's presences 55 s ago (the store's clock says so) and died. Node b,
// whose seats are held 60 s, carries the room on: Ann's seat is held for
// what is left of her grace (the least, 6 s), not 60 s from the restore.
// Meanwhile on node c, whose seats are held 30 s, Ben drops out of
// another room: Ann's seat is let go first (Fran, back on node b, sees
// her leave by timeout), while Ben's is still held.
func TestRestoredGraceCountsFromTheOldNode(t *testing.T) {
	var behind atomic.Int64 // how far the store's clock is behind
	mem := membership.NewMemStore(membership.MemStoreOptions{TTL: 2 * time.Minute,
		Now: func() time.Time { return time.Now().Add(-time.Duration(behind.Load())) }})
	behind.Store(int64(55 * time.Second))
	a := newNodeOn(t, &flakyStore{Store: mem}, "node-a", live.Config{})
	a.create(room.RoomConfig{Name: "circle", Kind: room.KindOpen, Capacity: 10})
	fran := a.join("circle", "fran", room.RoleFacilitator)
	ann := a.dropIn("circle", "Ann")
	a.store.down.Store(true) // node a dies
	a.rooms.Close()
	behind.Store(0)

	b := newNodeOn(t, &flakyStore{Store: mem}, "node-b", live.Config{ReconnectGrace: time.Minute})
	fran2 := &conn{}
	if _, id, err := b.rooms.ResumeRestored(b.ctx, "circle", resumeSecret(t, fran.c), fran2, true); err != nil || id != fran.p.ID {
		t.Fatalf("Fran's resume on node b: %q, %v", id, err)
	}
	c := newNodeOn(t, &flakyStore{Store: mem}, "node-c", live.Config{ReconnectGrace: 30 * time.Second})
	gus := c.dropIn("other", "Gus")
	ben := c.dropIn("other", "Ben")
	if !ben.room.Drop(ben.p.ID, ben.c) {
		t.Fatal("Ben's seat not held")
	}

	for !leftBy(fran2, ann.p.ID, "timeout") {
		if leftBy(gus.c, ben.p.ID, "") {
			t.Fatal("Ben's seat (30 s from his drop) was let go before Ann's (what was left of hers, 6 s)")
		}
		select {
		case <-b.ctx.Done():
			t.Fatal("Ann's restored seat never let go")
		case <-time.After(20 * time.Millisecond):
		}
	}
	if leftBy(gus.c, ben.p.ID, "") {
		t.Fatal("Ben's seat let go with Ann's")
	}
}

// leftBy reports whether c was told that participant left (with reason,
// unless empty).
func leftBy(c *conn, participant, reason string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.msgs {
		var l protocol.ParticipantLeft
		if m.Type == "participant_left" && json.Unmarshal(m.raw, &l) == nil && l.Participant == participant &&
			(reason == "" || l.Reason == reason) {
			return true
		}
	}
	return false
}
