package web_test

// The room's display name on the join card, in the waiting room and in the
// call's header, and the waiting room telling whether the facilitator is
// there.

import (
	"fmt"
	"testing"

	"github.com/hearth-rtc/hearth/internal/testutil/browser"
)

const waitingClosed = `{"type":"waiting","reason":"waiting_for_facilitator","message":"-","facilitatorPresent":%t,
 "room":{"name":"thursday-circle","displayName":"Thursday evening circle","kind":"closed","locked":false,"membersJoinMuted":false,"shareEnd":"stop"}}`

// TestRoomNameAndWaiting: the join card shows the room's name made
// readable; the waiting room shows the display name the server gives and
// says, truthfully and as it changes, whether the facilitator is here,
// without turning off the devices the person turned on to check them; the
// call's header shows the display name; back on the join card, the name
// the server gave is kept. A display name is shown as text, never markup.
func TestRoomNameAndWaiting(t *testing.T) {
	b, _, c, _ := joinAs(t, browser.Desktop, "thursday-circle", "Rae")
	if got := text(t, b, "#join-room-title"); got != "Thursday circle" {
		t.Errorf("join card shows %q, want the room's name made readable", got)
	}
	c.send(t, fmt.Sprintf(waitingClosed, false))
	wait(t, b, `hearth.screen === "waiting"`)
	if got := text(t, b, "#waiting-who"); got != "You are joining Thursday evening circle as Rae." {
		t.Errorf("waiting room says %q", got)
	}
	if got := text(t, b, "#waiting-message"); got != "The session starts when the facilitator arrives." {
		t.Errorf("waiting message = %q", got)
	}
	click(t, b, "#preview-button")
	wait(t, b, `hearth.localTracks.audio !== null`)

	c.send(t, fmt.Sprintf(waitingClosed, true))
	wait(t, b, `document.getElementById("waiting-screen").dataset.facilitator === "true"`)
	if got := text(t, b, "#waiting-message"); got != "The facilitator is here and will let you in shortly." {
		t.Errorf("waiting message with the facilitator here = %q", got)
	}
	announced(t, b, "The facilitator is here and will let you in shortly.")
	if !eval[bool](t, b, `hearth.screen === "waiting" && hearth.localTracks.audio !== null`) {
		t.Error("being told the facilitator is here left the waiting room or turned the microphone off")
	}
	axeOn(t, b, "waiting-facilitator-here-desktop")
	shot(t, b, "waiting-facilitator-here-desktop")
	c.send(t, fmt.Sprintf(waitingClosed, false))
	wait(t, b, `document.getElementById("waiting-screen").dataset.facilitator === "false"`)
	announced(t, b, "The session starts when the facilitator arrives.")

	c.send(t, `{"type":"joined","version":1,
		"room":{"name":"thursday-circle","displayName":"Thursday evening circle","kind":"closed","locked":false},
		"self":{"id":"p_rae","identity":"rae","name":"Rae","role":"member"},"participants":[],"iceServers":[]}`)
	wait(t, b, `hearth.screen === "call"`)
	if got := text(t, b, "#room-title"); got != "Thursday evening circle" {
		t.Errorf("header = %q", got)
	}
	announced(t, b, "You joined Thursday evening circle.")
	// A display name is text, never markup.
	c.send(t, `{"type":"room_updated","room":{"name":"thursday-circle","displayName":"Thursday <i>evening</i> circle","kind":"closed","locked":true}}`)
	wait(t, b, `document.getElementById("room-title").textContent === "Thursday <i>evening</i> circle"`)
	if eval[bool](t, b, `document.querySelector("#room-title i") !== null`) {
		t.Error("the display name was drawn as markup")
	}
	c.send(t, `{"type":"bye","reason":"ended"}`)
	wait(t, b, `hearth.screen === "ended"`)
	click(t, b, "#start-over-button")
	wait(t, b, `hearth.screen === "join"`)
	if got := text(t, b, "#join-room-title"); got != "Thursday <i>evening</i> circle" {
		t.Errorf("join card after the session shows %q", got)
	}
	checkClean(t, b)
}
