package web_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/hearth-rtc/hearth/internal/testutil/browser"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/room"
)

// screenFrames is the JavaScript for the frames b decoded of participant's
// screen share.
func screenFrames(participant string) string {
	return fmt.Sprintf(`hearth.inboundStats().then(s => s.filter(x => x.screen && x.participant === %q).reduce((n, x) => n + (x.framesDecoded || 0), 0))`, participant)
}

// shownLarge waits until b shows participant's screen share large, named
// in its title, with its pictures decoded and everyone's faces still in
// sight below it.
func shownLarge(t *testing.T, b *browser.Browser, participant, title string) {
	t.Helper()
	waitLong(t, b, fmt.Sprintf(`(() => { const st = document.getElementById("screen-stage");
		return !st.hidden && st.dataset.participant === %q && st.dataset.waiting === "false" &&
			document.getElementById("stage").dataset.sharing === "true" &&
			document.getElementById("screen-title").textContent === %q })()`, participant, title))
	waitLong(t, b, screenFrames(participant)+`.then(n => n > 5)`)
	// Large: the stage's width, and more than any face; the faces: every
	// tile whole, in the window, below the share.
	ok := eval[bool](t, b, `(() => {
		const frame = document.querySelector(".screen-frame").getBoundingClientRect();
		const stage = document.getElementById("stage").getBoundingClientRect();
		const tiles = [...document.querySelectorAll("#grid .tile")];
		const area = (r) => r.width * r.height;
		return frame.width >= 0.9 * stage.width && tiles.length >= 2 &&
			tiles.every(el => area(frame) >= 1.5 * area(el.getBoundingClientRect())) &&
			tiles.every(el => { const r = el.getBoundingClientRect();
				return r.height >= 80 && r.top >= frame.bottom && r.bottom <= innerHeight && r.left >= 0 && r.right <= innerWidth; });
	})()`)
	if !ok {
		t.Errorf("the share is not large with the faces in sight: %v", eval[any](t, b, `({
			frame: document.querySelector(".screen-frame").getBoundingClientRect().toJSON(),
			stage: document.getElementById("stage").getBoundingClientRect().toJSON(),
			tiles: [...document.querySelectorAll("#grid .tile")].map(el => el.getBoundingClientRect().toJSON()),
			window: [innerWidth, innerHeight]})`))
	}
}

// axeOn checks b with axe-core, when it is installed (scripts/test does;
// under CI=true it must be).
func axeOn(t *testing.T, b *browser.Browser, name string) {
	t.Helper()
	src, err := os.ReadFile(axePath)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("axe-core is not installed: %v", err)
		}
		t.Logf("axe-core is not installed, %s is not checked: %v", name, err)
		return
	}
	axeCheck(t, b, string(src), name)
}

// TestScreenShare: a facilitator shares their screen and a member sees it
// large with the faces still in sight; a member has no Share screen button
// until a facilitator allows it, and is told who shares while one does;
// the browser's own stop bar ends a share for everyone; the facilitator
// sees the member's share large and stops it, which stops the member's
// capture; taking the permission back takes the button away.
func TestScreenShare(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	const name = "thursday-slides"
	fac := openAndJoin(t, srv, browser.Desktop, name, issueToken(t, name, "fran", "Fran", room.RoleFacilitator), "")
	mem := openAndJoin(t, srv, browser.Phone, name, issueToken(t, name, "milo", "Milo", room.RoleMember), "")
	for _, b := range []*browser.Browser{fac, mem} {
		waitLong(t, b, `hearth.screen === "call" && hearth.participants.length === 1 && hearth.state === "connected" && hearth.roomState !== null`)
	}
	facID, memID := eval[string](t, fac, `hearth.selfId`), eval[string](t, mem, `hearth.selfId`)
	risingFor(t, mem, "Milo", facID, "video", "framesDecoded")
	risingFor(t, fac, "Fran", memID, "video", "framesDecoded")

	// A member may not share until allowed: no button.
	if !eval[bool](t, mem, `document.getElementById("screen-button").hidden`) {
		t.Error("a member who was not allowed has a Share screen button")
	}

	// The facilitator shares; the member sees it large.
	click(t, fac, "#screen-button")
	waitLong(t, fac, `hearth.screenShare.state === "sharing" && !document.getElementById("screen-self").hidden &&
		document.getElementById("screen-button").getAttribute("aria-pressed") === "true"`)
	if !eval[bool](t, fac, `document.getElementById("screen-stage").hidden`) {
		t.Error("the facilitator is shown their own screen")
	}
	shownLarge(t, mem, facID, "Fran is sharing their screen")
	announced(t, mem, "Fran is sharing their screen.")
	shot(t, mem, "screen-share-phone")
	axeOn(t, mem, "screen-share-phone")
	shot(t, fac, "screen-sharing-desktop")
	axeOn(t, fac, "screen-sharing-desktop")

	// Allowed from the menu on the member's tile, the member gets the
	// button; while Fran shares, it says so and asks the browser nothing.
	click(t, fac, fmt.Sprintf(`[data-participant=%q] .tile-menu-button`, memID))
	click(t, fac, `#tile-menu [data-action="allow-screen"]`)
	waitLong(t, mem, `!document.getElementById("screen-button").hidden`)
	announced(t, mem, "A facilitator allowed you to share your screen.")
	click(t, mem, "#screen-button")
	waitLong(t, mem, `!document.getElementById("notice").hidden && document.getElementById("notice-text").textContent ===
		"Fran is sharing their screen. One screen is shared at a time; you can share when they stop."`)
	if got := eval[string](t, mem, `hearth.screenShare.state`); got != "idle" {
		t.Errorf("the member's share is %q while Fran shares", got)
	}

	// The browser's own "stop sharing" bar ends the capture: the share
	// ends for everyone.
	if err := fac.Eval(t.Context(), `(() => { window.facScreen = hearth.screenShare.track; facScreen.dispatchEvent(new Event("ended")); return true })()`, nil); err != nil {
		t.Fatal(err)
	}
	waitLong(t, mem, `document.getElementById("screen-stage").hidden && document.getElementById("stage").dataset.sharing === "false" && hearth.roomState.screenShare === null`)
	announced(t, mem, "Fran stopped sharing their screen.")
	waitLong(t, fac, `hearth.screenShare.state === "idle" && facScreen.readyState === "ended" && document.getElementById("screen-self").hidden`)

	// The member shares; the facilitator sees it large.
	click(t, mem, "#screen-button")
	waitLong(t, mem, `hearth.screenShare.state === "sharing"`)
	shownLarge(t, fac, memID, "Milo is sharing their screen")
	shot(t, fac, "screen-share-desktop")
	axeOn(t, fac, "screen-share-desktop")

	// The facilitator stops it: the member's capture stops too.
	mem.Eval(t.Context(), `(() => { window.memScreen = hearth.screenShare.track; return true })()`, nil)
	click(t, fac, "#screen-stop")
	waitLong(t, mem, `hearth.screenShare.state === "idle" && memScreen.readyState === "ended" && hearth.roomState.screenShare === null`)
	announced(t, mem, "A facilitator stopped your screen share.")
	waitLong(t, fac, `document.getElementById("screen-stage").hidden`)

	// Taking the permission back takes the button away.
	click(t, fac, fmt.Sprintf(`[data-participant=%q] .tile-menu-button`, memID))
	click(t, fac, `#tile-menu [data-action="allow-screen"]`)
	waitLong(t, mem, `document.getElementById("screen-button").hidden`)
	announced(t, mem, "You can no longer share your screen.")

	checkClean(t, fac)
	checkClean(t, mem)
}
