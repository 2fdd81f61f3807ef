package web_test

// The group agreement at the door, through the real server: what a
// member sees before entering, and what the facilitator sees of it.

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp/kb"
	"github.com/hearth-rtc/hearth/internal/testutil/browser"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/room"
)

const agreementText = "What is said here stays here.\n\nNo recording, no screenshots, nobody else in the room with you.\n\nIf you are in distress during the session, say so or write to the facilitator; you may leave at any time."

// TestAgreementAtTheDoor: in a closed room with a group agreement, the
// facilitator enters without being asked. Ann (on a phone) is shown the
// agreement, in full, with its contact, and is not in the session: the
// facilitator sees nobody and she has no peer connection. She accepts
// with the keyboard and enters, hearing the facilitator. Ben declines and
// does not enter; he is told how to reach the facilitator. The
// facilitator's panel shows who is missing and who has accepted.
func TestAgreementAtTheDoor(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	const name = "thursday-circle"
	const contact = "Call Dr Lee's office on 01632 960123."
	if _, err := srv.App.Store().CreateRoom(t.Context(), room.RoomConfig{
		Name: name, Kind: room.KindClosed, Capacity: 8,
		Roster: []room.RosterEntry{
			{Identity: "dana", Name: "Dana", Role: room.RoleFacilitator},
			{Identity: "ann", Name: "Ann", Role: room.RoleMember},
			{Identity: "ben", Name: "Ben", Role: room.RoleMember},
			{Identity: "cai", Name: "Cai", Role: room.RoleMember},
		},
		Agreement: &room.Agreement{Text: agreementText, Contact: contact},
	}); err != nil {
		t.Fatal(err)
	}
	fac := openAndJoin(t, srv, browser.Desktop, name, issueToken(t, name, "dana", "Dana", room.RoleFacilitator), "")
	waitLong(t, fac, `hearth.screen === "call" && hearth.self.role === "facilitator" && hearth.roll !== null`)
	facID := eval[string](t, fac, `hearth.selfId`)

	ann := openAndJoin(t, srv, browser.Phone, name, issueToken(t, name, "ann", "Ann", room.RoleMember), "")
	waitLong(t, ann, `hearth.screen === "agreement"`)
	if got := eval[string](t, ann, `document.getElementById("agreement-text").innerText`); strings.TrimSpace(got) != agreementText {
		t.Errorf("the agreement reads %q", got)
	}
	if got := text(t, ann, "#agreement-contact"); !strings.Contains(got, contact) {
		t.Errorf("the contact reads %q", got)
	}
	if got := eval[string](t, ann, `document.activeElement.id`); got != "agreement-title" {
		t.Errorf("focus is on %q, want the heading", got)
	}
	announced(t, ann, "please read the group's agreement")
	shot(t, ann, "agreement-phone")
	if !eval[bool](t, ann, `hearth.pc === null && !hearth.received.joined && !hearth.received.offer`) {
		t.Errorf("before accepting, Ann has a session: %v", eval[any](t, ann, `hearth.received`))
	}
	if n := eval[int](t, fac, `hearth.participants.length`); n != 0 {
		t.Errorf("the facilitator sees %d people before Ann accepted", n)
	}

	// Accepting with the keyboard: Tab reaches the button, Enter presses it.
	if err := ann.Eval(t.Context(), `document.getElementById("agreement-accept").focus(); true`, nil); err != nil {
		t.Fatal(err)
	}
	if err := ann.Press(t.Context(), kb.Enter); err != nil {
		t.Fatal(err)
	}
	waitLong(t, ann, `hearth.screen === "call" && hearth.participants.length === 1`)
	annID := eval[string](t, ann, `hearth.selfId`)
	risingFor(t, ann, "Ann", facID, "audio", "packetsReceived")

	// The facilitator's panel: Ann accepted; Ben and Cai are not here.
	waitLong(t, fac, `document.querySelector('#roll-list [data-roll="ann"]')?.dataset.accepted === "true"`)
	for id, state := range map[string]string{"dana": "present", "ann": "present", "ben": "missing", "cai": "missing"} {
		if got := eval[string](t, fac, `document.querySelector('#roll-list [data-roll="`+id+`"]').dataset.state`); got != state {
			t.Errorf("the roll shows %s as %q, want %q", id, got, state)
		}
	}
	if got, want := text(t, fac, "#roll-summary"), "2 people on the list are not here. 1 of 3 has accepted the agreement."; got != want {
		t.Errorf("the roll says %q, want %q", got, want)
	}
	if eval[bool](t, ann, `document.getElementById("roll-list") !== null || hearth.roll !== null`) {
		t.Error("a member sees the roll")
	}
	if err := fac.Eval(t.Context(), scrollToRoll, nil); err != nil {
		t.Fatal(err)
	}
	shot(t, fac, "agreement-roll-desktop")

	// Ben declines: he does not enter, and is told how to reach the
	// facilitator.
	ben := openAndJoin(t, srv, browser.Desktop, name, issueToken(t, name, "ben", "Ben", room.RoleMember), "")
	waitLong(t, ben, `hearth.screen === "agreement"`)
	shot(t, ben, "agreement-desktop")
	click(t, ben, "#agreement-decline")
	waitLong(t, ben, `hearth.screen === "ended"`)
	if got := text(t, ben, "#ended-message"); !strings.Contains(got, contact) {
		t.Errorf("after declining Ben reads %q", got)
	}
	announced(t, ben, contact)
	shot(t, ben, "agreement-declined-desktop")
	if !eval[bool](t, ben, `hearth.pc === null && !hearth.received.joined`) {
		t.Error("Ben entered after declining")
	}
	if ids := eval[[]string](t, fac, `hearth.participants.map(p => p.id)`); len(ids) != 1 || ids[0] != annID {
		t.Errorf("after Ben declined the facilitator sees %v", ids)
	}
	for _, b := range []*browser.Browser{fac, ann, ben} {
		checkClean(t, b)
	}
}

// scrollToRoll scrolls the facilitator panel to the roll, its heading
// clear of the panel's own.
const scrollToRoll = `(() => {
	const s = document.querySelector('[data-section="roll"]');
	s.scrollIntoView({block: "start"});
	let p = s.parentElement;
	while (p && p.scrollHeight <= p.clientHeight) p = p.parentElement;
	if (p) p.scrollTop -= 72;
	return true;
})()`
