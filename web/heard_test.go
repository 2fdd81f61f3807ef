package web_test

// "Can I be heard?": what a member's own controls say must follow the
// server's room_state (its `audible`, the floor, rounds and mutes), and a
// timed share must warn before it ends and say when it has.

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/testutil/browser"
)

// micIs waits until the member's own microphone button is in mode with
// label, and the own tile's microphone shows off when off is true.
func micIs(t *testing.T, b *browser.Browser, mode, label string, off bool) {
	t.Helper()
	wait(t, b, fmt.Sprintf(`document.getElementById("mic-button").dataset.mode === %q &&
		document.querySelector("#mic-button .ctrl-label").textContent === %q &&
		document.querySelector("[data-self]").dataset.micOff === "%t"`, mode, label, off))
}

// TestOwnControlsFollowTheGate changes what the server forwards of a
// member's audio, and checks the member's Mute button, own tile and strip
// each time.
func TestOwnControlsFollowTheGate(t *testing.T) {
	for _, tc := range screenSizes {
		t.Run(tc.name, func(t *testing.T) {
			b, _, c, _ := joinAs(t, tc.opts, "tuesday-grief", "Ann")
			c.send(t, joinedMember)
			wait(t, b, `hearth.screen === "call"`)
			c.send(t, roomState(1, "", memberPeople...))
			micIs(t, b, "normal", "Mute", false)

			// The moderated floor with nobody holding it: only facilitators
			// are heard, and the button says so instead of a live microphone.
			c.send(t, roomState(2, `floor={"mode":"moderated"}`, with(memberPeople, "p_ann", "q")...))
			micIs(t, b, "floor", "Not heard now", true)
			if got := eval[string](t, b, `document.getElementById("mic-button").getAttribute("aria-label")`); got != "The facilitator has the floor — you can't be heard right now." {
				t.Errorf("mic button's name under the moderated floor = %q", got)
			}
			if got := text(t, b, "#turn-text"); got != "The facilitator has the floor." {
				t.Errorf("turn text = %q", got)
			}
			if got := text(t, b, "#self-text"); !strings.Contains(got, "can't be heard right now") || !strings.Contains(got, "raise your hand") {
				t.Errorf("self text = %q, want that Ann is not heard and to raise her hand", got)
			}
			shot(t, b, "heard-moderated-"+tc.name)
			// Selecting it changes nothing and says why.
			click(t, b, "#mic-button")
			wait(t, b, `!document.getElementById("notice").hidden && document.getElementById("notice-text").textContent.includes("Raise your hand")`)
			c.none(t, 300*time.Millisecond, "mute", "request_unmute")

			// Ben holds the floor in "Everyone" mode: nobody is silenced, and
			// nothing says otherwise.
			c.send(t, roomState(3, `floor={"mode":"open","holder":"p_ben"}`, memberPeople...))
			micIs(t, b, "normal", "Mute", false)
			if got := text(t, b, "#turn-text"); got != "Ben Okafor has the floor. Everyone can still be heard." {
				t.Errorf("turn text in open mode = %q", got)
			}
			wait(t, b, `document.getElementById("self-info").hidden`)

			// The same holder with the floor moderated names him.
			c.send(t, roomState(4, `floor={"mode":"moderated","holder":"p_ben"}`, with(memberPeople, "p_ann", "q")...))
			micIs(t, b, "floor", "Not heard now", true)
			wait(t, b, `document.getElementById("mic-button").getAttribute("aria-label") === "Ben Okafor has the floor — you can't be heard right now."`)

			// A go-around, Ann next.
			c.send(t, roomState(5, `floor={"mode":"moderated","holder":"p_ben"};round={"order":"join","seconds":0,"current":"p_ben","next":"p_ann","turns":[{"participant":"p_ben","status":"speaking"},{"participant":"p_ann","status":"pending"}]}`,
				with(memberPeople, "p_ann", "q")...))
			wait(t, b, `document.getElementById("mic-button").getAttribute("aria-label").includes("someone else's turn. You are next.")`)
			micIs(t, b, "floor", "Not heard now", true)
			// Her turn: heard, the button is a plain Mute again.
			c.send(t, roomState(6, `floor={"mode":"moderated","holder":"p_ann"};round={"order":"join","seconds":0,"current":"p_ann","next":"","turns":[{"participant":"p_ben","status":"spoke"},{"participant":"p_ann","status":"speaking"}]}`,
				memberPeople...))
			micIs(t, b, "normal", "Mute", false)

			// The server says she is not heard, for a reason the client has no
			// rule for: the server wins.
			c.send(t, roomState(7, "", with(memberPeople, "p_ann", "q")...))
			micIs(t, b, "floor", "Not heard now", true)

			// Her own mute while heard is the ordinary Unmute.
			c.send(t, roomState(8, "", memberPeople...))
			micIs(t, b, "normal", "Mute", false)
			click(t, b, "#mic-button")
			if m := c.expect(t, "mute"); m["muted"] != true {
				t.Errorf("mute = %v", m)
			}
			micIs(t, b, "normal", "Unmute", true)

			// A facilitator's mute in open mode: Ask to speak, with a hint
			// of which button does what.
			c.send(t, roomState(9, "", with(memberPeople, "p_ann", "ms")...))
			micIs(t, b, "ask", "Ask to speak", true)
			if got := text(t, b, "#self-text"); !strings.Contains(got, "Ask to speak") || !strings.Contains(got, "Raise hand") {
				t.Errorf("self text when muted by the facilitator = %q, want a hint for both buttons", got)
			}
			// In an aside with the facilitator she is heard by them: her tile
			// does not call her muted.
			c.send(t, roomState(10, `aside={"host":"p_dana","member":"p_ann"}`, with(with(memberPeople, "p_ann", "mq"), "p_dana", "q")...))
			wait(t, b, `!document.querySelector("[data-self]").getAttribute("aria-label").includes("muted by a facilitator")`)
			checkClean(t, b)
		})
	}
}

