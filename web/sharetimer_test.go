package web_test

// The end of a timed share as the facilitator runs it: one more minute
// from the strip, the choice between ending the share and letting the
// speaker finish, and what the speaker and the facilitator see when the
// time is up and the speaker may finish.

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hearth-rtc/hearth/internal/testutil/browser"
)

// timedShare is a room_state with the floor moderated and held by holder
// on a timed share, the policy's shareEnd, and change as what caused it.
func timedShare(version int, holder string, remainingMs int, shareEnd, change string, people ...string) string {
	st := roomState(version, fmt.Sprintf(`policy={"selfUnmute":false,"joinMuted":true,"floorReturn":"facilitator","shareEnd":%q};floor={"mode":"moderated","holder":%q,"timer":{"seconds":120,"endsAt":"2026-01-01T10:05:00Z","remainingMs":%d}}`,
		shareEnd, holder, remainingMs), people...)
	return strings.Replace(st, `"change":{"kind":"joined"}`, change, 1)
}

// TestShareExtendAndFinish: a facilitator adds a minute from the strip
// and chooses to let speakers finish; when a share's time is up and the
// speaker may finish, the facilitator is told and still offered the
// minute, and the speaker (here in a go-around) is told to take a moment,
// stays heard, and hears when the facilitator gives more time. Members get
// no such button. axe-core finds no serious violation on either screen.
func TestShareExtendAndFinish(t *testing.T) {
	facPeople := []string{"p_self:Dana:facilitator", "p_sam:Sam Rivera:co-facilitator", "p_lee:Lee:member:ma"}
	t.Run("facilitator", func(t *testing.T) {
		b, _, c, _ := joinAs(t, browser.Desktop, "tuesday-grief", "Dana")
		c.send(t, joinedFacilitator)
		wait(t, b, `hearth.screen === "call"`)
		c.send(t, timedShare(1, "p_lee", 90_000, "stop", `"change":{"kind":"give_floor","by":"p_self","participant":"p_lee"}`, facPeople...))
		wait(t, b, `!document.getElementById("extend-timer-button").hidden`)
		if got := eval[string](t, b, `document.getElementById("extend-timer-button").getAttribute("aria-label")`); got != "Add one minute for Lee" {
			t.Errorf("+1 min's name = %q", got)
		}
		click(t, b, "#extend-timer-button")
		if m := c.expect(t, "extend_timer"); m["seconds"] != 60.0 {
			t.Errorf("+1 min sent %v", m)
		}

		// The choice, in the panel's microphone rules.
		wait(t, b, `document.getElementById("policy-share-end").value === "stop"`)
		if err := b.Eval(t.Context(), `(() => { const s = document.getElementById("policy-share-end"); s.value = "finish"; s.dispatchEvent(new Event("change", {bubbles: true})); return true })()`, nil); err != nil {
			t.Fatal(err)
		}
		if m := c.expect(t, "set_policy"); m["shareEnd"] != "finish" || len(m) != 2 {
			t.Errorf("let the speaker finish sent %v", m)
		}
		if got := text(t, b, `label[for="policy-share-end"]`); got != "When a share's time is up" {
			t.Errorf("the choice's label = %q", got)
		}

		// The time is up and Lee may finish.
		c.send(t, timedShare(2, "p_lee", 0, "finish", `"change":{"kind":"timer_expired","participant":"p_lee"}`, facPeople...))
		wait(t, b, `document.getElementById("share-timer").textContent === "Time is up" && document.getElementById("share-timer").dataset.phase === "up"`)
		wait(t, b, `!document.getElementById("moment-info").hidden`)
		if got := text(t, b, "#moment-text"); got != "Time is up for Lee. When they have finished, move on or add a minute." {
			t.Errorf("moment = %q", got)
		}
		announced(t, b, "Time is up for Lee.")
		if eval[bool](t, b, `document.getElementById("extend-timer-button").hidden || document.getElementById("policy-share-end").value !== "finish"`) {
			t.Error("after the time is up: no +1 min, or the choice is not shown as finish")
		}
		axeOn(t, b, "share-time-up-finish-desktop")
		shot(t, b, "share-time-up-finish-desktop")
		checkClean(t, b)
	})

	t.Run("member", func(t *testing.T) {
		b, _, c, _ := joinAs(t, browser.Phone, "tuesday-grief", "Ann")
		c.send(t, joinedMember)
		wait(t, b, `hearth.screen === "call"`)
		// Ann's turn in a go-around.
		people := with(memberPeople, "p_ann", "ma")
		turn := func(st string) string {
			return strings.Replace(st, `"round":null`, `"round":{"order":"join","seconds":120,"current":"p_ann","next":"p_ben",
				"turns":[{"participant":"p_ann","status":"speaking"},{"participant":"p_ben","status":"pending"}]}`, 1)
		}
		c.send(t, turn(timedShare(1, "p_ann", 50_000, "finish", `"change":{"kind":"next_turn","by":"p_dana"}`, people...)))
		wait(t, b, `document.getElementById("share-timer").dataset.phase === "last"`)
		if !eval[bool](t, b, `document.getElementById("extend-timer-button").hidden`) {
			t.Error("a member is offered +1 min")
		}
		c.send(t, turn(timedShare(2, "p_ann", 0, "finish", `"change":{"kind":"timer_expired","participant":"p_ann"}`, people...)))
		wait(t, b, `!document.getElementById("moment-info").hidden`)
		if got := text(t, b, "#moment-text"); got != "Your time is up. Take a moment to finish." {
			t.Errorf("moment = %q", got)
		}
		announced(t, b, "Your time is up. Take a moment to finish.")
		micIs(t, b, "normal", "Mute", false) // still heard
		if got := text(t, b, "#turn-text"); got != "It's your turn in the go-around. Others can hear you." {
			t.Errorf("turn text = %q", got)
		}
		axeOn(t, b, "share-time-up-finish-phone")
		shot(t, b, "share-time-up-finish-phone")

		more := turn(timedShare(3, "p_ann", 60_000, "finish", `"change":{"kind":"extend_timer","by":"p_dana","participant":"p_ann"}`, people...))
		c.send(t, strings.Replace(more, `"seconds":120`, `"seconds":180`, 1))
		announced(t, b, "The facilitator gave you one minute more.")
		wait(t, b, `document.getElementById("share-timer").dataset.phase !== "up"`)
		checkClean(t, b)
	})
}
