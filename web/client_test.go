package web_test

// These tests drive the client through a scripted signaling server that
// sends no media, to check the screens and the messages the client sends.
// e2e_test.go runs it against the real server, with media.

import (
	"strings"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/testutil/browser"
)

// joinAs opens the client at /r/{room}, fills in the name and joins, and
// returns the server's side of the socket with the join message.
func joinAs(t *testing.T, opts browser.Options, room, name string) (*browser.Browser, *fakeSignaling, *fakeConn, map[string]any) {
	t.Helper()
	fake := newFakeSignaling(t)
	srv := serveClient(t, fake)
	b := browser.New(t, opts)
	if err := b.Navigate(t.Context(), srv.URL+"/r/"+room); err != nil {
		t.Fatal(err)
	}
	wait(t, b, `document.body.dataset.ready === "true"`)
	fill(t, b, "#name", name)
	click(t, b, "#join-button")
	c, join := fake.accept(t)
	return b, fake, c, join
}

const joinedFacilitator = `{"type":"joined","version":1,
 "room":{"name":"tuesday-grief","kind":"closed","locked":false},
 "self":{"id":"p_self","identity":"dana","name":"Dana","role":"facilitator"},
 "participants":[
  {"id":"p_sam","identity":"sam","name":"Sam Rivera","role":"co-facilitator","muted":{"audio":true,"video":true},"tracks":[]},
  {"id":"p_lee","identity":"lee","name":"Lee","role":"member","muted":{"audio":false,"video":false},
   "tracks":[{"id":"p_lee-audio-1","kind":"audio","streamId":"p_lee"}]}],
 "iceServers":[]}`

const waitingTwo = `{"type":"waiting_list","entries":[
 {"id":"p_rae","identity":"client-04","name":"Rae","since":"2026-01-01T10:00:00Z"},
 {"id":"p_kim","identity":"client-05","name":"Kim","since":"2026-01-01T10:01:00Z"}]}`

