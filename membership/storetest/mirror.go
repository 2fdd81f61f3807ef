package storetest

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/room"
)

// The contract for the controls mirror: it belongs to the session, keeps
// the highest version, is bounded, and a node can adopt another's
// presences without ending the session.

func testMirror(t *testing.T, newStore NewStore) {
	s, ctx := newStore(t, longTTL), ctxT(t)
	mustErr(t, s.SetMirror(ctx, "r", membership.Mirror{Version: 1, Node: "n1", Data: []byte("x")}), room.ErrNotFound, "mirror without session")
	_, err := s.Mirror(ctx, "r")
	mustErr(t, err, room.ErrNotFound, "read without session")
	_, err = s.AddPresence(ctx, person("r", "p_f", "sam", room.RoleFacilitator, room.StateActive), 0)
	must(t, err, "add")
	_, err = s.Mirror(ctx, "r")
	mustErr(t, err, room.ErrNotFound, "read before any write")

	must(t, s.SetMirror(ctx, "r", membership.Mirror{Version: 5, Node: "n1", Data: []byte(`{"a":1}`)}), "write 5")
	must(t, s.SetMirror(ctx, "r", membership.Mirror{Version: 4, Node: "n2", Data: []byte(`old`)}), "write 4")
	must(t, s.SetMirror(ctx, "r", membership.Mirror{Version: 5, Node: "n2", Data: []byte(`same`)}), "write 5 again")
	m, err := s.Mirror(ctx, "r")
	must(t, err, "read")
	if m.Version != 5 || m.Node != "n1" || string(m.Data) != `{"a":1}` {
		t.Fatalf("mirror = %d %q %q, want version 5 from n1 (older and equal versions ignored)", m.Version, m.Node, m.Data)
	}
	big := bytes.Repeat([]byte{0, 0xff, '"'}, 1000)
	must(t, s.SetMirror(ctx, "r", membership.Mirror{Version: 1 << 40, Node: "n2", Data: big}), "write binary")
	m, err = s.Mirror(ctx, "r")
	must(t, err, "read binary")
	if m.Version != 1<<40 || m.Node != "n2" || !bytes.Equal(m.Data, big) {
		t.Fatalf("mirror = %d %q %d bytes, want the binary one", m.Version, m.Node, len(m.Data))
	}
	tooBig := make([]byte, membership.MaxMirrorBytes+1)
	mustErr(t, s.SetMirror(ctx, "r", membership.Mirror{Version: 1 << 41, Data: tooBig}), room.ErrInvalid, "oversized mirror")
	mustErr(t, s.SetMirror(ctx, "bad name!", membership.Mirror{Version: 1}), room.ErrInvalid, "bad room name")

	// Rooms are apart, and the mirror ends with the session.
	_, err = s.Mirror(ctx, "other")
	mustErr(t, err, room.ErrNotFound, "other room")
	_, err = s.RemovePresence(ctx, "r", "p_f")
	must(t, err, "remove the last")
	_, err = s.AddPresence(ctx, person("r", "p_g", "gil", room.RoleFacilitator, room.StateActive), 0)
	must(t, err, "a new session")
	_, err = s.Mirror(ctx, "r")
	mustErr(t, err, room.ErrNotFound, "mirror of an ended session")
	must(t, s.SetMirror(ctx, "r", membership.Mirror{Version: 1, Node: "n3", Data: []byte("fresh")}), "a new session's first")
}

