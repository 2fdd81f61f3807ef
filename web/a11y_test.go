package web_test

// Accessibility checked by a tool: axe-core (from npm, installed by
// scripts/test into testdata/axe, never served) runs on every main screen
// at desktop and phone sizes; and a keyboard-only path through join, mute,
// raise hand and leave.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp/kb"

	"github.com/hearth-rtc/hearth/internal/testutil/browser"
)

const axePath = "testdata/axe/node_modules/axe-core/axe.min.js"

// withAudio gives everyone in a joined message a published microphone, so
// that the pictures show people as a real server would (the scripted
// server sends no media).
func withAudio(joined string) string {
	re := regexp.MustCompile(`("id":"(p_[a-z]+)"[^\[\]]*?"tracks":)\[\]`)
	return re.ReplaceAllString(joined, `$1[{"id":"$2-audio","kind":"audio","streamId":"$2"}]`)
}

// axeSource returns axe-core's script. Without it the test is skipped,
// or fails under CI=true.
func axeSource(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(axePath)
	if err != nil {
		msg := fmt.Sprintf("axe-core is not installed (%v): run ./scripts/test, or npm ci in web/testdata/axe", err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return string(b)
}

// axeCheck runs axe-core on the page as it is and fails the test for each
// serious or critical violation.
func axeCheck(t *testing.T, b *browser.Browser, src, screen string) {
	t.Helper()
	if !eval[bool](t, b, `typeof window.axe === "object"`) {
		// Evaluated through the debugging protocol, which the page's
		// Content-Security-Policy does not govern.
		if err := b.Eval(t.Context(), src+"\n;true", nil); err != nil {
			t.Fatalf("loading axe-core: %v", err)
		}
	}
	var raw string
	err := b.Eval(t.Context(), `axe.run(document, {
		runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
		resultTypes: ["violations"],
	}).then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
		nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5)}))))`, &raw)
	if err != nil {
		t.Fatalf("axe on %s: %v", screen, err)
	}
	var violations []struct {
		ID, Impact, Help string
		Nodes            []string
	}
	if err := json.Unmarshal([]byte(raw), &violations); err != nil {
		t.Fatal(err)
	}
	for _, v := range violations {
		line := fmt.Sprintf("%s: axe %s (%s): %s at %s", screen, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, ", "))
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Error(line)
		} else {
			t.Log(line)
		}
	}
}

// screen checks the page with axe and saves it as name-size.png: in
// $HEARTH_SCREENS_DIR when set (scripts/screens sets docs/screens), and
// with the other screenshots otherwise.
func screen(t *testing.T, b *browser.Browser, src, name, size string) {
	t.Helper()
	axeCheck(t, b, src, name+"-"+size)
	if dir := os.Getenv("HEARTH_SCREENS_DIR"); dir != "" {
		// The caret and focus ring of the moment make noise in a picture.
		if err := b.Eval(t.Context(), `document.activeElement && document.activeElement.blur && document.activeElement.blur(); true`, nil); err != nil {
			t.Fatal(err)
		}
		if err := b.Screenshot(filepath.Join(dir, name+"-"+size+".png")); err != nil {
			t.Error(err)
		}
		return
	}
	shot(t, b, "screen-"+name+"-"+size)
}

// TestScreens walks through every main screen at both sizes, as a member
// and as a facilitator, and checks each with axe-core.
func TestScreens(t *testing.T) {
	src := axeSource(t)
	for _, size := range screenSizes {
		t.Run(size.name, func(t *testing.T) {
			memberScreens(t, src, size.name, size.opts)
			facilitatorScreens(t, src, size.name, size.opts)
		})
	}
}

