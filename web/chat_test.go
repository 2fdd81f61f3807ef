package web_test

// Chat and the members' people list against the scripted signaling
// server: what the page sends, and how it shows what arrives.
// chat_e2e_test.go checks the same through the real server.

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp/kb"

	"github.com/hearth-rtc/hearth/internal/testutil/browser"
)

func chatMsg(id, from, name, to, text string) string {
	return `{"type":"chat","id":` + jsString(id) + `,"from":` + jsString(from) + `,"name":` + jsString(name) +
		`,"to":` + jsString(to) + `,"text":` + jsString(text) + `,"time":"2026-11-25T18:04:05Z"}`
}

// chatItem is the JavaScript for the list item of message id.
func chatItem(id string) string {
	return `document.querySelector('#chat-list [data-chat-id=` + jsString(id) + `]')`
}

// TestChatMember: on a phone, a member sees who is here (muted, hand up)
// and writes to the facilitators from the people list; messages show when
// the server passes them back, private ones marked, unread ones counted on
// the Chat button; a removed message loses its text; chat off leaves the
// facilitators as the only address; a refusal keeps the draft.
func TestChatMember(t *testing.T) {
	b, _, c, _ := joinAs(t, browser.Phone, "tuesday-grief", "Ann")
	c.send(t, joinedMember)
	c.send(t, roomState(1, `hands=[{"participant":"p_cai","since":"2026-01-01T10:00:00Z"}]`, with(memberPeople, "p_ben", "m")...))
	wait(t, b, `hearth.screen === "call" && hearth.roomState !== null`)
	wait(t, b, `!document.getElementById("chat-button").hidden && !document.getElementById("panel-button").hidden`)
	if !eval[bool](t, b, `document.getElementById("panel").hidden && document.getElementById("chat-panel").hidden`) {
		t.Error("a panel is open on a phone before the member asked")
	}

	// Point 9: who is here, for a member.
	click(t, b, "#panel-button")
	wait(t, b, `!document.getElementById("panel").hidden && document.querySelectorAll("#people-here [data-person]").length === 4`)
	if got := text(t, b, "#panel-title"); got != "People" {
		t.Errorf("a member's panel is titled %q", got)
	}
	if eval[bool](t, b, `document.querySelector("#people-list, #waiting-list, #mute-all, #end-session-button") !== null`) {
		t.Error("a member's panel holds facilitator controls")
	}
	if got := eval[[]string](t, b, `[...document.querySelectorAll("#people-here .person-name")].map(e => e.textContent)`); len(got) != 4 || got[0] != "Dana" || got[1] != "Ann (you)" {
		t.Errorf("people listed: %q (facilitators first, then in order)", got)
	}
	for sel, want := range map[string]string{
		`[data-person="p_dana"] .person-meta`: "Facilitator · Microphone off", // publishes nothing
		`[data-person="p_ben"] .person-meta`:  "Muted by a facilitator",
		`[data-person="p_cai"] .person-meta`:  "Hand raised, 1st in line",
	} {
		if got := text(t, b, "#people-here "+sel); !strings.Contains(got, want) {
			t.Errorf("%s = %q, want it to say %q", sel, got, want)
		}
	}
	installChecks(t, b)
	noneOf(t, "targets smaller than 44px", eval[[]string](t, b, `__checks.smallTargets(44)`))
	noneOf(t, "text under WCAG AA contrast", eval[[]string](t, b, `__checks.lowContrast(4.5)`))
	shot(t, b, "people-member-phone")

	// Someone whose microphone fails says so.
	click(t, b, "#write-facilitators")
	wait(t, b, `!document.getElementById("chat-panel").hidden && document.getElementById("panel").hidden`)
	wait(t, b, `document.activeElement.id === "chat-text" && document.getElementById("chat-to").value === "facilitators"`)
	if got := text(t, b, "#chat-kept"); got != "Messages are not kept: you see what is said while you are here." {
		t.Errorf("the panel says %q about keeping messages", got)
	}
	if !eval[bool](t, b, `!document.getElementById("chat-empty").hidden`) {
		t.Error("an empty chat does not say so")
	}
	if eval[bool](t, b, `[...document.getElementById("chat-to").options].some(o => o.value !== "room" && o.value !== "facilitators")`) {
		t.Error("a member is offered a private address other than the facilitators")
	}
	fill(t, b, "#chat-text", "My microphone is not working.")
	if err := b.Press(t.Context(), kb.Enter); err != nil {
		t.Fatal(err)
	}
	if m := c.expect(t, "chat"); m["to"] != "facilitators" || m["text"] != "My microphone is not working." {
		t.Errorf("chat = %v", m)
	}
	// Shown when the server passes it back, not before.
	if eval[int](t, b, `document.querySelectorAll("#chat-list li").length`) != 0 {
		t.Error("a message shows before the server passed it on")
	}
	c.send(t, chatMsg("m_1", "p_ann", "Ann", "facilitators", "My microphone is not working."))
	wait(t, b, chatItem("m_1")+` !== null && `+chatItem("m_1")+`.dataset.private === "true" && `+chatItem("m_1")+`.dataset.mine === "true"`)
	wait(t, b, `document.getElementById("chat-text").value === ""`)
	if got := text(t, b, `[data-chat-id="m_1"] .chat-meta`); !strings.Contains(got, "You") || !strings.Contains(got, "Private") || !strings.Contains(got, "to the facilitators") {
		t.Errorf("own private message reads %q", got)
	}

	// Unread while closed; opened, nothing unread.
	click(t, b, "#chat-close")
	wait(t, b, `document.getElementById("chat-panel").hidden && document.activeElement.id === "chat-button"`)
	c.send(t, chatMsg("m_2", "p_dana", "Dana", "room", "Welcome, everyone. <b>Links</b> like https://example.org stay text."))
	c.send(t, chatMsg("m_3", "p_dana", "Dana", "p_ann", "Thank you for telling us. We can hear you are there."))
	wait(t, b, `document.getElementById("chat-badge").textContent === "2" && !document.getElementById("chat-badge").hidden`)
	if got := eval[string](t, b, `document.getElementById("chat-button").getAttribute("aria-label")`); got != "Chat, 2 unread" {
		t.Errorf("chat button label %q", got)
	}
	announced(t, b, "New private message from Dana.")
	click(t, b, "#chat-button")
	wait(t, b, `!document.getElementById("chat-panel").hidden && document.getElementById("chat-badge").hidden`)
	if eval[bool](t, b, `document.querySelector("#chat-list b, #chat-list a") !== null`) {
		t.Error("message text became markup or a link")
	}
	if got := text(t, b, `[data-chat-id="m_3"] .chat-meta`); !strings.Contains(got, "Private") || !strings.Contains(got, "to you (the facilitators see it)") {
		t.Errorf("a private message to the member reads %q", got)
	}
	if got := eval[string](t, b, `[...document.querySelectorAll('#chat-list [data-action="remove"]')].map(b => b.closest("[data-chat-id]").dataset.chatId).join()`); got != "m_1" {
		t.Errorf("a member is offered to remove %q, want their own message only", got)
	}
	click(t, b, `[data-chat-id="m_3"] [data-action="reply"]`)
	wait(t, b, `document.getElementById("chat-to").value === "facilitators" && document.activeElement.id === "chat-text"`)

	// Their own message, removed by them.
	click(t, b, `[data-chat-id="m_1"] [data-action="remove"]`)
	if m := c.expect(t, "remove_chat"); m["id"] != "m_1" {
		t.Errorf("remove_chat = %v", m)
	}
	c.send(t, `{"type":"chat_removed","id":"m_1","by":"p_ann"}`)
	wait(t, b, chatItem("m_1")+`.dataset.removed === "true"`)
	if got := text(t, b, `[data-chat-id="m_1"] .chat-text`); got != "You removed this message." {
		t.Errorf("one's own removed message reads %q", got)
	}

	// Removed by a facilitator: the text goes, a line says so.
	c.send(t, `{"type":"chat_removed","id":"m_2","by":"p_sam"}`)
	wait(t, b, chatItem("m_2")+`.dataset.removed === "true"`)
	if got := text(t, b, `[data-chat-id="m_2"] .chat-text`); got != "A facilitator removed this message." {
		t.Errorf("removed message reads %q", got)
	}
	if eval[bool](t, b, `document.body.textContent.includes("example.org") || JSON.stringify(hearth.chat).includes("example.org")`) {
		t.Error("a removed message's text is still on the page")
	}

	// Chat off: only the facilitators.
	c.send(t, roomState(2, `policy={"selfUnmute":false,"joinMuted":true,"floorReturn":"facilitator","chat":"off"}`, memberPeople...))
	wait(t, b, `!document.getElementById("chat-off-note").hidden`)
	if got := eval[[]string](t, b, `[...document.getElementById("chat-to").options].map(o => o.value)`); len(got) != 1 || got[0] != "facilitators" {
		t.Errorf("addresses with chat off: %q", got)
	}

	// A refusal keeps the draft and says why, in the panel.
	fill(t, b, "#chat-text", "Sorry, one more thing.")
	click(t, b, "#chat-send")
	c.expect(t, "chat")
	c.send(t, `{"type":"error","code":"rate_limited","message":"You are sending messages faster than the chat allows; wait a moment and send it again.","ref":"chat"}`)
	wait(t, b, `!document.getElementById("chat-error").hidden`)
	if got := eval[string](t, b, `document.getElementById("chat-text").value`); got != "Sorry, one more thing." {
		t.Errorf("the draft after a refusal: %q", got)
	}
	if !eval[bool](t, b, `document.getElementById("notice").hidden`) {
		t.Errorf("a chat refusal also shows as a notice: %q", text(t, b, "#notice-text"))
	}
	installChecks(t, b)
	noneOf(t, "targets smaller than 44px", eval[[]string](t, b, `__checks.smallTargets(44)`))
	noneOf(t, "text under WCAG AA contrast", eval[[]string](t, b, `__checks.lowContrast(4.5)`))
	if eval[bool](t, b, `document.documentElement.scrollWidth > innerWidth`) {
		t.Error("the chat scrolls sideways on a phone")
	}
	shot(t, b, "chat-member-phone")
	if err := b.Press(t.Context(), "\x1b"); err != nil { // Escape
		t.Fatal(err)
	}
	wait(t, b, `document.getElementById("chat-panel").hidden && document.activeElement.id === "chat-button"`)
	checkClean(t, b)
}

