package membership_test

import (
	"testing"

	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/room"
)

// TestOneSeatPerPerson: a second join with the same invite takes over the
// first one's presence (same id, role and state) instead of taking a
// second seat, even when the room is locked or full; a blocked person is
// still refused, and an anonymous arrival is always someone new.
func TestOneSeatPerPerson(t *testing.T) {
	h := newHarness(t)
	h.create(room.RoomConfig{Name: "circle", Kind: room.KindClosed, Capacity: 3, Roster: []room.RosterEntry{
		{Identity: "fran", Role: room.RoleFacilitator}, {Identity: "milo", Role: room.RoleMember},
		{Identity: "sue", Role: room.RoleMember}, {Identity: "kim", Role: room.RoleMember},
	}})
	milo := membership.JoinRequest{Room: "circle", Token: h.token("circle", "milo", room.RoleMember)}

	// Waiting for the facilitator: the second window takes the waiting place.
	first := h.join(milo)
	if first.Status != membership.JoinWaiting || first.TakeOver {
		t.Fatalf("first join = %+v, want waiting", first)
	}
	second := h.join(milo)
	if !second.TakeOver || second.Participant.ID != first.Participant.ID || second.Status != membership.JoinWaiting ||
		second.Reason != room.WaitForFacilitator {
		t.Fatalf("second join = %+v, want the same waiting place taken over", second)
	}

	h.join(membership.JoinRequest{Room: "circle", Token: h.token("circle", "fran", room.RoleFacilitator)})
	if _, err := h.svc.Admit(h.ctx, "circle", first.Participant.ID); err != nil {
		t.Fatal(err)
	}
	h.join(membership.JoinRequest{Room: "circle", Token: h.token("circle", "sue", room.RoleMember)})
	// The room is full (3 seats) and locked, but milo's seat is milo's.
	if err := h.svc.Lock(h.ctx, "circle", true); err != nil {
		t.Fatal(err)
	}
	third := h.join(milo)
	if !third.TakeOver || third.Participant.ID != first.Participant.ID || third.Status != membership.JoinAdmitted ||
		third.Participant.Role != room.RoleMember {
		t.Fatalf("join while seated = %+v, want the seat taken over", third)
	}
	if len(third.Others) != 2 {
		t.Fatalf("others = %+v, want fran and sue", third.Others)
	}
	sess, err := h.svc.Session(h.ctx, "circle")
	if err != nil {
		t.Fatal(err)
	}
	if len(sess.Participants) != 3 {
		t.Fatalf("%d present, want 3 (one each)", len(sess.Participants))
	}
	// Someone else still meets the lock.
	if kim := h.join(membership.JoinRequest{Room: "circle", Token: h.token("circle", "kim", room.RoleMember)}); kim.Status != membership.JoinWaiting || kim.Reason != room.WaitLocked {
		t.Fatalf("kim = %+v, want waiting behind the lock", kim)
	}

	// Removed with block: no way back, by any window.
	if _, err := h.svc.Remove(h.ctx, "circle", first.Participant.ID, true); err != nil {
		t.Fatal(err)
	}
	h.refused(milo, room.CodeBlocked)

	// Anonymous arrivals in an open room are different people.
	a := h.join(membership.JoinRequest{Room: "drop-in", Name: "A"})
	b := h.join(membership.JoinRequest{Room: "drop-in", Name: "A"})
	if a.TakeOver || b.TakeOver || a.Participant.ID == b.Participant.ID {
		t.Fatalf("anonymous joins %+v and %+v share a seat", a.Participant, b.Participant)
	}
}

// TestOneSeatPerPersonAcrossNodes: a person present through another node
// (the room's previous owner) keeps their presence, now hosted here: same
// id, role and state, handed over (TakeOver), and the session keeps its
// lock.
func TestOneSeatPerPersonAcrossNodes(t *testing.T) {
	h := newHarness(t)
	tok := h.token("circle", "milo", room.RoleMember)
	other, err := membership.NewService(membership.ServiceConfig{Store: h.store, Secret: testSecret, NodeID: "node-b"})
	if err != nil {
		t.Fatal(err)
	}
	there, err := other.Join(h.ctx, membership.JoinRequest{Room: "circle", Token: tok})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Lock(h.ctx, "circle", true); err != nil {
		t.Fatal(err)
	}
	here := h.join(membership.JoinRequest{Room: "circle", Token: tok})
	if !here.TakeOver || here.Participant.ID != there.Participant.ID || here.Participant.Node != "node-a" ||
		here.Status != membership.JoinAdmitted {
		t.Fatalf("join here = %+v, want the presence of node-b adopted by node-a", here)
	}
	sess, err := h.svc.Session(h.ctx, "circle")
	if err != nil {
		t.Fatal(err)
	}
	if len(sess.Participants) != 1 || sess.Participants[0].ID != there.Participant.ID || sess.Participants[0].Node != "node-a" || !sess.Locked {
		t.Fatalf("session: %+v, want the one presence, on node-a, still locked", sess)
	}
	if got := h.svc.Hosted("circle"); len(got) != 1 || got[0] != there.Participant.ID {
		t.Fatalf("hosted here: %v", got)
	}
}
