package membership_test

import (
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/room"
)

// TestAgreementAtTheDoor: a member who has not accepted the room's
// agreement is asked, with its text and contact, and takes no seat; an
// acceptance of an older text is asked again; the current version lets
// them in and is recorded. Facilitators are not asked, observers are. Once
// per series: not asked at the next session; a second window takes the
// seat over without being asked. On the memory store and a real
// redis-server.
func TestAgreementAtTheDoor(t *testing.T) {
	onStores(t, func(t *testing.T, store membership.Store) {
		c := newCohort(t, store, func(cfg *room.RoomConfig) {
			cfg.Agreement = &room.Agreement{Text: "What is said here stays here.", Contact: "Call Dr Lee on 01632 960123."}
		})
		version := c.cfg.Agreement.Version()
		c.at(-10 * time.Minute)
		c.join("dr-lee", room.RoleFacilitator, membership.JoinAdmitted)

		res := c.join("rae", room.RoleMember, membership.JoinAgreement)
		if a := res.Agreement; a == nil || a.Version != version || a.Changed || a.Agreement.Text != c.cfg.Agreement.Text ||
			a.Agreement.Contact != "Call Dr Lee on 01632 960123." {
			t.Fatalf("asked: %+v", res.Agreement)
		}
		if res.Room.Name != "cohort" || res.Participant.ID != "" {
			t.Fatalf("asked, with a presence or without the room: %+v", res)
		}
		sess, err := c.svc.Session(c.ctx, "cohort")
		if err != nil || len(sess.Participants) != 1 {
			t.Fatalf("someone asked took a place: %+v %v", sess.Participants, err)
		}

		// An older text's version: asked again, marked changed.
		req := c.req("rae", room.RoleMember)
		req.Agreement = "0123456789abcdef"
		if res, err := c.svc.Join(c.ctx, req); err != nil || res.Status != membership.JoinAgreement || !res.Agreement.Changed {
			t.Fatalf("stale version: %+v %v", res, err)
		}
		req.Agreement = version
		res, err = c.svc.Join(c.ctx, req)
		if err != nil || res.Status != membership.JoinAdmitted {
			t.Fatalf("accepting: %+v %v", res, err)
		}
		if st, err := c.svc.AgreementStatus(c.ctx, "cohort", "rae"); err != nil || !st.Accepted || !st.AcceptedAt.Equal(c.clk.Now()) {
			t.Fatalf("acceptance not recorded: %+v %v", st, err)
		}
		rae := res.Participant

		// An observer is asked too.
		c.join("obs", room.RoleObserver, membership.JoinAgreement)

		// The roll: the facilitator present (not asked), Rae present and
		// accepted, Kim and the observer missing.
		roll, err := c.svc.Roll(c.ctx, "cohort")
		if err != nil || roll.Agreement != room.AcceptOncePerSeries || len(roll.Entries) != 4 {
			t.Fatalf("roll: %+v %v", roll, err)
		}
		for _, e := range roll.Entries {
			want := map[string]room.RollState{"dr-lee": room.RollPresent, "rae": room.RollPresent, "kim": room.RollMissing, "obs": room.RollMissing}[e.Identity]
			if e.State != want || (e.Identity == "rae") == e.AcceptedAt.IsZero() {
				t.Errorf("roll entry %+v, want %s", e, want)
			}
		}

		// A changed text does not stop a second window taking the seat over.
		if _, err := store.UpdateRoom(c.ctx, "cohort", func(cfg *room.RoomConfig) error {
			cfg.Agreement.Text += " No recording."
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if res := c.join("rae", room.RoleMember, membership.JoinAdmitted); !res.TakeOver || res.Participant.ID != rae.ID {
			t.Fatalf("take-over: %+v", res)
		}
		if _, err := store.UpdateRoom(c.ctx, "cohort", func(cfg *room.RoomConfig) error {
			cfg.Agreement.Text = c.cfg.Agreement.Text
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := c.svc.Leave(c.ctx, "cohort", rae.ID); err != nil {
			t.Fatal(err)
		}

		// The next session: not asked again.
		c.at(7*24*time.Hour - 10*time.Minute)
		c.join("rae", room.RoleMember, membership.JoinAdmitted)
	})
}

// TestAgreementEverySession: a room that asks at every session asks again
// at the next one.
func TestAgreementEverySession(t *testing.T) {
	onStores(t, func(t *testing.T, store membership.Store) {
		c := newCohort(t, store, func(cfg *room.RoomConfig) {
			cfg.Agreement = &room.Agreement{Text: "What is said here stays here.", Every: room.AcceptEverySession}
		})
		c.at(-10 * time.Minute)
		c.join("dr-lee", room.RoleFacilitator, membership.JoinAdmitted)
		req := c.req("rae", room.RoleMember)
		req.Agreement = c.cfg.Agreement.Version()
		res, err := c.svc.Join(c.ctx, req)
		if err != nil || res.Status != membership.JoinAdmitted {
			t.Fatalf("accepting: %+v %v", res, err)
		}
		if err := c.svc.Leave(c.ctx, "cohort", res.Participant.ID); err != nil {
			t.Fatal(err)
		}
		// Later in the same session: not asked.
		c.at(30 * time.Minute)
		res = c.join("rae", room.RoleMember, membership.JoinAdmitted)
		if err := c.svc.Leave(c.ctx, "cohort", res.Participant.ID); err != nil {
			t.Fatal(err)
		}
		// The next session: asked again.
		c.at(7*24*time.Hour - 10*time.Minute)
		c.join("rae", room.RoleMember, membership.JoinAgreement)
	})
}

// TestRollOfADropInRoom: a room with neither a roster nor an agreement
// has an empty roll, whoever is here.
func TestRollOfADropInRoom(t *testing.T) {
	store := membership.NewMemStore(membership.MemStoreOptions{TTL: time.Minute})
	t.Cleanup(func() { _ = store.Close() })
	svc, err := membership.NewService(membership.ServiceConfig{Store: store, Secret: testSecret, NodeID: "node-a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Join(t.Context(), membership.JoinRequest{Room: "drop-in", Name: "Ann"}); err != nil {
		t.Fatal(err)
	}
	if roll, err := svc.Roll(t.Context(), "drop-in"); err != nil || len(roll.Entries) != 0 || roll.Agreement != "" {
		t.Fatalf("roll: %+v %v", roll, err)
	}
}
