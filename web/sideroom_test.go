package web_test

// The side room through the real server with real media: what each
// browser shows must be what the media path does.

import (
	"fmt"
	"testing"

	"github.com/hearth-rtc/hearth/internal/testutil/browser"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/room"
)

// TestSideRoom: the co-facilitator takes Ann to a side room from her
// tile. Ben, in the group, sees Ann "With the co-facilitator" and stops
// getting her sound; Ann sees only the co-facilitator, is told the group
// cannot see or hear her, and gets nothing of Ben's; she comes back with
// one button, and sound flows both ways again.
func TestSideRoom(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	const name = "tuesday-support"
	kim := openAndJoin(t, srv, browser.Desktop, name, issueToken(t, name, "kim", "Kim", room.RoleCoFacilitator), "")
	ann := openAndJoin(t, srv, browser.Phone, name, "", "Ann")
	ben := openAndJoin(t, srv, browser.Desktop, name, "", "Ben")
	all := []*browser.Browser{kim, ann, ben}
	for _, b := range all {
		waitLong(t, b, `hearth.screen === "call" && hearth.participants.length === 2 && hearth.state === "connected" && hearth.roomState !== null`)
	}
	kimID, annID, benID := eval[string](t, kim, `hearth.selfId`), eval[string](t, ann, `hearth.selfId`), eval[string](t, ben, `hearth.selfId`)
	risingFor(t, ben, "Ben", annID, "audio", "packetsReceived")
	risingFor(t, ann, "Ann", benID, "audio", "packetsReceived")
	risingFor(t, kim, "Kim", annID, "audio", "packetsReceived")
	risingFor(t, ann, "Ann", kimID, "audio", "packetsReceived")

	// still asserts that at browser at, pub's audio stays (almost) still
	// while at clock, clockPub's audio advances by 100 packets (about two
	// seconds). Packets already on their way when the gate changed are let
	// through first: the count is taken once the clock has moved on.
	still := func(why string, at *browser.Browser, pub string, clock *browser.Browser, clockPub string) {
		t.Helper()
		pubSum, clockSum := inboundSum(pub, "audio", "packetsReceived"), inboundSum(clockPub, "audio", "packetsReceived")
		c := eval[int](t, clock, clockSum)
		waitLong(t, clock, fmt.Sprintf(`%s.then(n => n >= %d)`, clockSum, c+50))
		before, c := eval[int](t, at, pubSum), eval[int](t, clock, clockSum)
		waitLong(t, clock, fmt.Sprintf(`%s.then(n => n >= %d)`, clockSum, c+100))
		if got := eval[int](t, at, pubSum) - before; got > 8 {
			t.Errorf("%s: %d packets arrived while the clock advanced 100", why, got)
		}
	}
	heard := func(why string, at *browser.Browser, pub string) {
		t.Helper()
		sum := inboundSum(pub, "audio", "packetsReceived")
		before := eval[int](t, at, sum)
		if err := at.WaitJS(t.Context(), fmt.Sprintf(`%s.then(n => n >= %d)`, sum, before+50), mediaWait); err != nil {
			t.Fatalf("%s: %v", why, err)
		}
	}

	click(t, kim, fmt.Sprintf(`[data-participant=%q] .tile-menu-button`, annID))
	click(t, kim, `#tile-menu [data-action="side-room"]`)
	tile := func(id string) string { return fmt.Sprintf(`document.querySelector('[data-participant=%q]')`, id) }

	// The group sees where Ann is, not a departure.
	waitLong(t, ben, tile(annID)+`.dataset.sideRoom === "true" && `+tile(kimID)+`.dataset.sideRoom === "true"`)
	if got := text(t, ben, fmt.Sprintf(`[data-participant=%q] .tile-badge[data-kind="side-room"]`, annID)); got != "With the co-facilitator" {
		t.Errorf("Ben sees Ann as %q", got)
	}
	if got, want := text(t, ben, "#side-room-text"), "Ann is with the co-facilitator, Kim, in a side room."; got != want {
		t.Errorf("Ben reads %q, want %q", got, want)
	}
	if !eval[bool](t, ben, `document.getElementById("side-room-back-button").hidden`) {
		t.Error("a member in the group is offered to end the side room")
	}
	// Ann sees only Kim, and is told plainly.
	waitLong(t, ann, `document.querySelectorAll("#grid > .tile").length === 2 && `+tile(kimID)+` !== null && `+tile(benID)+` === null`)
	if got, want := text(t, ann, "#side-room-text"), "You are in a side room with Kim — the group cannot see or hear you."; got != want {
		t.Errorf("Ann reads %q, want %q", got, want)
	}
	announced(t, ann, "You are in a side room with Kim")
	if got := text(t, ann, "#side-room-back-button"); got != "Back to the group" {
		t.Errorf("Ann's button reads %q", got)
	}
	shot(t, ann, "side-room-member-phone")
	shot(t, ben, "side-room-group-desktop")
	shot(t, kim, "side-room-host-desktop")

	still("Ben gets Ann's sound", ben, annID, kim, annID)
	still("Ann gets Ben's sound", ann, benID, ann, kimID)

	// Kim's menu on Ann's tile now brings her back; Ann comes back herself.
	click(t, kim, fmt.Sprintf(`[data-participant=%q] .tile-menu-button`, annID))
	if got := text(t, kim, `#tile-menu [data-action="side-room"]`); got != "Bring Ann back to the group" {
		t.Errorf("Kim's menu offers %q", got)
	}
	click(t, kim, fmt.Sprintf(`[data-participant=%q] .tile-menu-button`, annID)) // closes it
	click(t, ann, "#side-room-back-button")
	waitLong(t, ben, `hearth.roomState.sideRoom === null && `+tile(annID)+`.dataset.sideRoom === "false"`)
	waitLong(t, ann, `document.querySelectorAll("#grid > .tile").length === 3 && document.getElementById("side-room-info").hidden`)
	announced(t, ann, "You are back with the group.")
	heard("Ben hears Ann again", ben, annID)
	heard("Ann hears Ben again", ann, benID)
	for _, b := range all {
		checkClean(t, b)
	}
}
