package room_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/hearth-rtc/hearth/room"
)

func TestDecide(t *testing.T) {
	var withPass room.RoomConfig
	if err := withPass.SetPasscode("1234"); err != nil {
		t.Fatal(err)
	}
	hash := withPass.PasscodeHash

	open := room.DefaultRoomConfig("drop-in")
	openPass := open
	openPass.PasscodeHash = hash
	openKnock := open
	openKnock.Knock = true
	openSmall := open
	openSmall.Capacity = 2
	openRefuseLock := open
	openRefuseLock.LockBehavior = room.LockRefuse

	closed := room.RoomConfig{Name: "cohort", Kind: room.KindClosed, Capacity: 3, LockBehavior: room.LockWaiting,
		Roster: []room.RosterEntry{
			{Identity: "dr-lee", Name: "Dr Lee", Role: room.RoleFacilitator},
			{Identity: "co", Name: "Co", Role: room.RoleCoFacilitator},
			{Identity: "rae", Name: "Rae", Role: room.RoleMember},
			{Identity: "obs", Name: "Obs", Role: room.RoleObserver},
		}}
	closedKnock := closed
	closedKnock.Knock = true
	closedPass := closed
	closedPass.PasscodeHash = hash

	seated := func(role room.Role, n int) []room.Participant {
		var ps []room.Participant
		for i := 0; i < n; i++ {
			ps = append(ps, room.Participant{ID: fmt.Sprintf("p_%d", i), Identity: fmt.Sprintf("x%d", i), Role: role, State: room.StateActive})
		}
		return ps
	}
	withFac := room.Session{Participants: seated(room.RoleFacilitator, 1)}
	withCoReconnecting := room.Session{Participants: []room.Participant{{ID: "p_c", Identity: "co", Role: room.RoleCoFacilitator, State: room.StateReconnecting}}}
	onlyWaitingFac := room.Session{Participants: []room.Participant{{ID: "p_f", Identity: "dr-lee", Role: room.RoleFacilitator, State: room.StateWaiting}}}
	full2 := room.Session{Participants: seated(room.RoleMember, 2)}
	full3Fac := room.Session{Participants: append(seated(room.RoleFacilitator, 1), seated(room.RoleMember, 2)...)}
	twoWaiting := room.Session{Participants: []room.Participant{
		{ID: "p_1", Identity: "w1", Role: room.RoleMember, State: room.StateWaiting},
		{ID: "p_2", Identity: "w2", Role: room.RoleMember, State: room.StateWaiting},
		{ID: "p_3", Identity: "a1", Role: room.RoleMember, State: room.StateActive},
	}}
	locked := room.Session{Locked: true, Participants: seated(room.RoleFacilitator, 1)}
	blocked := room.Session{Blocked: []string{"rae", "troll"}, Participants: seated(room.RoleFacilitator, 1)}

	anon := func(name string) room.Arrival { return room.Arrival{Name: name} }
	tok := func(id string, role room.Role) room.Arrival {
		return room.Arrival{Identity: id, Name: "N " + id, Role: role, HasToken: true}
	}
	pass := func(a room.Arrival, p string) room.Arrival { a.Passcode = p; return a }

	admit := func(role room.Role) room.Decision { return room.Decision{Outcome: room.OutcomeAdmit, Role: role} }
	wait := func(role room.Role, r room.WaitReason) room.Decision {
		return room.Decision{Outcome: room.OutcomeWait, Role: role, Reason: r}
	}
	refuse := func(c room.Code) room.Decision { return room.Decision{Outcome: room.OutcomeRefuse, Code: c} }

	cases := []struct {
		name string
		cfg  room.RoomConfig
		sess room.Session
		a    room.Arrival
		want room.Decision
	}{
		// Open rooms.
		{"open anonymous is a member", open, room.Session{}, anon("Ann"), admit(room.RoleMember)},
		{"open needs a name", open, room.Session{}, anon("  "), refuse(room.CodeBadRequest)},
		{"open token grants facilitator", open, room.Session{}, tok("sam", room.RoleFacilitator), admit(room.RoleFacilitator)},
		{"open token observer", open, room.Session{}, tok("o", room.RoleObserver), admit(room.RoleObserver)},
		{"open passcode missing", openPass, room.Session{}, anon("Ann"), refuse(room.CodeBadPasscode)},
		{"open passcode wrong", openPass, room.Session{}, pass(anon("Ann"), "0000"), refuse(room.CodeBadPasscode)},
		{"open passcode right", openPass, room.Session{}, pass(anon("Ann"), "1234"), admit(room.RoleMember)},
		{"open passcode needed with member token", openPass, room.Session{}, tok("m", room.RoleMember), refuse(room.CodeBadPasscode)},
		{"open passcode not needed by facilitator", openPass, room.Session{}, tok("f", room.RoleFacilitator), admit(room.RoleFacilitator)},
		{"open knock waits", openKnock, withFac, anon("Ann"), wait(room.RoleMember, room.WaitKnock)},
		{"open knock facilitator enters", openKnock, room.Session{}, tok("f", room.RoleCoFacilitator), admit(room.RoleCoFacilitator)},
		{"open full", openSmall, full2, anon("Ann"), refuse(room.CodeRoomFull)},
		{"open waiting ones do not count", openSmall, twoWaiting, anon("Ann"), admit(room.RoleMember)},
		{"open full but facilitator enters", openSmall, full2, tok("f", room.RoleFacilitator), admit(room.RoleFacilitator)},
		{"open full with knock waits", func() room.RoomConfig { c := openSmall; c.Knock = true; return c }(), full2, anon("Ann"), wait(room.RoleMember, room.WaitKnock)},
		{"open locked waits", open, locked, anon("Ann"), wait(room.RoleMember, room.WaitLocked)},
		{"open locked refuses", openRefuseLock, locked, anon("Ann"), refuse(room.CodeRoomLocked)},
		{"open locked facilitator enters", openRefuseLock, locked, tok("f", room.RoleFacilitator), admit(room.RoleFacilitator)},
		{"open blocked", open, blocked, tok("troll", room.RoleMember), refuse(room.CodeBlocked)},
		{"open blocked even facilitator", open, blocked, tok("troll", room.RoleFacilitator), refuse(room.CodeBlocked)},
		{"open anonymous never blocked", open, room.Session{Blocked: []string{""}}, anon("Ann"), admit(room.RoleMember)},

		// Closed rooms.
		{"closed without token", closed, withFac, anon("Ann"), refuse(room.CodeNotOnRoster)},
		{"closed not on roster", closed, withFac, tok("stranger", room.RoleMember), refuse(room.CodeNotOnRoster)},
		{"closed member before facilitator waits", closed, room.Session{}, tok("rae", room.RoleMember), wait(room.RoleMember, room.WaitForFacilitator)},
		{"closed facilitator waiting does not count", closed, onlyWaitingFac, tok("rae", room.RoleMember), wait(room.RoleMember, room.WaitForFacilitator)},
		{"closed observer before facilitator waits", closed, room.Session{}, tok("obs", room.RoleObserver), wait(room.RoleObserver, room.WaitForFacilitator)},
		{"closed member with facilitator enters", closed, withFac, tok("rae", room.RoleMember), admit(room.RoleMember)},
		{"closed reconnecting co-facilitator counts", closed, withCoReconnecting, tok("rae", room.RoleMember), admit(room.RoleMember)},
		{"closed facilitator starts the session", closed, room.Session{}, tok("dr-lee", room.RoleFacilitator), admit(room.RoleFacilitator)},
		{"closed co-facilitator starts the session", closed, room.Session{}, tok("co", room.RoleCoFacilitator), admit(room.RoleCoFacilitator)},
		{"closed token cannot raise role", closed, room.Session{}, tok("rae", room.RoleFacilitator), wait(room.RoleMember, room.WaitForFacilitator)},
		{"closed token cannot raise observer", closed, withFac, tok("obs", room.RoleMember), admit(room.RoleObserver)},
		{"closed token may lower role", closed, room.Session{}, tok("dr-lee", room.RoleObserver), wait(room.RoleObserver, room.WaitForFacilitator)},
		{"closed knock waits even with facilitator", closedKnock, withFac, tok("rae", room.RoleMember), wait(room.RoleMember, room.WaitKnock)},
		{"closed full", closed, full3Fac, tok("rae", room.RoleMember), refuse(room.CodeRoomFull)},
		{"closed locked waits", closed, locked, tok("rae", room.RoleMember), wait(room.RoleMember, room.WaitLocked)},
		{"closed blocked", closed, blocked, tok("rae", room.RoleMember), refuse(room.CodeBlocked)},
		{"closed passcode", closedPass, withFac, tok("rae", room.RoleMember), refuse(room.CodeBadPasscode)},
		{"closed passcode given", closedPass, withFac, pass(tok("rae", room.RoleMember), "1234"), admit(room.RoleMember)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			full := room.Decide(c.cfg, c.sess, c.a)
			got := full
			got.Name, got.Message = "", "" // checked below
			if got != c.want {
				t.Fatalf("Decide = %+v, want %+v", got, c.want)
			}
			if full.Outcome == room.OutcomeRefuse {
				var re *room.RefusedError
				if full.Message == "" || !errors.As(full.Err(), &re) || re.Code != c.want.Code {
					t.Fatalf("refusal without message or error: %+v", full)
				}
			} else if full.Name == "" || full.Err() != nil {
				t.Fatalf("admission without a name: %+v", full)
			}
		})
	}
}

func TestDecideUsesRosterName(t *testing.T) {
	cfg := room.RoomConfig{Name: "c", Kind: room.KindClosed, Capacity: 5,
		Roster: []room.RosterEntry{{Identity: "rae", Name: "Rae R.", Role: room.RoleFacilitator}}}
	d := room.Decide(cfg, room.Session{}, room.Arrival{Identity: "rae", Role: room.RoleFacilitator, HasToken: true})
	if d.Outcome != room.OutcomeAdmit || d.Name != "Rae R." {
		t.Fatalf("Decide = %+v", d)
	}
}
