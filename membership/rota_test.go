package membership_test

import (
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/room"
)

// TestRotaAtTheDoor: in a closed cohort whose schedule carries a rota, the
// member whose turn it is enters that session as its facilitator (even
// first, and early enough to set up), and the others as members; the next
// week the rota moves on. The room's peerLed setting reaches the people
// in it. Memory and Redis.
func TestRotaAtTheDoor(t *testing.T) {
	onStores(t, func(t *testing.T, store membership.Store) {
		c := newCohort(t, store, func(cfg *room.RoomConfig) {
			cfg.Schedule.Rota = []string{"rae", "kim"}
			cfg.PeerLed = room.PeerLedMembers
		})
		if got := c.cfg.Schedule.Rota; len(got) != 2 || got[1] != "kim" {
			t.Fatalf("the store kept the rota as %v", got)
		}
		// Rae's session: she may come in as early as a facilitator and,
		// with nobody else there, is not kept waiting.
		c.at(-room.FacilitatorLead)
		rae := c.join("rae", room.RoleMember, membership.JoinAdmitted)
		if rae.Participant.Role != room.RoleFacilitator || !rae.Room.PeerLed.Members() {
			t.Fatalf("rae on her turn: %+v, room %+v", rae.Participant, rae.Room)
		}
		c.at(0)
		kim := c.join("kim", room.RoleMember, membership.JoinAdmitted)
		if kim.Participant.Role != room.RoleMember {
			t.Fatalf("kim in rae's session: %+v", kim.Participant)
		}
		if err := c.svc.Leave(c.ctx, "cohort", rae.Participant.ID); err != nil {
			t.Fatal(err)
		}
		if err := c.svc.Leave(c.ctx, "cohort", kim.Participant.ID); err != nil {
			t.Fatal(err)
		}

		// Next week it is Kim's turn, and Rae is a member again.
		c.at(7*24*time.Hour - 10*time.Minute)
		kim = c.join("kim", room.RoleMember, membership.JoinAdmitted)
		rae = c.join("rae", room.RoleMember, membership.JoinAdmitted)
		if kim.Participant.Role != room.RoleFacilitator || rae.Participant.Role != room.RoleMember {
			t.Fatalf("week 2: kim %s, rae %s", kim.Participant.Role, rae.Participant.Role)
		}
	})
}