func memberScreens(t *testing.T, src, size string, opts browser.Options) {
	fake := newFakeSignaling(t)
	srv := serveClient(t, fake)
	b := browser.New(t, opts)
	if err := b.Navigate(t.Context(), srv.URL+"/r/tuesday-grief"); err != nil {
		t.Fatal(err)
	}
	wait(t, b, `document.body.dataset.ready === "true"`)
	fill(t, b, "#name", "Ann")
	click(t, b, "#preview-button")
	wait(t, b, `document.getElementById("preview-video").videoWidth > 0 && !document.getElementById("mic-field").hidden`)
	screen(t, b, src, "join", size)

	click(t, b, "#join-button")
	c, _ := fake.accept(t)
	c.send(t, agreementMsg)
	wait(t, b, `hearth.screen === "agreement"`)
	screen(t, b, src, "agreement", size)
	click(t, b, "#agreement-accept")
	if m := c.expect(t, "accept_agreement"); m["version"] != "9f3c2a1b7d4e8f60" {
		t.Fatalf("accepted %v", m)
	}
	c.send(t, `{"type":"waiting","reason":"waiting_for_facilitator","message":""}`)
	wait(t, b, `hearth.screen === "waiting" && hearth.localTracks.video === null`)
	screen(t, b, src, "waiting", size)

	c.send(t, withAudio(joinedMember))
	wait(t, b, `hearth.screen === "call" && hearth.localTracks.video !== null`)
	c.connectMedia(t, b)
	c.send(t, roomState(1, `hands=[{"participant":"p_cai","since":"2026-01-01T10:00:00Z"}];floor={"mode":"open","holder":"p_ben","timer":{"seconds":300,"endsAt":"2026-01-01T10:05:00Z","remainingMs":163000}}`, memberPeople...))
	wait(t, b, `document.querySelector("[data-self]").dataset.camOff === "false" && !document.getElementById("hands-info").hidden`)
	screen(t, b, src, "call-open-group", size)
	click(t, b, "#view-button")
	wait(t, b, `document.querySelector('#grid[data-view="speaker"] > .tile[data-featured="true"]') !== null`)
	screen(t, b, src, "speaker-view", size)
	click(t, b, "#view-button")
	wait(t, b, `document.getElementById("grid").dataset.view === "gallery"`)

	c.send(t, roomState(2, `floor={"mode":"moderated"}`, with(memberPeople, "p_ann", "q")...))
	wait(t, b, `document.getElementById("mic-button").dataset.mode === "floor"`)
	screen(t, b, src, "member-not-heard", size)

	c.send(t, roomState(3, `floor={"mode":"moderated","holder":"p_ann","timer":{"seconds":180,"endsAt":"2026-01-01T10:05:00Z","remainingMs":45000}}`, memberPeople...))
	wait(t, b, `document.getElementById("share-timer").dataset.phase === "last"`)
	screen(t, b, src, "share-last-minute", size)

	round := `floor={"mode":"moderated","holder":"p_ann","timer":{"seconds":120,"endsAt":"2026-01-01T10:07:00Z","remainingMs":98000}};round={"order":"join","seconds":120,"current":"p_ann","next":"p_cai","turns":[{"participant":"p_ben","status":"spoke"},{"participant":"p_ann","status":"speaking"},{"participant":"p_cai","status":"pending"}]}`
	c.send(t, roomState(4, round, memberPeople...))
	wait(t, b, `!document.getElementById("turn-actions").hidden`)
	screen(t, b, src, "round-your-turn", size)

	c.send(t, roomState(5, `aside={"host":"p_dana","member":"p_ann"}`, with(with(memberPeople, "p_ann", "mq"), "p_dana", "q")...))
	wait(t, b, `!document.getElementById("end-aside-button").hidden`)
	screen(t, b, src, "aside", size)

	c.send(t, roomState(6, "", with(memberPeople, "p_ann", "mr")...))
	wait(t, b, `document.getElementById("mic-button").dataset.mode === "cancel"`)
	screen(t, b, src, "member-asked-to-speak", size)

	c.send(t, roomState(7, `hands=[{"participant":"p_cai","since":"2026-01-01T10:00:00Z"}]`, with(memberPeople, "p_ben", "m")...))
	click(t, b, "#panel-button")
	wait(t, b, `!document.getElementById("panel").hidden && document.querySelectorAll("#people-here [data-person]").length === 4`)
	screen(t, b, src, "people", size)
	click(t, b, "#panel-close")
	c.send(t, chatMsg("m_1", "p_dana", "Dana", "room", "Welcome, everyone. We start in two minutes."))
	c.send(t, chatMsg("m_2", "p_ann", "Ann", "facilitators", "My microphone is not working."))
	c.send(t, chatMsg("m_3", "p_dana", "Dana", "p_ann", "Thank you for telling us. Try the settings button at the top."))
	wait(t, b, `document.getElementById("chat-badge").textContent === "2"`)
	click(t, b, "#chat-button")
	wait(t, b, `!document.getElementById("chat-panel").hidden && document.querySelectorAll("#chat-list li").length === 3`)
	screen(t, b, src, "chat", size)
	click(t, b, "#chat-close")

	click(t, b, "#devices-button")
	wait(t, b, `document.getElementById("devices-dialog").open && document.getElementById("preview-video").videoWidth > 0`)
	screen(t, b, src, "settings", size)
	click(t, b, "#devices-close")

	c.send(t, `{"type":"bye","reason":"ended"}`)
	wait(t, b, `hearth.screen === "ended"`)
	screen(t, b, src, "ended", size)
	checkClean(t, b)
}