// TestWaitingThenFacilitator walks through the waiting room into a call as
// facilitator, and uses the panel.
func TestWaitingThenFacilitator(t *testing.T) {
	b, _, c, join := joinAs(t, browser.Desktop, "tuesday-grief", "Dana")
	if join["room"] != "tuesday-grief" || join["name"] != "Dana" || join["version"] != 1.0 {
		t.Errorf("join = %v", join)
	}
	if _, ok := join["token"]; ok {
		t.Errorf("join has a token without an invite: %v", join)
	}

	// Until the server answers, the form cannot be sent twice.
	if !eval[bool](t, b, `document.getElementById("join-button").disabled && document.getElementById("join-button").textContent === "Joining…"`) {
		t.Error("the join button is not disabled while joining")
	}
	c.send(t, `{"type":"waiting","reason":"waiting_for_facilitator","message":"The session starts when the facilitator arrives."}`)
	wait(t, b, `hearth.screen === "waiting" && hearth.state === "waiting"`)
	if got := eval[string](t, b, `document.getElementById("waiting-message").textContent`); got != "Waiting for the facilitator to let you in." {
		t.Errorf("waiting message = %q", got)
	}
	if got := text(t, b, "#waiting-who"); got != "You are joining Tuesday grief as Dana." {
		t.Errorf("waiting room says %q, want the room and the name", got)
	}
	// Nobody sees or hears a waiting person.
	wait(t, b, `hearth.localTracks.audio === null && hearth.localTracks.video === null`)
	shot(t, b, "waiting-desktop")

	c.send(t, joinedFacilitator)
	wait(t, b, `hearth.screen === "call" && hearth.selfId === "p_self"`)
	wait(t, b, `document.querySelectorAll("#grid .tile").length === 3`)
	wait(t, b, `document.querySelector("[data-self]").dataset.camOff === "false"`) // once the camera has a picture
	tiles := eval[[]struct {
		ID, Name, Mic, Cam, Self string
	}](t, b, `[...document.querySelectorAll("#grid .tile")].map(e => ({ID: e.dataset.participant,
		Name: e.querySelector(".tile-name").textContent, Mic: e.dataset.micOff, Cam: e.dataset.camOff, Self: e.dataset.self || ""}))`)
	want := []struct{ ID, Name, Mic, Cam, Self string }{
		{"p_self", "Dana (you)", "false", "false", "true"},
		{"p_sam", "Sam Rivera", "true", "true", ""},
		{"p_lee", "Lee", "false", "true", ""}, // no video received from Lee
	}
	for i, w := range want {
		if i >= len(tiles) || tiles[i] != w {
			t.Errorf("tiles = %+v, want %+v", tiles, want)
			break
		}
	}
	if got := eval[string](t, b, `document.querySelector('[data-participant="p_sam"] .tile-initials').textContent`); got != "SR" {
		t.Errorf("initials for Sam Rivera = %q", got)
	}
	if !eval[bool](t, b, `!document.querySelector('[data-participant="p_sam"] .tile-mic').hidden`) {
		t.Error("Sam's muted microphone is not shown")
	}
	if !eval[bool](t, b, `getComputedStyle(document.querySelector('[data-self] video')).transform.startsWith("matrix(-1")`) {
		t.Error("own video is not mirrored")
	}
	if !eval[bool](t, b, `document.querySelector('[data-self] video').muted`) {
		t.Error("own video is not muted")
	}

	// The panel, open on a wide screen.
	wait(t, b, `!document.getElementById("panel").hidden`)
	wait(t, b, `document.querySelectorAll("#people-list [data-person]").length === 3`)
	if got := eval[string](t, b, `document.querySelector('[data-person="p_sam"] .person-meta').textContent`); !strings.Contains(got, "Co-facilitator") {
		t.Errorf("Sam's role in the panel = %q", got)
	}

	c.send(t, waitingTwo)
	wait(t, b, `document.querySelectorAll("#waiting-list [data-waiting]").length === 2`)
	wait(t, b, `document.getElementById("announcer").textContent.includes("2 people are waiting to join.")`)
	if got := eval[string](t, b, `document.getElementById("panel-badge").textContent`); got != "2" {
		t.Errorf("badge = %q, want 2", got)
	}
	installChecks(t, b)
	noneOf(t, "controls without an accessible name", eval[[]string](t, b, `__checks.unnamed()`))
	noneOf(t, "text under WCAG AA contrast", eval[[]string](t, b, `__checks.lowContrast(4.5)`))
	noneOf(t, "targets smaller than 44px", eval[[]string](t, b, `__checks.smallTargets(44)`))
	shot(t, b, "call-facilitator-desktop")

	click(t, b, `[data-waiting="p_rae"] [data-action="admit"]`)
	if m := c.expect(t, "admit"); m["participant"] != "p_rae" {
		t.Errorf("admit = %v", m)
	}
	click(t, b, `[data-waiting="p_kim"] [data-action="deny"]`)
	if m := c.expect(t, "deny"); m["participant"] != "p_kim" {
		t.Errorf("deny = %v", m)
	}
	click(t, b, "#admit-all")
	if m := c.expect(t, "admit"); m["participant"] != "*" {
		t.Errorf("admit all = %v", m)
	}
	click(t, b, "#deny-all")
	if m := c.expect(t, "deny"); m["participant"] != "*" {
		t.Errorf("deny all = %v", m)
	}
	// The server answers with a shorter list; focus stays in the list.
	c.send(t, `{"type":"waiting_list","entries":[{"id":"p_kim","identity":"client-05","name":"Kim","since":"2026-01-01T10:01:00Z"}]}`)
	wait(t, b, `document.querySelectorAll("#waiting-list [data-waiting]").length === 1`)

	click(t, b, "#lock-button")
	if m := c.expect(t, "lock"); m["locked"] != true {
		t.Errorf("lock = %v", m)
	}
	wait(t, b, `document.getElementById("lock-button").getAttribute("aria-pressed") === "true" && hearth.room.locked`)
	// A refusal turns the toggle back.
	c.send(t, `{"type":"error","code":"forbidden","message":"not allowed","ref":"lock"}`)
	wait(t, b, `document.getElementById("lock-button").getAttribute("aria-pressed") === "false"`)
	wait(t, b, `!document.getElementById("notice").hidden && document.getElementById("notice-text").textContent === "Only facilitators can do that."`)
	// A store outage answering a command is a notice: the call goes on
	// (the messages below still arrive and are drawn).
	c.send(t, `{"type":"error","code":"unavailable","message":"the service is temporarily unavailable, please try again shortly","ref":"admit"}`)
	wait(t, b, `document.getElementById("notice-text").textContent.startsWith("Hearth could not do that just now")`)
	if !eval[bool](t, b, `hearth.screen === "call" && hearth.state !== "ended"`) {
		t.Error("an unavailable answer to admit ended the call")
	}

	// Arrivals and departures are announced and drawn.
	c.send(t, `{"type":"participant_joined","participant":{"id":"p_rae","identity":"client-04","name":"Rae","role":"member","muted":{"audio":false,"video":false},"tracks":[]}}`)
	wait(t, b, `document.getElementById("announcer").textContent.includes("Rae joined.")`)
	wait(t, b, `document.querySelector('[data-participant="p_rae"]') !== null`)
	c.send(t, `{"type":"participant_updated","participant":{"id":"p_lee","identity":"lee","name":"Lee","role":"member","muted":{"audio":true,"video":false}}}`)
	wait(t, b, `document.querySelector('[data-participant="p_lee"]').dataset.micOff === "true"`)
	c.send(t, `{"type":"participant_left","participant":"p_sam","reason":"left"}`)
	wait(t, b, `document.getElementById("announcer").textContent.includes("Sam Rivera left.")`)
	wait(t, b, `document.querySelector('[data-participant="p_sam"]') === null && hearth.participants.length === 2`)

	checkClean(t, b)
}