// testMirrorTerm: a term started for a node opening the room outranks
// every write of an earlier term, whatever its version, and terms follow
// the clock, so that one started after a store lost its data still
// outranks the terms of before.
func testMirrorTerm(t *testing.T, newStore NewStore) {
	s, ctx := newStore(t, longTTL), ctxT(t)
	before := time.Now().Add(-time.Second).UnixMilli() // the store's clock may be a little behind
	t0, err := s.MirrorTerm(ctx, "r")
	must(t, err, "term without session")
	if t0 < uint64(before) {
		t.Fatalf("term without a session %d, want at least the clock (%d ms)", t0, before)
	}
	_, err = s.MirrorTerm(ctx, "bad name!")
	mustErr(t, err, room.ErrInvalid, "term of a bad room name")
	_, err = s.AddPresence(ctx, person("r", "p_f", "sam", room.RoleFacilitator, room.StateActive), 0)
	must(t, err, "add")
	must(t, s.SetMirror(ctx, "r", membership.Mirror{Version: 9, Node: "n1", Data: []byte("nine")}), "write 9")
	t1, err := s.MirrorTerm(ctx, "r")
	must(t, err, "term 1")
	if t1 < uint64(before) {
		t.Fatalf("term %d, want at least the clock (%d ms)", t1, before)
	}
	must(t, s.SetMirror(ctx, "r", membership.Mirror{Version: 10, Node: "n1", Data: []byte("ten")}), "write 10 of no term")
	if m, err := s.Mirror(ctx, "r"); err != nil || string(m.Data) != "nine" {
		t.Fatalf("mirror after a write of an earlier term: %q, %v; want nine", m.Data, err)
	}
	must(t, s.SetMirror(ctx, "r", membership.Mirror{Term: t1, Version: 1, Node: "n2", Data: []byte("one")}), "write 1 of term 1")
	t2, err := s.MirrorTerm(ctx, "r")
	must(t, err, "term 2")
	if t2 <= t1 {
		t.Fatalf("terms %d then %d, want them rising", t1, t2)
	}
	must(t, s.SetMirror(ctx, "r", membership.Mirror{Term: t1, Version: 50, Node: "n2", Data: []byte("fifty")}), "write 50 of term 1")
	m, err := s.Mirror(ctx, "r")
	must(t, err, "read")
	if m.Term != t1 || m.Version != 1 || m.Node != "n2" || string(m.Data) != "one" {
		t.Fatalf("mirror = term %d version %d %q %q, want term %d version 1 from n2", m.Term, m.Version, m.Node, m.Data, t1)
	}
	must(t, s.SetMirror(ctx, "r", membership.Mirror{Term: t2, Version: 0, Node: "n3", Data: []byte("zero")}), "write 0 of term 2")
	must(t, s.SetMirror(ctx, "r", membership.Mirror{Term: t2, Version: 0, Node: "n3", Data: []byte("again")}), "write 0 of term 2 again")
	m, err = s.Mirror(ctx, "r")
	must(t, err, "read")
	if m.Term != t2 || m.Version != 0 || string(m.Data) != "zero" {
		t.Fatalf("mirror = term %d version %d %q, want term %d version 0, the first written", m.Term, m.Version, m.Data, t2)
	}
}

// testYieldedSeats: seats a node gave up are kept by resume key for the
// session, taken once, bounded, and end with the session.
func testYieldedSeats(t *testing.T, newStore NewStore) {
	s, ctx := newStore(t, longTTL), ctxT(t)
	key := func(c byte) string { return strings.Repeat(string(c), 64) }
	seats := map[string]string{key('a'): "p_a", key('b'): "p_b"}
	mustErr(t, s.YieldSeats(ctx, "r", seats), room.ErrNotFound, "yield without session")
	_, err := s.AddPresence(ctx, person("r", "p_f", "sam", room.RoleFacilitator, room.StateActive), 0)
	must(t, err, "add")
	mustErr(t, s.YieldSeats(ctx, "r", map[string]string{"not a key": "p_a"}), room.ErrInvalid, "a key that is not one")
	mustErr(t, s.YieldSeats(ctx, "r", map[string]string{key('a'): ""}), room.ErrInvalid, "no id")
	mustErr(t, s.YieldSeats(ctx, "bad name!", seats), room.ErrInvalid, "bad room name")
	must(t, s.SetMirror(ctx, "r", membership.Mirror{Version: 3, Node: "n1", Data: []byte("x")}), "mirror")
	must(t, s.YieldSeats(ctx, "r", seats), "yield")
	must(t, s.YieldSeats(ctx, "r", map[string]string{key('c'): "p_c"}), "yield more")
	if m, err := s.Mirror(ctx, "r"); err != nil || m.Version != 3 || string(m.Data) != "x" {
		t.Fatalf("mirror after seats were given up: %d %q, %v", m.Version, m.Data, err)
	}
	for _, c := range []byte{'b', 'c', 'a'} {
		id, err := s.TakeYielded(ctx, "r", key(c))
		if err != nil || id != "p_"+string(c) {
			t.Fatalf("take %c: %q, %v; want p_%c", c, id, err, c)
		}
	}
	_, err = s.TakeYielded(ctx, "r", key('a'))
	mustErr(t, err, room.ErrNotFound, "taken twice")
	_, err = s.TakeYielded(ctx, "r", key('d'))
	mustErr(t, err, room.ErrNotFound, "never given up")

	many := map[string]string{}
	for i := range membership.MaxYieldedSeats {
		many[fmt.Sprintf("%064x", i)] = fmt.Sprintf("p_%d", i)
	}
	must(t, s.YieldSeats(ctx, "r", many), "yield the most")
	must(t, s.YieldSeats(ctx, "r", many), "yield the same again")
	mustErr(t, s.YieldSeats(ctx, "r", map[string]string{key('e'): "p_e"}), room.ErrInvalid, "one more than the most")

	// They end with the session.
	_, err = s.RemovePresence(ctx, "r", "p_f")
	must(t, err, "remove the last")
	_, err = s.AddPresence(ctx, person("r", "p_g", "gil", room.RoleFacilitator, room.StateActive), 0)
	must(t, err, "a new session")
	_, err = s.TakeYielded(ctx, "r", fmt.Sprintf("%064x", 0))
	mustErr(t, err, room.ErrNotFound, "a seat given up in an ended session")
}

