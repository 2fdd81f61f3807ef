package web_test

// Handing the facilitator role to a member, through the real server.

import (
	"fmt"
	"testing"

	"github.com/hearth-rtc/hearth/internal/testutil/browser"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/room"
)

// TestHandFacilitation: the facilitator hands the role to Ann from her
// tile, after a question; Ann is told, gets the facilitator's panel and
// menus and mutes Ben from his tile; Ben sees Ann facilitating; the
// facilitator takes the role back from the strip, and Ann's panel goes.
func TestHandFacilitation(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	const name = "peer-circle"
	dana := openAndJoin(t, srv, browser.Desktop, name, issueToken(t, name, "dana", "Dana", room.RoleFacilitator), "")
	ann := openAndJoin(t, srv, browser.Desktop, name, issueToken(t, name, "ann", "Ann", room.RoleMember), "")
	ben := openAndJoin(t, srv, browser.Phone, name, "", "Ben")
	all := []*browser.Browser{dana, ann, ben}
	for _, b := range all {
		waitLong(t, b, `hearth.screen === "call" && hearth.participants.length === 2 && hearth.roomState !== null`)
	}
	annID, benID := eval[string](t, ann, `hearth.selfId`), eval[string](t, ben, `hearth.selfId`)
	tileMenu := func(id string) string { return fmt.Sprintf(`[data-participant=%q] .tile-menu-button`, id) }
	if got := text(t, ann, "#panel-title"); got != "People" {
		t.Fatalf("a member's panel is %q", got)
	}

	click(t, dana, tileMenu(annID))
	click(t, dana, `#tile-menu [data-action="facilitation"]`)
	wait(t, dana, `document.getElementById("confirm-dialog").open`)
	if got := text(t, dana, "#confirm-title"); got != "Hand the facilitator role to Ann?" {
		t.Errorf("question = %q", got)
	}
	click(t, dana, "#confirm-ok")

	announced(t, ann, "Dana handed you the facilitator role for this session.")
	waitLong(t, ann, `hearth.self.role === "facilitator" && document.getElementById("panel-title").textContent === "People and session" && document.getElementById("facilitation-text").textContent === "You are facilitating this session."`)
	if got := text(t, ann, "#facilitation-button"); got != "Give the role back" {
		t.Errorf("Ann's button reads %q", got)
	}
	waitLong(t, ben, fmt.Sprintf(`document.querySelector('[data-participant=%q] .tile-role').textContent === "Facilitator"`, annID))
	if got := text(t, ben, "#facilitation-text"); got != "Ann is facilitating this session." {
		t.Errorf("Ben reads %q", got)
	}
	if !eval[bool](t, ben, `document.getElementById("facilitation-button").hidden`) {
		t.Error("Ben is offered to take the role back")
	}
	shot(t, ann, "facilitation-member-desktop")

	// Ann mutes Ben from his tile; the facilitator's tile offers her no mute.
	click(t, ann, tileMenu(benID))
	click(t, ann, `#tile-menu [data-action="mute-audio"]`)
	waitLong(t, ben, fmt.Sprintf(`hearth.roomState.participants.find(p => p.id === %q).muted.audio === true`, benID))
	danaID := eval[string](t, dana, `hearth.selfId`)
	click(t, ann, tileMenu(danaID))
	if n := eval[int](t, ann, `document.querySelectorAll('#tile-menu [data-action="mute-audio"], #tile-menu [data-action="remove"], #tile-menu [data-action="facilitation"]').length`); n != 0 {
		t.Errorf("Ann is offered %d ways to act on the facilitator", n)
	}

	// The facilitator takes it back from the strip.
	waitLong(t, dana, `document.getElementById("facilitation-button").textContent === "Take the role back"`)
	click(t, dana, "#facilitation-button")
	announced(t, ann, "The facilitator role is back with the facilitators.")
	waitLong(t, ann, `hearth.self.role === "member" && document.getElementById("panel-title").textContent === "People" && document.getElementById("facilitation-info").hidden`)
	waitLong(t, ben, fmt.Sprintf(`document.querySelector('[data-participant=%q] .tile-role').hidden`, annID))
	for _, b := range all {
		checkClean(t, b)
	}
}

// TestPeerLedMembers: in a room set to be peer-led by its members, with
// nobody facilitating, members start a go-around, move it on and end it,
// and give the floor to a raised hand, from the session strip.
func TestPeerLedMembers(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	cfg := room.DefaultRoomConfig("open-circle")
	cfg.PeerLed = room.PeerLedMembers
	if _, err := srv.App.Store().CreateRoom(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	ann := openAndJoin(t, srv, browser.Desktop, cfg.Name, "", "Ann")
	ben := openAndJoin(t, srv, browser.Phone, cfg.Name, "", "Ben")
	for _, b := range []*browser.Browser{ann, ben} {
		waitLong(t, b, `hearth.screen === "call" && hearth.participants.length === 1 && hearth.roomState !== null && !document.getElementById("peer-info").hidden`)
	}
	annID, benID := eval[string](t, ann, `hearth.selfId`), eval[string](t, ben, `hearth.selfId`)
	if got := text(t, ann, "#peer-text"); got != "Nobody is facilitating: anyone may start a go-around or give the floor to the first raised hand." {
		t.Errorf("Ann reads %q", got)
	}
	shot(t, ben, "peer-led-phone")

	click(t, ann, "#peer-round-button")
	waitLong(t, ben, fmt.Sprintf(`hearth.roomState.round !== null && hearth.roomState.round.current === %q`, annID))
	waitLong(t, ben, `document.getElementById("peer-round-button").textContent === "End the go-around" && !document.getElementById("peer-next-button").hidden`)
	click(t, ben, "#peer-next-button")
	waitLong(t, ann, fmt.Sprintf(`hearth.roomState.round !== null && hearth.roomState.round.current === %q`, benID))
	click(t, ann, "#peer-round-button")
	waitLong(t, ben, `hearth.roomState.round === null`)

	click(t, ben, "#hand-button")
	waitLong(t, ann, `!document.getElementById("peer-floor-button").hidden`)
	click(t, ann, "#peer-floor-button")
	waitLong(t, ben, fmt.Sprintf(`hearth.roomState.floor.holder === %q`, benID))
	checkClean(t, ann)
	checkClean(t, ben)
}