// TestMuteAndLeave checks the microphone and camera buttons and leaving.
func TestMuteAndLeave(t *testing.T) {
	b, _, c, _ := joinAs(t, browser.Phone, "open-circle", "Ann")
	c.send(t, `{"type":"joined","version":1,"room":{"name":"open-circle","kind":"open","locked":false},
		"self":{"id":"p_ann","identity":"anon-1","name":"Ann","role":"member"},"participants":[],"iceServers":[]}`)
	wait(t, b, `hearth.screen === "call"`)
	wait(t, b, `hearth.localTracks.audio !== null && hearth.localTracks.video !== null`)
	if !eval[bool](t, b, `!document.getElementById("panel-button").hidden && document.getElementById("panel").hidden && document.querySelector('#panel-sections [data-section]:not([data-section="people-here"])') === null`) {
		t.Error("a member's People panel is not closed at first on a phone, or holds facilitator controls")
	}
	if !eval[bool](t, b, `!document.getElementById("alone-message").hidden`) {
		t.Error("no message when alone")
	}
	if got := eval[string](t, b, `document.getElementById("status").dataset.state`); got != "connecting" {
		t.Errorf("status = %q before media connects, want connecting", got)
	}

	click(t, b, "#mic-button")
	if m := c.expect(t, "mute"); m["kind"] != "audio" || m["muted"] != true {
		t.Errorf("mute = %v", m)
	}
	wait(t, b, `hearth.localTracks.audio.enabled === false && document.getElementById("mic-button").dataset.muted === "true"`)
	wait(t, b, `document.getElementById("mic-button").getAttribute("aria-label") === "Unmute microphone"`)
	wait(t, b, `document.querySelector("[data-self]").dataset.micOff === "true"`)

	if err := b.Eval(t.Context(), `window.__camera = hearth.localTracks.video; true`, nil); err != nil {
		t.Fatal(err)
	}
	click(t, b, "#cam-button")
	if m := c.expect(t, "mute"); m["kind"] != "video" || m["muted"] != true {
		t.Errorf("mute = %v", m)
	}
	// The camera is let go, not just paused.
	wait(t, b, `hearth.localTracks.video === null && window.__camera.readyState === "ended" && document.querySelector("[data-self]").dataset.camOff === "true"`)
	installChecks(t, b)
	noneOf(t, "targets smaller than 44px", eval[[]string](t, b, `__checks.smallTargets(44)`))
	noneOf(t, "text under WCAG AA contrast", eval[[]string](t, b, `__checks.lowContrast(4.5)`))
	if eval[bool](t, b, `document.documentElement.scrollWidth > innerWidth`) {
		t.Error("the call screen scrolls sideways on a phone")
	}
	shot(t, b, "call-muted-phone")

	click(t, b, "#mic-button")
	if m := c.expect(t, "mute"); m["kind"] != "audio" || m["muted"] != false {
		t.Errorf("unmute = %v", m)
	}
	wait(t, b, `hearth.localTracks.audio.enabled === true`)

	click(t, b, "#leave-button")
	c.expect(t, "leave")
	c.send(t, `{"type":"bye","reason":"left"}`)
	wait(t, b, `hearth.screen === "ended" && hearth.state === "ended"`)
	if got := eval[string](t, b, `document.getElementById("ended-title").textContent`); got != "You left the session" {
		t.Errorf("ended title = %q", got)
	}
	if !eval[bool](t, b, `document.activeElement.id === "ended-title"`) {
		t.Error("focus did not move to the ended screen")
	}
	// The camera and microphone are released.
	wait(t, b, `hearth.localTracks.audio === null && hearth.localTracks.video === null`)
	checkClean(t, b)
}