// TestShareWarning checks a timed share's countdown: its last minute looks
// different and is said once to the speaker, zero says the time is up, and
// the server's end of the share stays on screen for a moment.
func TestShareWarning(t *testing.T) {
	b, _, c, _ := joinAs(t, browser.Desktop, "tuesday-grief", "Ann")
	c.send(t, joinedMember)
	wait(t, b, `hearth.screen === "call"`)
	share := func(version, remainingMs int) string {
		return roomState(version, fmt.Sprintf(`floor={"mode":"moderated","holder":"p_ann","timer":{"seconds":180,"endsAt":"2026-01-01T10:05:00Z","remainingMs":%d}}`, remainingMs),
			with(memberPeople, "p_ann", "ma")...)
	}
	c.send(t, share(1, 62_000))
	wait(t, b, `/^1:0\d left$/.test(document.getElementById("share-timer").textContent)`)
	if got := eval[string](t, b, `document.getElementById("share-timer").dataset.phase`); got != "" {
		t.Errorf("phase with more than a minute left = %q", got)
	}
	before := eval[string](t, b, `getComputedStyle(document.getElementById("share-timer")).backgroundColor`)
	wait(t, b, `document.getElementById("share-timer").dataset.phase === "last"`)
	announced(t, b, "About one minute left.")
	if after := eval[string](t, b, `getComputedStyle(document.getElementById("share-timer")).backgroundColor`); after == before {
		t.Errorf("the last minute looks like the rest of the share (background %s)", after)
	}
	shot(t, b, "share-last-minute-desktop")

	// At zero, before the server moves the floor.
	c.send(t, share(2, 300))
	wait(t, b, `document.getElementById("share-timer").textContent === "Time is up" && document.getElementById("share-timer").dataset.phase === "up"`)

	// The server ends the share: the floor returns, and the strip says so.
	end := strings.Replace(roomState(3, `floor={"mode":"moderated"}`, with(memberPeople, "p_ann", "mq")...),
		`"change":{"kind":"joined"}`, `"change":{"kind":"timer_expired"}`, 1)
	c.send(t, end)
	wait(t, b, `!document.getElementById("moment-info").hidden`)
	if got := text(t, b, "#moment-text"); got != "Your time is up. Thank you for sharing." {
		t.Errorf("moment = %q", got)
	}
	announced(t, b, "Your time is up. Thank you.")
	micIs(t, b, "floor", "Not heard now", true)
	shot(t, b, "share-time-up-desktop")
	checkClean(t, b)
}

// TestRequestToSpeakSeen: a muted member's request to speak shows on their
// tile, in the strip and in the People button's count for a facilitator on
// a phone with the panel closed, and can be answered from the strip.
func TestRequestToSpeakSeen(t *testing.T) {
	b, _, c, _ := joinAs(t, browser.Phone, "tuesday-grief", "Dana")
	c.send(t, joinedFacilitator)
	c.send(t, roomState(1, "", "p_self:Dana:facilitator", "p_sam:Sam Rivera:co-facilitator", "p_lee:Lee:member:m"))
	wait(t, b, `hearth.screen === "call" && document.getElementById("panel").hidden && hearth.roomState !== null`)
	c.send(t, roomState(2, "", "p_self:Dana:facilitator", "p_sam:Sam Rivera:co-facilitator", "p_lee:Lee:member:mr"))
	wait(t, b, `document.querySelector('[data-participant="p_lee"] .tile-badge[data-kind="ask"]') !== null`)
	wait(t, b, `!document.getElementById("requests-info").hidden && document.querySelector('#requests-queue [data-request="p_lee"]') !== null`)
	if got := text(t, b, "#panel-badge"); got != "1" {
		t.Errorf("People badge = %q, want 1", got)
	}
	if got := eval[string](t, b, `document.getElementById("panel-button").getAttribute("aria-label")`); got != "People, 1 asking to speak" {
		t.Errorf("People button's name = %q", got)
	}
	announced(t, b, "Lee asks to speak.")
	shot(t, b, "request-to-speak-phone")
	click(t, b, `#requests-queue [data-request="p_lee"] [data-action="allow"]`)
	if m := c.expect(t, "mute_participant"); m["participant"] != "p_lee" || m["muted"] != false {
		t.Errorf("allow from the strip = %v", m)
	}
	click(t, b, `#requests-queue [data-request="p_lee"] [data-action="decline"]`)
	if m := c.expect(t, "decline_unmute"); m["participant"] != "p_lee" {
		t.Errorf("not now from the strip = %v", m)
	}
	c.send(t, roomState(3, "", "p_self:Dana:facilitator", "p_sam:Sam Rivera:co-facilitator", "p_lee:Lee:member:m"))
	wait(t, b, `document.getElementById("requests-info").hidden && document.getElementById("panel-badge").hidden`)
	checkClean(t, b)
}
