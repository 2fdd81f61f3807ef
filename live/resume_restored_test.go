package live_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/live"
	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// TestResumeRestoredSeat: in a drop-in room (members come in with a name,
// no token) on node a, Fran mutes Ann and Ann raises her hand. Node a
// hands its rooms over and stops; node b carries the session on. The
// store holds the hash of Ann's resume secret, never the secret. On node
// b a wrong secret takes nothing (resume failed, as on one node); Ann's
// secret takes her seat back: same id, joined as a resume on a new peer
// connection, still muted, her hand still up, her seat active for the
// others. The same secret a second time takes nothing, and Ben's own
// secret still takes his.
func TestResumeRestoredSeat(t *testing.T) {
	store := &flakyStore{Store: membership.NewMemStore(membership.MemStoreOptions{TTL: time.Minute})}
	a := newNodeOn(t, store, "node-a", live.Config{})
	a.create(room.RoomConfig{Name: "circle", Kind: room.KindOpen, Capacity: 10})
	fran := a.join("circle", "fran", room.RoleFacilitator)
	ann := a.dropIn("circle", "Ann")
	ben := a.dropIn("circle", "Ben")
	if err := fran.apply(a.ctx, live.Command{Kind: protocol.CmdMute, By: fran.p.ID, Participant: ann.p.ID,
		Media: protocol.MediaAudio, Muted: true}); err != nil {
		t.Fatal(err)
	}
	if err := ann.apply(a.ctx, live.Command{Kind: protocol.CmdRaiseHand, By: ann.p.ID}); err != nil {
		t.Fatal(err)
	}
	annSecret, benSecret := resumeSecret(t, ann.c), resumeSecret(t, ben.c)

	if err := a.rooms.HandOver(a.ctx); err != nil {
		t.Fatal(err)
	}
	a.rooms.Close()
	m, err := store.Mirror(a.ctx, "circle")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(annSecret))
	if bytes.Contains(m.Data, []byte(annSecret)) || !bytes.Contains(m.Data, []byte(hex.EncodeToString(sum[:]))) {
		t.Fatalf("the mirror holds %s; want the hash of Ann's secret and never the secret", m.Data)
	}

	b := newNodeOn(t, store, "node-b", live.Config{})
	wrong := &conn{}
	if _, _, err := b.rooms.ResumeRestored(b.ctx, "circle", "0123456789abcdef0123456789abcdef", wrong, false); !errors.Is(err, live.ErrNotHeld) {
		t.Fatalf("a wrong secret: %v, want ErrNotHeld", err)
	}
	if len(wrong.types()) != 0 {
		t.Fatalf("a wrong secret was sent %v", wrong.types())
	}
	ann2 := &conn{}
	r, id, err := b.rooms.ResumeRestored(b.ctx, "circle", annSecret, ann2, false)
	if err != nil || id != ann.p.ID || r == nil {
		t.Fatalf("Ann's resume on node b: %q, %v; want her seat %s", id, err, ann.p.ID)
	}
	var j protocol.Joined
	ann2.lastOf(t, "joined", &j)
	if j.Self.ID != ann.p.ID || !j.Resumed || !j.NewPeer || j.Resume == "" || j.Resume == annSecret {
		t.Fatalf("Ann's joined on node b: %+v; want resumed on a new peer, her id, a fresh secret", j)
	}
	var st protocol.RoomStateMsg
	ann2.lastOf(t, "room_state", &st)
	muted := false
	for _, p := range st.Participants {
		if p.ID == ann.p.ID {
			muted = p.Muted.Audio
		}
	}
	if !muted || len(st.Hands) != 1 || st.Hands[0].Participant != ann.p.ID {
		t.Fatalf("the state after Ann's resume: %+v; want her muted with her hand up", st.RoomState)
	}
	if _, _, err := b.rooms.ResumeRestored(b.ctx, "circle", annSecret, &conn{}, true); !errors.Is(err, live.ErrNotHeld) {
		t.Fatalf("Ann's secret used again: %v, want ErrNotHeld", err)
	}
	ben2 := &conn{}
	if _, id, err := b.rooms.ResumeRestored(b.ctx, "circle", benSecret, ben2, true); err != nil || id != ben.p.ID {
		t.Fatalf("Ben's resume on node b: %q, %v; want his seat %s", id, err, ben.p.ID)
	}
	if p := joinedParticipants(t, ben2)[ann.p.ID]; p.State != string(room.StateActive) {
		t.Fatalf("Ann, as Ben sees her after his resume: %+v; want active", p)
	}
	if got := b.svc.Hosted("circle"); len(got) != 3 {
		t.Fatalf("presences hosted on node b: %v, want Fran's, Ann's and Ben's", got)
	}
}

// TestResumeRestoredRefusesBadInput: a resume for a room not live here,
// or one whose name is not a room's, takes nothing and leaves no room.
func TestResumeRestoredRefusesBadInput(t *testing.T) {
	n := newNode(t, live.Config{})
	for _, name := range []string{"nowhere", "not a room name!", ""} {
		if _, _, err := n.rooms.ResumeRestored(n.ctx, name, "0123456789abcdef0123456789abcdef", &conn{}, false); !errors.Is(err, live.ErrNotHeld) {
			t.Fatalf("resume in %q: %v, want ErrNotHeld", name, err)
		}
	}
	if names := n.rooms.Names(); len(names) != 0 {
		t.Fatalf("rooms live after resumes that failed: %v", names)
	}
}

// dropIn joins an open room with a name and no token.
func (n *node) dropIn(rm, name string) person {
	n.t.Helper()
	res, err := n.svc.Join(n.ctx, membership.JoinRequest{Room: rm, Name: name})
	if err != nil {
		n.t.Fatalf("join %s: %v", name, err)
	}
	c := &conn{}
	r, err := n.rooms.Seat(n.ctx, res.Participant, res.Room, c)
	if err != nil {
		n.t.Fatalf("join %s: %v", name, err)
	}
	return person{p: res.Participant, room: r, c: c}
}

// resumeSecret is the resume secret of the last joined c was sent.
func resumeSecret(t *testing.T, c *conn) string {
	t.Helper()
	var j protocol.Joined
	if !c.lastOf(t, "joined", &j) || j.Resume == "" {
		t.Fatalf("no resume secret; got %v", c.types())
	}
	return j.Resume
}
