package live_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/testutil/redistest"
	"github.com/hearth-rtc/hearth/live"
	"github.com/hearth-rtc/hearth/membership/redisstore"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// TestNewSeatResumesAfterItsNodeDiesAtOnce: on a real redis-server, Ann
// drops in to a room on node a, and node a dies the moment her joined is
// out (from then on it writes nothing to the store). Node b carries the
// room on, and Ann's resume secret, the one in that joined, takes her
// seat back: same id, on a new peer connection. So do Fran's, who had
// resumed on node a just before (her seat's second secret).
func TestNewSeatResumesAfterItsNodeDiesAtOnce(t *testing.T) {
	rs := redistest.Start(t)
	rstore, err := redisstore.New(redisstore.Options{URL: rs.URL(), TTL: time.Minute,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rstore.Close() })
	a := newNodeOn(t, &flakyStore{Store: rstore}, "node-a", live.Config{})
	a.create(room.RoomConfig{Name: "circle", Kind: room.KindOpen, Capacity: 10})
	fran := a.join("circle", "fran", room.RoleFacilitator)
	fran2 := &conn{}
	if err := fran.room.Resume(a.ctx, fran.p.ID, fran.c, fran2, false); err != nil {
		t.Fatal(err)
	}
	ann := a.dropIn("circle", "Ann")
	// Node a dies: it writes nothing more.
	a.store.down.Store(true)
	a.rooms.Close()

	b := newNodeOn(t, &flakyStore{Store: rstore}, "node-b", live.Config{})
	for _, x := range []struct {
		name, id string
		c        *conn
	}{{"Ann", ann.p.ID, ann.c}, {"Fran", fran.p.ID, fran2}} {
		back := &conn{}
		_, id, err := b.rooms.ResumeRestored(b.ctx, "circle", resumeSecret(t, x.c), back, false)
		if err != nil || id != x.id {
			t.Fatalf("%s's resume on node b: %q, %v; want her seat %s", x.name, id, err, x.id)
		}
		var j protocol.Joined
		back.lastOf(t, "joined", &j)
		if j.Self.ID != x.id || !j.Resumed || !j.NewPeer {
			t.Fatalf("%s's joined on node b: %+v; want resumed on a new peer, her id", x.name, j)
		}
	}
}

// TestJoinWhileTheMirrorHangs: while the store takes no mirror write (each
// hangs until given up), people still join, each joined arriving once
// the wait for its resume key is given up, with nothing before it; a mute
// takes effect. Once the store answers again the mirror is written, with
// every seat's resume key.
func TestJoinWhileTheMirrorHangs(t *testing.T) {
	n := newNode(t, live.Config{})
	n.create(room.RoomConfig{Name: "circle", Kind: room.KindOpen, Capacity: 10})
	n.store.hang.Store(true)
	fran := n.join("circle", "fran", room.RoleFacilitator)
	milo := n.dropIn("circle", "Milo")
	sue := n.dropIn("circle", "Sue")
	for name, c := range map[string]*conn{"fran": fran.c, "milo": milo.c, "sue": sue.c} {
		if ts := c.types(); len(ts) == 0 || ts[0] != "joined" {
			t.Fatalf("%s was sent %v; want joined first", name, ts)
		}
	}
	if err := fran.apply(n.ctx, live.Command{Kind: protocol.CmdMute, By: fran.p.ID, Participant: milo.p.ID,
		Media: protocol.MediaAudio, Muted: true}); err != nil {
		t.Fatalf("mute while the store hangs: %v", err)
	}
	var st protocol.RoomStateMsg
	fran.c.lastOf(t, "room_state", &st)
	n.store.hang.Store(false)
	deadline := time.Now().Add(time.Minute)
	for {
		m, err := n.store.Mirror(n.ctx, "circle")
		if err == nil && m.Version >= st.Version {
			for name, c := range map[string]*conn{"fran": fran.c, "milo": milo.c, "sue": sue.c} {
				if key := resumeKeyOf(resumeSecret(t, c)); !strings.Contains(string(m.Data), key) {
					t.Fatalf("the mirror lacks %s's resume key", name)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("mirror not written after the store came back: %d, %v; want version %d", m.Version, err, st.Version)
		}
		if err != nil && !errors.Is(err, room.ErrNotFound) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// resumeKeyOf is the hash a room keeps of a resume secret.
func resumeKeyOf(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
