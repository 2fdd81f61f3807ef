package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/membership/redisstore"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// TestClusterOwnerKilledKeepsControls: a closed room with a waiting room
// (knock) runs on one of three nodes; its people came in through all
// three. The facilitator mutes Ann, Ben and then Cat raise their hands,
// Dan is removed and blocked, and the room is locked. Once the owner has
// mirrored that to Redis it is killed (-9). Everyone joins again through
// the surviving nodes and, within 20 s of the kill, is back in the
// session with the same participant id and role, without a waiting room;
// the room runs on a live node, Ann is still muted (nobody receives her
// audio, counted in packets), the hands are in the same order, the room
// is still locked (a newcomer waits behind the lock) and Dan is still
// refused. Then that node is stopped with SIGTERM: it hands the room over
// and everyone is back through the last node, the controls still there.
func TestClusterOwnerKilledKeepsControls(t *testing.T) {
	tc := startCluster(t, 3)
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	a := tc.nodes[0]
	roster := []map[string]string{{"identity": "dr-lee", "role": "facilitator"}}
	for _, m := range []string{"ann", "ben", "cat", "dan", "eve", "fay"} {
		roster = append(roster, map[string]string{"identity": m, "role": "member"})
	}
	if resp, body := tc.admin(t, a, http.MethodPost, "/admin/rooms", map[string]any{"name": "circle", "kind": "closed",
		"knock": true, "roster": roster}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("create the room: %d %s", resp.StatusCode, body)
	}
	joinVia(t, ctx, a, "filler", "guest", "")
	lee := joinVia(t, ctx, tc.nodes[1], "circle", "dr-lee", room.RoleFacilitator)
	members := map[string]*client.Client{}
	for i, name := range []string{"ann", "ben", "cat", "dan"} {
		c, first := enterVia(t, ctx, tc.nodes[i%3], "circle", name)
		if first.Type != "waiting" {
			t.Fatalf("%s: %s, want the waiting room (knock)", name, first.Raw)
		}
		members[name] = c
	}
	if err := lee.Send(map[string]any{"type": "admit", "participant": "*"}); err != nil {
		t.Fatal(err)
	}
	for name, c := range members {
		if _, err := c.WaitMessage(ctx, "joined", nil); err != nil {
			t.Fatalf("%s not admitted: %v", name, err)
		}
	}
	ann, ben, cat, dan := members["ann"], members["ben"], members["cat"], members["dan"]
	// Eve knocks through the third node and is left waiting.
	eve, first := enterVia(t, ctx, tc.nodes[2], "circle", "eve")
	if first.Type != "waiting" {
		t.Fatalf("eve: %s, want the waiting room", first.Raw)
	}
	_ = eve
	ids := map[string]string{"lee": lee.ID(), "ann": ann.ID(), "ben": ben.ID(), "cat": cat.ID()}
	owner := tc.owner("circle")
	var survivors []clusterNode
	for _, nd := range tc.nodes {
		if nd.id != owner {
			survivors = append(survivors, nd)
		}
	}
	if len(survivors) != 2 {
		t.Fatalf("circle runs on %q", owner)
	}

	for _, cmd := range []map[string]any{
		{"type": "mute_participant", "participant": ann.ID(), "kind": "audio", "muted": true},
		{"type": "remove", "participant": dan.ID(), "block": true},
		{"type": "lock", "locked": true},
	} {
		if err := lee.Send(cmd); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []*client.Client{ben, cat} {
		if err := c.Send(map[string]any{"type": "raise_hand"}); err != nil {
			t.Fatal(err)
		}
		if err := lee.Wait(ctx, func() bool {
			st, ok := newestState(lee)
			return ok && slices.ContainsFunc(st.Hands, func(h protocol.Hand) bool { return h.Participant == c.ID() })
		}); err != nil {
			t.Fatalf("the hand of %s not seen: %v", c.ID(), err)
		}
	}
	want := fmt.Sprintf("hands [%s %s] muted [%s ] seated 4", ben.ID(), cat.ID(), ann.ID())
	if err := lee.Wait(ctx, func() bool { st, ok := newestState(lee); return ok && controlsOf(st) == want }); err != nil {
		st, _ := newestState(lee)
		t.Fatalf("before the kill: %s, want %s", controlsOf(st), want)
	}
	expectAudio(t, ctx, map[string]*client.Client{"lee": lee, "ann": ann, "ben": ben, "cat": cat},
		"lee<ben,cat ann<lee,ben,cat ben<lee,cat cat<lee,ben")
	// The roll and the waiting list count everyone, whichever node they
	// came in through.
	wantRoll := "ann:present ben:present cat:present dan:missing dr-lee:present eve:waiting fay:missing"
	waitRoll(t, ctx, lee, wantRoll, "before the kill")
	eveID := waitWaitingList(t, ctx, lee, "eve", "before the kill")
	// The owner has mirrored the newest state.
	st, _ := newestState(lee)
	mirrorKey := redisstore.DefaultPrefix + "room:{circle}:mirror"
	tc.waitFor(t, "the controls mirrored", func() bool {
		v, err := tc.rdb.HGet(context.Background(), mirrorKey, "version").Result()
		n, perr := strconv.ParseUint(v, 10, 64)
		return err == nil && perr == nil && n >= st.Version
	})

	var victim clusterNode
	for _, nd := range tc.nodes {
		if nd.id == owner {
			victim = nd
		}
	}
	if err := victim.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	_ = victim.cmd.Wait()
	back := comeBackAll(t, ctx, survivors, ids, "dr-lee")
	took := time.Since(killed)
	checkRestored(t, ctx, tc, back, ids, want, "after the kill")
	t.Logf("back in the session on %s %s after the kill; controls and media checked %s after it", tc.owner("circle"),
		took.Round(100*time.Millisecond), time.Since(killed).Round(100*time.Millisecond))
	if took > 20*time.Second {
		t.Errorf("members back %s after the owner's death, want within 20 s", took)
	}
	if c, first := enterVia(t, ctx, survivors[0], "circle", "dan"); first.Type != "error" || !bytes.Contains(first.Raw, []byte(`"blocked"`)) {
		t.Fatalf("Dan, blocked, joining again: %s", first.Raw)
	} else {
		c.Close()
	}
	// Eve, who was waiting, is back in her place in the waiting room, and
	// the facilitator sees her there and on the roll.
	eve, first = enterVia(t, ctx, survivors[1], "circle", "eve")
	var w protocol.Waiting
	if first.Type != "waiting" || first.Decode(&w) != nil || w.Reason != room.WaitKnock {
		t.Fatalf("Eve, waiting before, joining again: %s, want waiting (knock)", first.Raw)
	}
	if id := waitWaitingList(t, ctx, back["lee"], "eve", "after the kill"); id != eveID {
		t.Fatalf("Eve waits as %s, was %s: not in her place", id, eveID)
	}
	waitRoll(t, ctx, back["lee"], wantRoll, "after the kill")
	fay, first := enterVia(t, ctx, survivors[1], "circle", "fay")
	if first.Type != "waiting" || first.Decode(&w) != nil || w.Reason != room.WaitLocked {
		t.Fatalf("Fay, new, joining the locked room: %s", first.Raw)
	}
	fay.Close()

	// The new owner stops gracefully: it hands the room over, and the
	// last node carries it on.
	next, last := survivors[0], survivors[1]
	if tc.owner("circle") != next.id {
		next, last = last, next
	}
	if err := next.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = next.cmd.Wait()
	back = comeBackAll(t, ctx, []clusterNode{last}, ids, "dr-lee")
	checkRestored(t, ctx, tc, back, ids, want, "after the handover")
}

// enterVia joins identity (a member of the room's roster) through nd and
// returns the first answer: joined, waiting or an error.
func enterVia(t *testing.T, ctx context.Context, nd clusterNode, roomName, identity string) (*client.Client, client.Message) {
	t.Helper()
	return enterAs(t, ctx, nd, roomName, identity, room.RoleMember)
}

func enterAs(t *testing.T, ctx context.Context, nd clusterNode, roomName, identity string, role room.Role) (*client.Client, client.Message) {
	t.Helper()
	c := sendJoinVia(t, ctx, nd, roomName, identity, role)
	var first client.Message
	if err := c.Wait(ctx, func() bool {
		for _, m := range c.Messages() {
			if m.Type == "joined" || m.Type == "waiting" || m.Type == "error" {
				first = m
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("%s through %s: no answer to join: %v", identity, nd.id, err)
	}
	return c, first
}

// comeBackAll joins everyone in ids again (by name: "lee" is the
// facilitator fac, the others members of those names), through nodes in
// turn, as clients do after losing the room's node: a join refused with
// unavailable (the dead node still named) is tried again. Each must be
// back in its seat: joined (no waiting room) with the same id.
func comeBackAll(t *testing.T, ctx context.Context, nodes []clusterNode, ids map[string]string, fac string) map[string]*client.Client {
	t.Helper()
	out := map[string]*client.Client{}
	i := 0
	for name, id := range ids {
		nd := nodes[i%len(nodes)]
		i++
		identity, role := name, room.RoleMember
		if name == "lee" {
			identity, role = fac, room.RoleFacilitator
		}
		for {
			c, first := enterAs(t, ctx, nd, "circle", identity, role)
			if first.Type == "error" && bytes.Contains(first.Raw, []byte(`"unavailable"`)) {
				c.Close()
				select {
				case <-ctx.Done():
					t.Fatalf("%s through %s: still unavailable", name, nd.id)
				case <-time.After(250 * time.Millisecond):
				}
				continue
			}
			var j protocol.Joined
			if first.Type != "joined" || first.Decode(&j) != nil {
				t.Fatalf("%s through %s: %s, want joined (back in the seat, no waiting room)", name, nd.id, first.Raw)
			}
			if j.Self.ID != id || j.Self.Role != role {
				t.Fatalf("%s through %s: back as %s (%s), want %s (%s)", name, nd.id, j.Self.ID, j.Self.Role, id, role)
			}
			out[name] = c
			break
		}
	}
	return out
}

// checkRestored checks the controls the facilitator is shown (the hands
// in order, Ann's mute, the lock) and, in packets, that nobody receives
// Ann's audio while the others hear each other.
func checkRestored(t *testing.T, ctx context.Context, tc *testCluster, back map[string]*client.Client, ids map[string]string, want, when string) {
	t.Helper()
	lee := back["lee"]
	if err := lee.Wait(ctx, func() bool { st, ok := newestState(lee); return ok && controlsOf(st) == want }); err != nil {
		st, _ := newestState(lee)
		t.Fatalf("%s: %s, want %s", when, controlsOf(st), want)
	}
	var j protocol.Joined
	if m, err := lee.WaitMessage(ctx, "joined", nil); err != nil || m.Decode(&j) != nil || !j.Room.Locked {
		t.Fatalf("%s: the facilitator is not told the room is locked: %+v %v", when, j.Room, err)
	}
	if owner := tc.owner("circle"); owner == "" {
		t.Fatalf("%s: circle has no owner", when)
	}
	expectAudio(t, ctx, back, "lee<ben,cat ann<lee,ben,cat ben<lee,cat cat<lee,ben")
}

// controlsOf sums up what the failover tests check of a room_state: the
// hand queue in order, who is muted by a facilitator, how many are seated.
func controlsOf(st protocol.RoomState) string {
	var hands []string
	for _, h := range st.Hands {
		hands = append(hands, h.Participant)
	}
	muted := ""
	for _, p := range st.Participants {
		if p.Muted.Audio {
			muted += p.ID + " "
		}
	}
	return fmt.Sprintf("hands %v muted [%s] seated %d", hands, muted, len(st.Participants))
}

// waitRoll waits until the facilitator's newest roll reads want
// ("identity:state ..." sorted by identity).
func waitRoll(t *testing.T, ctx context.Context, fac *client.Client, want, when string) {
	t.Helper()
	got := ""
	if err := fac.Wait(ctx, func() bool {
		for i := len(fac.Messages()) - 1; i >= 0; i-- {
			m := fac.Messages()[i]
			var roll protocol.Roll
			if m.Type != "roll" || m.Decode(&roll) != nil {
				continue
			}
			var es []string
			for _, e := range roll.People {
				es = append(es, e.Identity+":"+e.State)
			}
			slices.Sort(es)
			got = strings.Join(es, " ")
			return got == want
		}
		return false
	}); err != nil {
		t.Fatalf("%s: the roll reads %q, want %q", when, got, want)
	}
}

// waitWaitingList waits until the facilitator's newest waiting list is
// exactly identity, and returns that person's participant id.
func waitWaitingList(t *testing.T, ctx context.Context, fac *client.Client, identity, when string) string {
	t.Helper()
	var got []string
	id := ""
	if err := fac.Wait(ctx, func() bool {
		for i := len(fac.Messages()) - 1; i >= 0; i-- {
			m := fac.Messages()[i]
			var wl protocol.WaitingList
			if m.Type != "waiting_list" || m.Decode(&wl) != nil {
				continue
			}
			got = got[:0]
			for _, e := range wl.Entries {
				got, id = append(got, e.Identity), e.ID
			}
			return slices.Equal(got, []string{identity})
		}
		return false
	}); err != nil {
		t.Fatalf("%s: the waiting list is %v, want [%s]", when, got, identity)
	}
	return id
}