// TestChatFacilitator: a facilitator writes to everyone, to the other
// facilitators or privately to one person, turns chat off for members,
// replies to a member's private message and removes a message.
func TestChatFacilitator(t *testing.T) {
	b, _, c, _ := joinAs(t, browser.Desktop, "tuesday-grief", "Dana")
	c.send(t, joinedFacilitator)
	c.send(t, roomState(1, "", "p_self:Dana:facilitator", "p_sam:Sam Rivera:co-facilitator", "p_lee:Lee:member"))
	wait(t, b, `hearth.screen === "call" && hearth.roomState !== null && !document.getElementById("chat-button").hidden`)
	click(t, b, "#chat-button")
	wait(t, b, `!document.getElementById("chat-panel").hidden && document.activeElement.id === "chat-text"`)
	if !eval[bool](t, b, `!document.getElementById("chat-everyone-field").hidden && document.getElementById("chat-everyone").checked`) {
		t.Error("no chat switch for the facilitator, or it is off")
	}
	if got := eval[[]string](t, b, `[...document.getElementById("chat-to").options].map(o => o.value)`); len(got) != 4 ||
		got[0] != "room" || got[1] != "facilitators" || got[2] != "p_sam" || got[3] != "p_lee" {
		t.Errorf("a facilitator's addresses: %q", got)
	}

	if err := b.Eval(t.Context(), `(() => { const s = document.getElementById("chat-to"); s.value = "p_lee"; s.dispatchEvent(new Event("change")); return true; })()`, nil); err != nil {
		t.Fatal(err)
	}
	fill(t, b, "#chat-text", "Would you like to share today?")
	click(t, b, "#chat-send")
	if m := c.expect(t, "chat"); m["to"] != "p_lee" || m["text"] != "Would you like to share today?" {
		t.Errorf("private chat = %v", m)
	}
	c.send(t, chatMsg("m_1", "p_self", "Dana", "p_lee", "Would you like to share today?"))
	wait(t, b, chatItem("m_1")+` !== null`)
	if got := text(t, b, `[data-chat-id="m_1"] .chat-meta`); !strings.Contains(got, "Private") || !strings.Contains(got, "to Lee") {
		t.Errorf("own private message reads %q", got)
	}

	click(t, b, "#chat-everyone")
	if m := c.expect(t, "set_policy"); m["chat"] != "off" {
		t.Errorf("chat off = %v", m)
	}

	c.send(t, chatMsg("m_2", "p_lee", "Lee", "facilitators", "I need to leave early today."))
	wait(t, b, chatItem("m_2")+` !== null`)
	click(t, b, `[data-chat-id="m_2"] [data-action="reply"]`)
	wait(t, b, `document.getElementById("chat-to").value === "p_lee"`)
	click(t, b, `[data-chat-id="m_2"] [data-action="remove"]`)
	if m := c.expect(t, "remove_chat"); m["id"] != "m_2" {
		t.Errorf("remove_chat = %v", m)
	}
	c.send(t, `{"type":"chat_removed","id":"m_2","by":"p_self"}`)
	wait(t, b, chatItem("m_2")+`.dataset.removed === "true"`)
	if got := text(t, b, `[data-chat-id="m_2"] .chat-text`); got != "You removed this message." {
		t.Errorf("removed message reads %q", got)
	}
	installChecks(t, b)
	noneOf(t, "text under WCAG AA contrast", eval[[]string](t, b, `__checks.lowContrast(4.5)`))
	shot(t, b, "chat-facilitator-desktop")
	checkClean(t, b)
}