func facilitatorScreens(t *testing.T, src, size string, opts browser.Options) {
	b, _, c, _ := joinAs(t, opts, "thursday-circle", "Dr Lee")
	c.send(t, withAudio(joinedDrLee))
	c.connectMedia(t, b)
	c.send(t, waitingTwo)
	c.send(t, roomState(1, `hands=[{"participant":"p_kim","since":"2026-01-01T10:00:00Z"}]`, with(drLeePeople, "p_rae", "mr")...))
	c.send(t, rollMsg)
	wait(t, b, `hearth.screen === "call" && hearth.waitingList.length === 2 && !document.getElementById("requests-info").hidden`)
	wait(t, b, `document.querySelector("[data-self]").dataset.camOff === "false"`)
	screen(t, b, src, "facilitator", size)
	if size == "phone" {
		click(t, b, "#panel-button")
		wait(t, b, `!document.getElementById("panel").hidden`)
		screen(t, b, src, "facilitator-panel", size)
		click(t, b, "#panel-close")
		wait(t, b, `document.getElementById("panel").hidden`)
	}
	if size == "desktop" {
		if err := b.Eval(t.Context(), scrollToRoll, nil); err != nil {
			t.Fatal(err)
		}
		wait(t, b, `document.querySelectorAll("#roll-list [data-roll]").length === 6`)
		screen(t, b, src, "facilitator-roll", size)
	}
	click(t, b, `[data-participant="p_rae"] .tile-menu-button`)
	wait(t, b, `!document.getElementById("tile-menu").hidden`)
	screen(t, b, src, "tile-menu", size)
	c.send(t, chatMsg("m_1", "p_rae", "Rae", "facilitators", "I may need to leave early today."))
	c.send(t, chatMsg("m_2", "p_self", "Dr Lee", "room", "Welcome. Messages here are not kept."))
	click(t, b, "#chat-button") // closes the menu too
	wait(t, b, `!document.getElementById("chat-panel").hidden && document.querySelectorAll("#chat-list li").length === 2`)
	wait(t, b, `document.getElementById("tile-menu").hidden`)
	screen(t, b, src, "chat-facilitator", size)
	checkClean(t, b)
}

// TestKeyboardOnly joins, mutes, raises a hand and leaves with the
// keyboard alone, every stop showing where focus is.
func TestKeyboardOnly(t *testing.T) {
	src := axeSource(t)
	fake := newFakeSignaling(t)
	srv := serveClient(t, fake)
	b := browser.New(t, browser.Desktop)
	if err := b.Navigate(t.Context(), srv.URL+"/r/tuesday-grief"); err != nil {
		t.Fatal(err)
	}
	wait(t, b, `document.body.dataset.ready === "true"`)
	installChecks(t, b)
	tabUntil(t, b, "#name", 4)
	if err := b.Press(t.Context(), "Ann"); err != nil {
		t.Fatal(err)
	}
	tabUntil(t, b, "#join-button", 8)
	if err := b.Press(t.Context(), kb.Enter); err != nil {
		t.Fatal(err)
	}
	c, join := fake.accept(t)
	if join["name"] != "Ann" {
		t.Errorf("join = %v", join)
	}
	c.send(t, joinedMember)
	c.send(t, roomState(1, "", memberPeople...))
	// Focus lands on the microphone once it has started.
	wait(t, b, `hearth.screen === "call" && document.activeElement.id === "mic-button"`)
	installChecks(t, b)
	if err := b.Press(t.Context(), kb.Enter); err != nil {
		t.Fatal(err)
	}
	if m := c.expect(t, "mute"); m["muted"] != true || m["kind"] != "audio" {
		t.Errorf("mute by keyboard = %v", m)
	}
	tabUntil(t, b, "#hand-button", 4)
	if err := b.Press(t.Context(), " "); err != nil {
		t.Fatal(err)
	}
	c.expect(t, "raise_hand")
	axeCheck(t, b, src, "call-keyboard")
	tabUntil(t, b, "#leave-button", 4)
	if err := b.Press(t.Context(), kb.Enter); err != nil {
		t.Fatal(err)
	}
	c.expect(t, "leave")
	c.send(t, `{"type":"bye","reason":"left"}`)
	wait(t, b, `hearth.screen === "ended" && document.activeElement.id === "ended-title"`)
	checkClean(t, b)
}

// agreementMsg is the group agreement shown before entering.
const agreementMsg = `{"type":"agreement","room":{"name":"tuesday-grief","displayName":"Tuesday grief","kind":"open"},` +
	`"text":"What is said here stays here.\n\nNo recording, no screenshots, nobody else in the room with you.\n\nIf you are in distress during the session, say so or write to the facilitator; you may leave at any time.",` +
	`"version":"9f3c2a1b7d4e8f60","every":"series","contact":"Call Dr Lee's office on 01632 960123.",` +
	`"message":"Before you join, please read the group's agreement. You enter once you accept it."}`

// rollMsg is the facilitator's roll: two of the list are not here.
const rollMsg = `{"type":"roll","agreement":"series","people":[` +
	`{"identity":"dr-lee","name":"Dr Lee","role":"facilitator","state":"present","participant":"p_self"},` +
	`{"identity":"sam","name":"Sam Rivera","role":"co-facilitator","state":"present","participant":"p_sam"},` +
	`{"identity":"rae","name":"Rae","role":"member","state":"present","participant":"p_rae","acceptedAt":"2026-01-01T09:52:00Z"},` +
	`{"identity":"kim","name":"Kim","role":"member","state":"present","participant":"p_kim","acceptedAt":"2026-01-01T09:55:00Z"},` +
	`{"identity":"lou","name":"Lou","role":"member","state":"missing","acceptedAt":"2025-12-18T09:58:00Z"},` +
	`{"identity":"jo","name":"Jo","role":"member","state":"missing"}]}`
