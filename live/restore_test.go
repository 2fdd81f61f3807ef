package live_test

import (
	"slices"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/live"
	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// TestRoomCarriedOnByAnotherNode: node a runs a room with a waiting room;
// Milo is muted, Sue's hand is up, Bob is removed and blocked, the room
// is locked. Node a hands its rooms over and stops (its people are told
// server_shutdown, and keep their presences). Node b, on the same store,
// carries the session on: Fran and Milo, joining there, take their seats
// back (same ids, no waiting room), Milo still muted, Sue's hand still up
// and her seat held until her grace period ends; the lock and the block
// still hold.
func TestRoomCarriedOnByAnotherNode(t *testing.T) {
	store := &flakyStore{Store: membership.NewMemStore(membership.MemStoreOptions{TTL: time.Minute})}
	a := newNodeOn(t, store, "node-a", live.Config{})
	a.create(room.RoomConfig{Name: "circle", Kind: room.KindOpen, Knock: true, Capacity: 10})
	fran := a.join("circle", "fran", room.RoleFacilitator)
	milo := a.join("circle", "milo", room.RoleMember)
	sue := a.join("circle", "sue", room.RoleMember)
	bob := a.join("circle", "bob", room.RoleMember)
	for _, cmd := range []live.Command{
		{Kind: protocol.CmdAdmit, Participant: allWaiting},
		{Kind: protocol.CmdMute, Participant: milo.p.ID, Media: protocol.MediaAudio, Muted: true},
		{Kind: protocol.CmdRemove, Participant: bob.p.ID, Block: true},
		{Kind: protocol.CmdLock, Locked: true},
	} {
		cmd.By = fran.p.ID
		if err := fran.apply(a.ctx, cmd); err != nil {
			t.Fatalf("%s: %v", cmd.Kind, err)
		}
	}
	if err := sue.apply(a.ctx, live.Command{Kind: protocol.CmdRaiseHand, By: sue.p.ID}); err != nil {
		t.Fatal(err)
	}
	var before protocol.RoomStateMsg
	fran.c.lastOf(t, "room_state", &before)

	if err := a.rooms.HandOver(a.ctx); err != nil {
		t.Fatal(err)
	}
	a.rooms.Close()
	if fran.c.bye() != "server_shutdown" {
		t.Fatalf("fran's connection on node a: bye %q", fran.c.bye())
	}
	if m, err := store.Mirror(a.ctx, "circle"); err != nil || m.Version != before.Version || m.Node != "node-a" {
		t.Fatalf("mirror after the handover: %d from %q, %v; want version %d", m.Version, m.Node, err, before.Version)
	}

	b := newNodeOn(t, store, "node-b", live.Config{ReconnectGrace: 300 * time.Millisecond})
	fran2 := b.join("circle", "fran", room.RoleFacilitator)
	milo2 := b.join("circle", "milo", room.RoleMember)
	if fran2.p.ID != fran.p.ID || milo2.p.ID != milo.p.ID || !milo2.c.has("joined") || milo2.c.has("waiting") {
		t.Fatalf("back on node b as %s and %s (%v), want %s and %s seated", fran2.p.ID, milo2.p.ID, milo2.c.types(), fran.p.ID, milo.p.ID)
	}
	var st protocol.RoomStateMsg
	fran2.c.lastOf(t, "room_state", &st)
	if st.Version < before.Version || len(st.Hands) != 1 || st.Hands[0].Participant != sue.p.ID {
		t.Fatalf("restored state: version %d (was %d), hands %+v", st.Version, before.Version, st.Hands)
	}
	states := map[string]protocol.ParticipantState{}
	for _, p := range st.Participants {
		states[p.ID] = p
	}
	if !states[milo.p.ID].Muted.Audio || len(states) != 3 || states[fran.p.ID].Role != room.RoleFacilitator {
		t.Fatalf("restored participants: %+v", st.Participants)
	}
	if held := joinedParticipants(t, milo2.c)[sue.p.ID]; held.State != string(room.StateReconnecting) {
		t.Fatalf("sue's seat on node b: %+v, want held (reconnecting)", held)
	}
	sess, err := b.svc.Session(b.ctx, "circle")
	if err != nil {
		t.Fatal(err)
	}
	if !sess.Locked || !sess.IsBlocked("bob") {
		t.Fatalf("session on node b: %+v, want locked and bob blocked", sess)
	}
	if got := b.svc.Hosted("circle"); !slices.Equal(got, sortedIDs(fran.p.ID, milo.p.ID, sue.p.ID)) {
		t.Fatalf("hosted on node b: %v", got)
	}
	// Sue does not come back: her seat goes when her grace period ends.
	deadline := time.Now().Add(time.Minute)
	for !fran2.c.has("participant_left") {
		if time.Now().After(deadline) {
			t.Fatalf("sue's held seat never released: %v", fran2.c.types())
		}
		time.Sleep(20 * time.Millisecond)
	}
	var left protocol.ParticipantLeft
	fran2.c.lastOf(t, "participant_left", &left)
	if left.Participant != sue.p.ID || left.Reason != "timeout" {
		t.Fatalf("participant_left %+v, want sue's, timeout", left)
	}
}

// TestMirrorWaitsForTheStore: while the store cannot be reached the
// controls keep working (a mute takes effect at once) and the mirror is
// written once the store is back.
func TestMirrorWaitsForTheStore(t *testing.T) {
	n := newNode(t, live.Config{})
	fran := n.join("circle", "fran", room.RoleFacilitator)
	milo := n.join("circle", "milo", room.RoleMember)
	n.store.down.Store(true)
	if err := fran.apply(n.ctx, live.Command{Kind: protocol.CmdMute, By: fran.p.ID, Participant: milo.p.ID,
		Media: protocol.MediaAudio, Muted: true}); err != nil {
		t.Fatalf("mute while the store is down: %v", err)
	}
	var st protocol.RoomStateMsg
	fran.c.lastOf(t, "room_state", &st)
	n.store.down.Store(false)
	deadline := time.Now().Add(time.Minute)
	for {
		m, err := n.store.Mirror(n.ctx, "circle")
		if err == nil && m.Version >= st.Version {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("mirror not written after the store came back: %d, %v; want version %d", m.Version, err, st.Version)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func sortedIDs(ids ...string) []string {
	slices.Sort(ids)
	return ids
}