// TestChatAcrossReconnect: a seat taken back after a dropped connection
// keeps the messages on screen and says that what was sent meanwhile did
// not arrive; a new seat starts with no messages.
func TestChatAcrossReconnect(t *testing.T) {
	b, fake, c, _ := joinAs(t, browser.Desktop, "open-circle", "Ann")
	c.send(t, joinedWithResume("secret-1", false))
	c.send(t, roomState(1, "", "p_ann:Ann:member", "p_bo:Bo:member"))
	wait(t, b, `hearth.screen === "call" && hearth.resumable`)
	c.send(t, chatMsg("m_1", "p_bo", "Bo", "room", "Is anyone else here early?"))
	wait(t, b, `hearth.chat.length === 1`)

	c.drop()
	c2, join := fake.accept(t)
	if join["resume"] != "secret-1" {
		t.Fatalf("resume join = %v", join)
	}
	c2.send(t, joinedWithResume("secret-2", true))
	wait(t, b, `hearth.resumes === 1 && hearth.chat.length === 2 && document.querySelector("#chat-list .chat-note") !== null`)
	if got := text(t, b, "#chat-list .chat-note"); !strings.Contains(got, "did not reach you") {
		t.Errorf("the note after a reconnection reads %q", got)
	}

	c2.drop()
	c3, _ := fake.accept(t)
	c3.send(t, `{"type":"error","code":"resume_failed","message":"That seat is no longer held; join again.","ref":"join"}`)
	c3.expect(t, "join")
	c3.send(t, joinedWithResume("secret-3", false))
	wait(t, b, `hearth.resumable && hearth.chat.length === 0 && document.querySelectorAll("#chat-list li").length === 0`)
	checkClean(t, b)
}
