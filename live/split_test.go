package live_test

import (
	"errors"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/testutil/redistest"
	"github.com/hearth-rtc/hearth/live"
	"github.com/hearth-rtc/hearth/membership/redisstore"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// A split, on a real Redis: two nodes ran one room at once (Redis
// restarted empty while the room's node ran it, and another node opened
// it for a newcomer). The node that lost the room must not shut the
// other's mirror out, however far its controls' version ran ahead.

// redisNode is a node named id with a store client of its own on srv.
func redisNode(t *testing.T, srv *redistest.Server, id string, cfg live.Config) *node {
	t.Helper()
	rs, err := redisstore.New(redisstore.Options{URL: srv.URL(), TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rs.Close() })
	return newNodeOn(t, &flakyStore{Store: rs}, id, cfg)
}

// waitFor waits, on a condition, up to a minute (the machine may be busy).
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSplitOwnersMirrorWins: node a runs a room whose controls changed
// many times (Fran muting and unmuting Ann). Redis restarts empty and
// node b opens the room for Sue. Node a, still running its half, mutes
// Ann's camera: its mirror, of a higher version than b's, is written
// and refused. Node a yields; on b Sue mutes Ben: that mute is in the
// store, and node c, taking the room over after b, restores it.
func TestSplitOwnersMirrorWins(t *testing.T) {
	srv := redistest.Start(t)
	a := redisNode(t, srv, "node-a", live.Config{})
	a.create(room.RoomConfig{Name: "circle", Kind: room.KindOpen, Capacity: 10})
	fran := a.join("circle", "fran", room.RoleFacilitator)
	ann := a.join("circle", "ann", room.RoleMember)
	for i := range 12 {
		if err := fran.apply(a.ctx, live.Command{Kind: protocol.CmdMute, By: fran.p.ID, Participant: ann.p.ID,
			Media: protocol.MediaAudio, Muted: i%2 == 0}); err != nil {
			t.Fatal(err)
		}
	}
	var onA protocol.RoomStateMsg
	fran.c.lastOf(t, "room_state", &onA)
	waitFor(t, "node a's controls mirrored", func() bool {
		m, err := a.store.Mirror(a.ctx, "circle")
		return err == nil && m.Version >= onA.Version
	})

	srv.Restart(t) // empty
	b := redisNode(t, srv, "node-b", live.Config{})
	b.create(room.RoomConfig{Name: "circle", Kind: room.KindOpen, Capacity: 10})
	sue := b.join("circle", "sue", room.RoleFacilitator)
	ben := b.join("circle", "ben", room.RoleMember)

	written := a.store.mirrors.Load()
	if err := fran.apply(a.ctx, live.Command{Kind: protocol.CmdMute, By: fran.p.ID, Participant: ann.p.ID,
		Media: protocol.MediaVideo, Muted: true}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "node a's mirror written after the split", func() bool { return a.store.mirrors.Load() > written })
	if !a.rooms.Yield("circle") {
		t.Fatal("node a had nobody to yield")
	}

	if err := sue.apply(b.ctx, live.Command{Kind: protocol.CmdMute, By: sue.p.ID, Participant: ben.p.ID,
		Media: protocol.MediaAudio, Muted: true}); err != nil {
		t.Fatal(err)
	}
	var onB protocol.RoomStateMsg
	sue.c.lastOf(t, "room_state", &onB)
	if onB.Version >= onA.Version {
		t.Fatalf("node b's version %d passed node a's %d: the test shows nothing", onB.Version, onA.Version)
	}
	waitFor(t, "node b's mute in the store", func() bool {
		m, err := b.store.Mirror(b.ctx, "circle")
		return err == nil && m.Node == "node-b" && m.Version >= onB.Version
	})

	// Node b stops answering; node c takes the room over.
	c := redisNode(t, srv, "node-c", live.Config{})
	sue2 := c.join("circle", "sue", room.RoleFacilitator)
	if sue2.p.ID != sue.p.ID {
		t.Fatalf("sue back on node c as %s, want %s", sue2.p.ID, sue.p.ID)
	}
	var st protocol.RoomStateMsg
	sue2.c.lastOf(t, "room_state", &st)
	got := map[string]protocol.ParticipantState{}
	for _, p := range st.Participants {
		got[p.ID] = p
	}
	if len(got) != 2 || !got[ben.p.ID].Muted.Audio || got[sue.p.ID].Role != room.RoleFacilitator {
		t.Fatalf("room on node c: %+v; want sue and ben, ben muted (node b's controls)", st.Participants)
	}
}

// TestSplitDropInComesBackAsThemselves: node a runs a drop-in room where
// Dee came in with a name and no token. Redis restarts empty and node b
// opens the room for Sue. Node a yields: Dee's client, resuming through
// node b with the secret node a gave it, is seated there as the same
// participant (same id, resumed on a new peer connection), and Sue sees
// Dee arrive. The secret takes the seat back once.
func TestSplitDropInComesBackAsThemselves(t *testing.T) {
	srv := redistest.Start(t)
	a := redisNode(t, srv, "node-a", live.Config{})
	fran := a.join("circle", "fran", room.RoleFacilitator)
	dee := a.dropIn("circle", "Dee")
	secret := resumeSecret(t, dee.c)

	srv.Restart(t) // empty
	b := redisNode(t, srv, "node-b", live.Config{})
	sue := b.join("circle", "sue", room.RoleFacilitator)
	if !a.rooms.Yield("circle") {
		t.Fatal("node a had nobody to yield")
	}
	if !dee.c.isClosed() || !fran.c.isClosed() {
		t.Fatal("node a kept its people after the yield")
	}

	back := &conn{}
	_, id, err := b.rooms.ResumeRestored(b.ctx, "circle", secret, back, false)
	if err != nil || id != dee.p.ID {
		t.Fatalf("Dee's resume through node b: %q, %v; want %s", id, err, dee.p.ID)
	}
	var j protocol.Joined
	if !back.lastOf(t, "joined", &j) || j.Self.ID != dee.p.ID || j.Self.Role != room.RoleMember || !j.Resumed || !j.NewPeer {
		t.Fatalf("Dee's joined on node b: %+v; want %s, member, resumed on a new peer connection", j.Self, dee.p.ID)
	}
	if _, ok := joinedParticipants(t, back)[sue.p.ID]; !ok {
		t.Fatalf("Dee on node b does not see Sue: %+v", j.Participants)
	}
	var arrived protocol.ParticipantEvent
	if !sue.c.lastOf(t, "participant_joined", &arrived) || arrived.Participant.ID != dee.p.ID {
		t.Fatalf("Sue saw %+v join, want Dee (%s)", arrived.Participant, dee.p.ID)
	}
	sess, err := b.svc.Session(b.ctx, "circle")
	if p, ok := sess.Find(dee.p.ID); err != nil || !ok || p.State != room.StateActive || p.Node != "node-b" {
		t.Fatalf("Dee's presence: %+v, %v; want active, hosted by node b", p, err)
	}
	if _, _, err := b.rooms.ResumeRestored(b.ctx, "circle", secret, &conn{}, false); !errors.Is(err, live.ErrNotHeld) {
		t.Fatalf("the same secret again: %v, want ErrNotHeld", err)
	}
}