// TestRefusals checks the screens for errors that end the attempt.
func TestRefusals(t *testing.T) {
	b, fake, c, _ := joinAs(t, browser.Desktop, "full-room", "Ann")
	c.send(t, `{"type":"error","code":"room_full","message":"room is at capacity"}`)
	wait(t, b, `hearth.screen === "ended" && document.getElementById("ended-title").textContent === "This session is full"`)
	if !eval[bool](t, b, `!document.getElementById("rejoin-button").hidden`) {
		t.Error("no way to try again after room_full")
	}
	shot(t, b, "refused-desktop")

	// Trying again opens a new socket with the same details.
	click(t, b, "#rejoin-button")
	c2, join := fake.accept(t)
	if join["room"] != "full-room" || join["name"] != "Ann" {
		t.Errorf("rejoin = %v", join)
	}
	c2.send(t, `{"type":"error","code":"not_on_roster","message":"not on the roster"}`)
	wait(t, b, `document.getElementById("ended-title").textContent === "This is a closed group"`)
	if !eval[bool](t, b, `document.getElementById("rejoin-button").hidden`) {
		t.Error("offered to try again after not_on_roster")
	}

	// A passcode error goes back to the form with a passcode field.
	click(t, b, "#start-over-button")
	wait(t, b, `hearth.screen === "join"`)
	click(t, b, "#join-button")
	c3, _ := fake.accept(t)
	c3.send(t, `{"type":"error","code":"bad_passcode","message":"wrong passcode"}`)
	wait(t, b, `hearth.screen === "join" && !document.getElementById("passcode-field").hidden && document.activeElement.id === "passcode"`)
	fill(t, b, "#passcode", "ember")
	click(t, b, "#join-button")
	c4, join := fake.accept(t)
	if join["passcode"] != "ember" {
		t.Errorf("join after passcode = %v", join)
	}
	c4.send(t, `{"type":"joined","version":1,"room":{"name":"full-room","kind":"open","locked":false},
		"self":{"id":"p_a","identity":"a","name":"Ann","role":"member"},"participants":[],"iceServers":[]}`)
	wait(t, b, `hearth.screen === "call"`)
	c4.send(t, `{"type":"bye","reason":"ended"}`)
	wait(t, b, `hearth.screen === "ended" && document.getElementById("ended-title").textContent === "The session has ended"`)
	checkClean(t, b)
}

// TestJoinedElsewhere: when the same person joins from another window, the
// server closes this one with bye joined_elsewhere; the client says so
// plainly, does not reconnect by itself, and offers to move back here.
func TestJoinedElsewhere(t *testing.T) {
	b, fake, c, _ := joinAs(t, browser.Phone, "circle", "Ann")
	c.send(t, `{"type":"joined","version":1,"room":{"name":"circle","kind":"open","locked":false},
		"self":{"id":"p_a","identity":"a","name":"Ann","role":"member"},"participants":[],"iceServers":[]}`)
	wait(t, b, `hearth.screen === "call"`)
	c.send(t, `{"type":"bye","reason":"joined_elsewhere"}`)
	wait(t, b, `hearth.screen === "ended" && document.getElementById("ended-title").textContent === "You joined from another window"`)
	if !eval[bool](t, b, `!document.getElementById("rejoin-button").hidden`) {
		t.Error("no way to move back to this window")
	}
	shot(t, b, "joined-elsewhere-phone")
	select {
	case <-fake.conns:
		t.Fatal("the client reconnected by itself after joined_elsewhere")
	case <-time.After(2 * time.Second):
	}
	click(t, b, "#rejoin-button")
	if _, join := fake.accept(t); join["room"] != "circle" {
		t.Errorf("join again = %v", join)
	}
	checkClean(t, b)
}

// TestReconnect drops the socket during a call and checks that the client
// says so and joins again by itself.
func TestReconnect(t *testing.T) {
	b, fake, c, _ := joinAs(t, browser.Desktop, "open-circle", "Ann")
	joined := `{"type":"joined","version":1,"room":{"name":"open-circle","kind":"open","locked":false},
		"self":{"id":"p_ann","identity":"anon-1","name":"Ann","role":"member"},
		"participants":[{"id":"p_bo","identity":"bo","name":"Bo","role":"member","muted":{"audio":false,"video":false},"tracks":[]}],"iceServers":[]}`
	c.send(t, joined)
	wait(t, b, `hearth.screen === "call" && hearth.participants.length === 1`)
	c.drop()
	wait(t, b, `hearth.state === "reconnecting" && document.getElementById("status").dataset.state === "reconnecting"`)
	if got := eval[string](t, b, `document.getElementById("status-text").textContent`); got != "Reconnecting…" {
		t.Errorf("status text = %q", got)
	}
	shot(t, b, "reconnecting-desktop")
	c2, join := fake.accept(t)
	if join["name"] != "Ann" {
		t.Errorf("rejoin = %v", join)
	}
	c2.send(t, joined)
	wait(t, b, `hearth.state === "connecting" && hearth.participants.length === 1 && hearth.screen === "call"`)
	wait(t, b, `document.getElementById("announcer").textContent.startsWith("Reconnected.")`)
	// A muted microphone stays muted across the reconnection.
	click(t, b, "#mic-button")
	c2.expect(t, "mute")
	c2.drop()
	c3, _ := fake.accept(t)
	c3.send(t, joined)
	if m := c3.expect(t, "mute"); m["kind"] != "audio" || m["muted"] != true {
		t.Errorf("after reconnecting, mute = %v", m)
	}
	checkClean(t, b)
}