func testMirrorExpires(t *testing.T, newStore NewStore) {
	s, ctx := newStore(t, shortTTL), ctxT(t)
	_, err := s.AddPresence(ctx, person("r", "p_a", "ann", room.RoleMember, room.StateActive), 0)
	must(t, err, "add")
	must(t, s.SetMirror(ctx, "r", membership.Mirror{Version: 1, Node: "node-1", Data: []byte("x")}), "write")
	// Nobody heartbeats (the node died): the session and its mirror go.
	waitFor(t, shortTTL+3*time.Second, "the mirror expires with the session", func() (bool, error) {
		_, err := s.Mirror(ctx, "r")
		if err == nil {
			return false, nil
		}
		return true, nil
	})
	_, err = s.Mirror(ctx, "r")
	mustErr(t, err, room.ErrNotFound, "mirror after expiry")
}

func testAdoptPresence(t *testing.T, newStore NewStore) {
	s, ctx := newStore(t, shortTTL), ctxT(t)
	_, _, err := s.AdoptPresence(ctx, "r", "p_a", "node-2")
	mustErr(t, err, room.ErrNotFound, "adopt without session")
	added := time.Now()
	ann, err := s.AddPresence(ctx, person("r", "p_a", "ann", room.RoleMember, room.StateActive), 0)
	must(t, err, "add ann")
	_, err = s.AddPresence(ctx, person("r", "p_w", "wes", room.RoleMember, room.StateWaiting), 0)
	must(t, err, "add wes")
	must(t, s.SetLocked(ctx, "r", true), "lock")
	must(t, s.SetBlocked(ctx, "r", "troll", true), "block")
	must(t, s.SetMirror(ctx, "r", membership.Mirror{Version: 3, Node: "node-1", Data: []byte("x")}), "mirror")

	got, seen, err := s.AdoptPresence(ctx, "r", "p_a", "node-2")
	must(t, err, "adopt ann")
	// Ann's presence was last refreshed when it was added (to the
	// millisecond the store keeps).
	if seen.Before(added.Add(-time.Millisecond)) || seen.After(time.Now().Add(time.Millisecond)) {
		t.Fatalf("adopted ann last seen %v, want when she was added (%v)", seen, added)
	}
	want := ann
	want.Node = "node-2"
	if got.ID != want.ID || got.Identity != want.Identity || got.Role != want.Role || got.State != want.State ||
		got.Node != "node-2" || !got.JoinedAt.Equal(want.JoinedAt) {
		t.Fatalf("adopted = %+v, want %+v", got, want)
	}
	w, _, err := s.AdoptPresence(ctx, "r", "p_w", "node-2")
	must(t, err, "adopt wes")
	if w.State != room.StateWaiting || w.Reason != room.WaitKnock {
		t.Fatalf("adopted waiting = %+v, still waiting with its reason", w)
	}
	_, _, err = s.AdoptPresence(ctx, "r", "p_nobody", "node-2")
	mustErr(t, err, room.ErrNotFound, "adopt someone absent")
	_, _, err = s.AdoptPresence(ctx, "r", "p_a", "")
	mustErr(t, err, room.ErrInvalid, "adopt for no node")

	sess, err := s.Session(ctx, "r")
	must(t, err, "session")
	p, ok := sess.Find("p_a")
	if !ok || p.Node != "node-2" || !sess.Locked || !sess.IsBlocked("troll") || len(sess.Participants) != 2 {
		t.Fatalf("session after adoption = %+v, want ann on node-2, the lock and the block kept", sess)
	}
	if _, err := s.Mirror(ctx, "r"); err != nil {
		t.Fatalf("mirror after adoption: %v", err)
	}
	// Adopting refreshes the TTL: the new node's heartbeats keep them.
	waitFor(t, shortTTL+3*time.Second, "adopted presences kept by the adopter", func() (bool, error) {
		gone, err := s.Heartbeat(ctx, "r", []string{"p_a"})
		if err != nil || len(gone) > 0 {
			return false, err
		}
		sess, err := s.Session(ctx, "r")
		return err == nil && len(sess.Participants) == 1, err
	})
}
