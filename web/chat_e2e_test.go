package web_test

import (
	"fmt"
	"testing"

	"github.com/hearth-rtc/hearth/internal/testutil/browser"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/room"
)

// TestChatBetweenBrowsers: through the real server, a member on a phone
// sees who is here in the people list, which follows the facilitator's
// microphone; writes to the facilitators from it, and the facilitator's
// browser counts it unread and shows it private; the facilitator writes to
// everyone, then removes the message, and its text leaves the member's
// page.
func TestChatBetweenBrowsers(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	const name = "friday-chat"
	if _, err := srv.App.Store().CreateRoom(t.Context(), room.RoomConfig{Name: name, Kind: room.KindOpen, Capacity: 8}); err != nil {
		t.Fatal(err)
	}
	fac := openAndJoin(t, srv, browser.Desktop, name, issueToken(t, name, "dana", "Dana", room.RoleFacilitator), "")
	waitLong(t, fac, `hearth.screen === "call" && hearth.roomState !== null`)
	member := openAndJoin(t, srv, browser.Phone, name, issueToken(t, name, "rae", "Rae", room.RoleMember), "")
	waitLong(t, member, `hearth.screen === "call" && hearth.roomState !== null && hearth.participants.length === 1`)
	facID := eval[string](t, fac, `hearth.selfId`)
	person := fmt.Sprintf(`document.querySelector('#people-here [data-person=%q]')`, facID)

	// The member's people list, live.
	click(t, member, "#panel-button")
	waitLong(t, member, `document.querySelectorAll("#people-here [data-person]").length === 2`)
	if got := text(t, member, "#people-here li .person-name"); got != "Dana" {
		t.Errorf("the member's list starts with %q, want the facilitator", got)
	}
	waitLong(t, fac, `hearth.localTracks.audio !== null`)
	waitLong(t, member, person+`.dataset.micOff === "false"`)
	click(t, fac, "#mic-button")
	waitLong(t, member, person+`.dataset.micOff === "true" && `+person+`.textContent.includes("Microphone off")`)

	// The member writes to the facilitators.
	click(t, member, "#write-facilitators")
	wait(t, member, `!document.getElementById("chat-panel").hidden && document.getElementById("chat-to").value === "facilitators"`)
	fill(t, member, "#chat-text", "Rae here: my microphone is not working.")
	click(t, member, "#chat-send")
	waitLong(t, member, `document.querySelector('#chat-list [data-mine="true"][data-private="true"]') !== null && document.getElementById("chat-text").value === ""`)
	waitLong(t, fac, `document.getElementById("chat-badge").textContent === "1" && !document.getElementById("chat-badge").hidden`)
	click(t, fac, "#chat-button")
	wait(t, fac, `[...document.querySelectorAll('#chat-list [data-private="true"] .chat-text')].some(e => e.textContent === "Rae here: my microphone is not working.")`)

	// The facilitator writes to everyone, then removes it.
	wait(t, fac, `document.getElementById("chat-to").value === "room"`)
	fill(t, fac, "#chat-text", "Thank you, Rae. Try the settings button at the top.")
	click(t, fac, "#chat-send")
	waitLong(t, member, `[...document.querySelectorAll('#chat-list [data-private="false"] .chat-text')].some(e => e.textContent === "Thank you, Rae. Try the settings button at the top.")`)
	id := eval[string](t, fac, `[...document.querySelectorAll("#chat-list li")].find(li => li.textContent.includes("Try the settings button")).dataset.chatId`)
	click(t, fac, fmt.Sprintf(`[data-chat-id=%q] [data-action="remove"]`, id))
	waitLong(t, member, chatItem(id)+`.dataset.removed === "true"`)
	if eval[bool](t, member, `document.body.textContent.includes("Try the settings button")`) {
		t.Error("the removed message's text is still on the member's page")
	}
	wait(t, fac, chatItem(id)+`.dataset.removed === "true"`)
	checkClean(t, fac)
	checkClean(t, member)
}