// TestNoCameraOrMicrophone joins with getUserMedia refused and checks the
// client still joins, says so plainly, and offers no mute buttons.
func TestNoCameraOrMicrophone(t *testing.T) {
	fake := newFakeSignaling(t)
	srv := serveClient(t, fake)
	b := browser.New(t, browser.Desktop)
	if err := b.Navigate(t.Context(), srv.URL+"/r/open-circle"); err != nil {
		t.Fatal(err)
	}
	wait(t, b, `document.body.dataset.ready === "true"`)
	// The fake devices always grant; take them away.
	if err := b.Eval(t.Context(), `navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException("no", "NotFoundError")); true`, nil); err != nil {
		t.Fatal(err)
	}
	fill(t, b, "#name", "Ann")
	click(t, b, "#join-button")
	c, _ := fake.accept(t)
	c.send(t, `{"type":"joined","version":1,"room":{"name":"open-circle","kind":"open","locked":false},
		"self":{"id":"p_ann","identity":"anon-1","name":"Ann","role":"member"},"participants":[],"iceServers":[]}`)
	wait(t, b, `hearth.screen === "call"`)
	for _, kind := range []string{"audio", "video"} {
		m := c.expect(t, "mute")
		if m["muted"] != true {
			t.Errorf("mute for a missing %s = %v", kind, m)
		}
	}
	wait(t, b, `!document.getElementById("notice").hidden`)
	text := eval[string](t, b, `document.getElementById("notice-text").textContent`)
	for _, w := range []string{"No microphone was found.", "No camera was found.", "You can still see and hear the others."} {
		if !strings.Contains(text, w) {
			t.Errorf("notice %q does not say %q", text, w)
		}
	}
	if !eval[bool](t, b, `document.getElementById("mic-button").disabled && document.getElementById("cam-button").disabled`) {
		t.Error("mute buttons are enabled with no devices")
	}
	shot(t, b, "no-devices-desktop")
	c.none(t, 200*time.Millisecond, "mute")
	checkClean(t, b)
}

// TestFacilitatorPhone checks the panel as a sheet on a phone: closed at
// first, opened by the People button, closed with Escape.
func TestFacilitatorPhone(t *testing.T) {
	b, _, c, _ := joinAs(t, browser.Phone, "tuesday-grief", "Dana")
	c.send(t, joinedFacilitator)
	c.send(t, waitingTwo)
	wait(t, b, `hearth.screen === "call" && hearth.waitingList.length === 2`)
	wait(t, b, `document.querySelector("[data-self]").dataset.camOff === "false"`)
	if !eval[bool](t, b, `document.getElementById("panel").hidden && !document.getElementById("panel-badge").hidden`) {
		t.Error("on a phone the panel should start closed, with a badge for the waiting people")
	}
	shot(t, b, "call-facilitator-phone")
	click(t, b, "#panel-button")
	wait(t, b, `!document.getElementById("panel").hidden && document.getElementById("panel-button").getAttribute("aria-expanded") === "true"`)
	wait(t, b, `document.activeElement.id === "panel-title"`)
	installChecks(t, b)
	noneOf(t, "targets smaller than 44px", eval[[]string](t, b, `__checks.smallTargets(44)`))
	noneOf(t, "text under WCAG AA contrast", eval[[]string](t, b, `__checks.lowContrast(4.5)`))
	shot(t, b, "panel-phone")
	click(t, b, `[data-waiting="p_kim"] [data-action="admit"]`)
	if m := c.expect(t, "admit"); m["participant"] != "p_kim" {
		t.Errorf("admit = %v", m)
	}
	if err := b.Press(t.Context(), "\x1b"); err != nil { // Escape
		t.Fatal(err)
	}
	wait(t, b, `document.getElementById("panel").hidden && document.activeElement.id === "panel-button"`)
	checkClean(t, b)
}
