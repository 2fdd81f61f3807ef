package web_test

// The waiting room of a closed room, and the facilitator controls, through
// the real server with real media: what the page shows must be what the
// server's media path does.

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/testutil/browser"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/room"
)

func issueToken(t *testing.T, roomName, identity, name string, role room.Role) string {
	t.Helper()
	tok, err := room.IssueToken([]byte(hearthtest.DefaultSecret), room.TokenParams{
		Room: roomName, Identity: identity, Name: name, Role: role, TTL: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// openAndJoin opens the page at /r/{room}, with an invitation token when
// token is not empty or else typing name, and selects Join.
func openAndJoin(t *testing.T, srv *hearthtest.Server, opts browser.Options, roomName, token, name string) *browser.Browser {
	t.Helper()
	b := browser.New(t, opts)
	u := srv.URL + "/r/" + roomName
	if token != "" {
		u += "#token=" + token
	}
	if err := b.Navigate(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	wait(t, b, `document.body.dataset.ready === "true"`)
	if name != "" {
		fill(t, b, "#name", name)
	}
	click(t, b, "#join-button")
	return b
}

// inboundSum is the JavaScript for the sum of field over b's inbound streams
// of kind from participant.
func inboundSum(participant, kind, field string) string {
	return fmt.Sprintf(`hearth.inboundStats().then(s => s.filter(x => x.participant === %q && x.kind === %q).reduce((n, x) => n + (x.%s || 0), 0))`,
		participant, kind, field)
}

// TestClosedRoomWaitingAdmit: a member opens a closed room's invite link
// before the facilitator, waits, is admitted by the facilitator's browser,
// and then both decode each other's video.
func TestClosedRoomWaitingAdmit(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	const name = "thursday-circle"
	if _, err := srv.App.Store().CreateRoom(t.Context(), room.RoomConfig{
		Name: name, Kind: room.KindClosed, Capacity: 8,
		Roster: []room.RosterEntry{
			{Identity: "dana", Name: "Dana", Role: room.RoleFacilitator},
			{Identity: "rae", Name: "Rae", Role: room.RoleMember},
		},
	}); err != nil {
		t.Fatal(err)
	}

	member := openAndJoin(t, srv, browser.Phone, name, issueToken(t, name, "rae", "Rae", room.RoleMember), "")
	waitLong(t, member, `hearth.screen === "waiting" && hearth.state === "waiting"`)
	if got, want := text(t, member, "#waiting-message"), "The session starts when the facilitator arrives."; got != want {
		t.Errorf("waiting message = %q, want %q", got, want)
	}
	if got, want := text(t, member, "#waiting-who"), "You are joining Thursday circle as the name on your invitation."; got != want {
		t.Errorf("waiting room says %q, want %q", got, want)
	}
	if !eval[bool](t, member, `hearth.localTracks.audio === null && hearth.localTracks.video === null`) {
		t.Error("the camera or microphone is on in the waiting room")
	}
	shot(t, member, "closed-waiting-phone")

	fac := openAndJoin(t, srv, browser.Desktop, name, issueToken(t, name, "dana", "Dana", room.RoleFacilitator), "")
	waitLong(t, fac, `hearth.screen === "call" && hearth.self.role === "facilitator"`)
	waitLong(t, fac, `document.querySelectorAll("#waiting-list [data-waiting]").length === 1`)
	// The member's waiting screen now says the facilitator is here.
	waitLong(t, member, `document.getElementById("waiting-screen").dataset.facilitator === "true"`)
	if got, want := text(t, member, "#waiting-message"), "The facilitator is here and will let you in shortly."; got != want {
		t.Errorf("waiting message once the facilitator is here = %q, want %q", got, want)
	}
	if got, want := text(t, fac, "#room-title"), "Thursday circle"; got != want {
		t.Errorf("the call's header says %q, want %q", got, want)
	}
	if got := text(t, fac, "#waiting-list [data-waiting] .person-name"); got != "Rae" {
		t.Errorf("the facilitator sees %q waiting, want Rae", got)
	}
	// The facilitator is sending sound, and its camera's layers are paused
	// since nobody watches them; the member, still waiting, gets nothing:
	// no offer, no peer connection, no inbound stream.
	waitLong(t, fac, `hearth.outboundStats().then(s => s.some(x => x.kind === "audio" && x.packetsSent > 50))`)
	waitLong(t, fac, `Object.keys(hearth.videoLayers).length >= 2 && Object.values(hearth.videoLayers).every(a => !a)`)
	if !eval[bool](t, member, `hearth.screen === "waiting" && hearth.pc === null && !hearth.received.offer && !hearth.received.joined`) {
		t.Errorf("the waiting member has media or a session: %v", eval[any](t, member, `({pc: hearth.pc !== null, received: hearth.received})`))
	}
	if n := eval[int](t, member, `hearth.inboundStats().then(s => s.length)`); n != 0 {
		t.Errorf("the waiting member has %d inbound streams", n)
	}
	shot(t, fac, "closed-admit-desktop")

	click(t, fac, `#waiting-list [data-waiting] [data-action="admit"]`)
	waitLong(t, member, `hearth.screen === "call" && hearth.participants.length === 1`)
	facID := eval[string](t, fac, `hearth.selfId`)
	memberID := eval[string](t, member, `hearth.selfId`)
	risingFor(t, member, "Rae", facID, "video", "framesDecoded")
	risingFor(t, fac, "Dana", memberID, "video", "framesDecoded")
	risingFor(t, member, "Rae", facID, "audio", "packetsReceived")
	waitLong(t, fac, `document.querySelectorAll("#waiting-list [data-waiting]").length === 0`)
	if got := eval[string](t, member, fmt.Sprintf(`document.querySelector('[data-participant=%q] .tile-name').textContent`, facID)); got != "Dana" {
		t.Errorf("the member sees the facilitator as %q", got)
	}
	checkClean(t, fac)
	checkClean(t, member)
}

// TestControlsMedia: a facilitator's browser mutes a member, and the other
// browsers' inbound audio from that member stops increasing, then resumes
// after unmute; a member's raised hand appears in the facilitator's browser
// and giving the floor unmutes them.
func TestControlsMedia(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	const name = "wednesday-drop-in"
	fac := openAndJoin(t, srv, browser.Desktop, name, issueToken(t, name, "dana", "Dana", room.RoleFacilitator), "")
	ann := openAndJoin(t, srv, browser.Phone, name, "", "Ann")
	ben := openAndJoin(t, srv, browser.Desktop, name, "", "Ben")
	all := []*browser.Browser{fac, ann, ben}
	for _, b := range all {
		waitLong(t, b, `hearth.screen === "call" && hearth.participants.length === 2 && hearth.state === "connected" && hearth.roomState !== null`)
	}
	danaID, annID := eval[string](t, fac, `hearth.selfId`), eval[string](t, ann, `hearth.selfId`)
	annAudio, danaAudio := inboundSum(annID, "audio", "packetsReceived"), inboundSum(danaID, "audio", "packetsReceived")
	benID := eval[string](t, ben, `hearth.selfId`)
	risingFor(t, ben, "Ben", annID, "audio", "packetsReceived")
	risingFor(t, ben, "Ben", danaID, "audio", "packetsReceived")
	risingFor(t, fac, "Dana", benID, "video", "framesDecoded")
	risingFor(t, ann, "Ann", benID, "video", "framesDecoded")

	// silent asserts that, at Ben's browser, Ann's audio stays (almost)
	// still while Dana's advances by 100 packets, about two seconds.
	silent := func(why string) {
		t.Helper()
		// Packets sent before the change may still be on their way: they
		// arrive before Dana's that follow them (one transport, in order),
		// so Ann's count is taken once Dana's has moved on by a second's
		// worth, however slow the machine.
		danaBefore := eval[int](t, ben, danaAudio)
		waitLong(t, ben, fmt.Sprintf(`%s.then(n => n >= %d)`, danaAudio, danaBefore+50))
		annBefore, danaBefore := eval[int](t, ben, annAudio), eval[int](t, ben, danaAudio)
		waitLong(t, ben, fmt.Sprintf(`%s.then(n => n >= %d)`, danaAudio, danaBefore+100))
		got := eval[int](t, ben, annAudio) - annBefore
		t.Logf("%s: Ann's audio advanced %d packets at Ben while Dana's advanced 100", why, got)
		if got > 8 {
			t.Errorf("%s: Ann's audio kept reaching Ben: %d packets while Dana's advanced 100", why, got)
		}
	}
	// heard waits until Ann's audio advances at Ben's browser again.
	heard := func(why string) {
		t.Helper()
		before := eval[int](t, ben, annAudio)
		start := time.Now()
		if err := ben.WaitJS(t.Context(), fmt.Sprintf(`%s.then(n => n >= %d)`, annAudio, before+50), mediaWait); err != nil {
			t.Fatalf("%s: Ann's audio does not reach Ben: %v", why, err)
		}
		t.Logf("%s: Ann's audio advanced 50 packets at Ben in %v", why, time.Since(start).Round(time.Millisecond))
	}
	stateAt := func(b *browser.Browser, cond string) {
		t.Helper()
		waitLong(t, b, `(s => `+cond+`)(hearth.roomState)`)
	}
	annIs := fmt.Sprintf(`s.participants.find(p => p.id === %q)`, annID)

	// Mute Ann from the facilitator's panel.
	muteAnn := fmt.Sprintf(`[data-person=%q] [data-action="mute-audio"]`, annID)
	click(t, fac, muteAnn)
	stateAt(ben, annIs+`.muted.audio === true`)
	waitLong(t, ann, `document.getElementById("mic-button").dataset.mode === "ask" && !document.getElementById("self-info").hidden`)
	waitLong(t, ben, fmt.Sprintf(`document.querySelector('[data-participant=%q]').dataset.micOff === "true"`, annID))
	silent("muted by the facilitator")
	shot(t, ann, "e2e-muted-member-phone")

	// Unmute: Ann is heard again.
	waitLong(t, fac, `document.querySelector(`+jsString(muteAnn)+`).dataset.muted === "true"`)
	click(t, fac, muteAnn)
	stateAt(ben, annIs+`.muted.audio === false`)
	heard("unmuted")

	// A moderated floor silences Ann; her raised hand reaches the
	// facilitator, and the floor lets her be heard.
	click(t, fac, `label:has(#floor-moderated)`)
	stateAt(ben, `s.floor.mode === "moderated"`)
	waitLong(t, ann, `document.getElementById("turn-text").textContent === "The facilitator has the floor."`)
	// Her own controls say she is not heard, as the server forwards.
	waitLong(t, ann, `document.getElementById("mic-button").dataset.mode === "floor" && document.querySelector("[data-self]").dataset.micOff === "true"`)
	silent("moderated floor")
	click(t, ann, "#hand-button")
	waitLong(t, fac, fmt.Sprintf(`document.querySelector('#hands-list [data-hand=%q]') !== null`, annID))
	waitLong(t, ben, fmt.Sprintf(`document.querySelector('#hands-queue [data-hand=%q]') !== null`, annID))
	shot(t, fac, "e2e-hand-raised-desktop")
	if err := fac.Eval(t.Context(), `(() => { const s = document.getElementById("share-length"); s.value = "120"; s.dispatchEvent(new Event("change", {bubbles: true})); return true })()`, nil); err != nil {
		t.Fatal(err)
	}
	click(t, fac, fmt.Sprintf(`#hands-list [data-hand=%q] [data-action="give-floor"]`, annID))
	stateAt(ben, fmt.Sprintf(`s.floor.holder === %q && s.floor.timer && s.floor.timer.seconds === 120 && s.hands.length === 0`, annID))
	announced(t, ann, "You have the floor. Others can hear you. You have 2 minutes.")
	heard("given the floor")
	waitLong(t, ben, `/^[12]:\d\d left$/.test(document.getElementById("share-timer").textContent)`)
	waitLong(t, ann, `document.getElementById("mic-button").dataset.mode === "normal" && document.querySelector("[data-self]").dataset.micOff === "false"`)
	if got := text(t, ben, "#turn-text"); got != "Ann has the floor. Only they and the facilitators are heard." {
		t.Errorf("Ben reads %q", got)
	}
	shot(t, ann, "e2e-floor-member-phone")
	shot(t, ben, "e2e-floor-other-desktop")
	shot(t, fac, "e2e-floor-facilitator-desktop")

	// Taking the floor back silences her again.
	click(t, fac, "#take-floor")
	stateAt(ben, `!s.floor.holder`)
	announced(t, ann, "The floor has returned to the facilitator.")
	waitLong(t, ann, `document.getElementById("mic-button").dataset.mode === "floor"`)
	silent("floor taken back")

	for _, b := range all {
		checkClean(t, b)
	}
	if t.Failed() {
		for i, b := range all {
			t.Logf("browser %d console: %s", i, strings.Join(b.ConsoleMessages(), "\n"))
		}
	}
}

// TestReconnectResume drops a browser's websocket in a call: it comes back
// in the same seat with the same peer connection, the other browser sees it
// reconnecting and then active (never leaving), and media flows again. A
// reload then takes the seat back with a new peer connection.
func TestReconnectResume(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	const name = "friday-circle"
	ann := openAndJoin(t, srv, browser.Phone, name, "", "Ann")
	ben := openAndJoin(t, srv, browser.Desktop, name, "", "Ben")
	for _, b := range []*browser.Browser{ann, ben} {
		waitLong(t, b, `hearth.screen === "call" && hearth.participants.length === 1 && hearth.state === "connected" && hearth.resumable`)
	}
	annID, benID := eval[string](t, ann, `hearth.selfId`), eval[string](t, ben, `hearth.selfId`)
	risingFor(t, ben, "Ben", annID, "video", "framesDecoded")
	risingFor(t, ann, "Ann", benID, "video", "framesDecoded")

	// Ben's page records every state Ann's tile goes through.
	watch := fmt.Sprintf(`(() => {
		const tile = document.querySelector('[data-participant=%q]');
		window.__seen = [tile.dataset.state];
		new MutationObserver(() => {
			if (window.__seen.at(-1) !== tile.dataset.state) window.__seen.push(tile.dataset.state);
		}).observe(tile, {attributes: true, attributeFilter: ["data-state"]});
		return true;
	})()`, annID)
	if err := ben.Eval(t.Context(), watch, nil); err != nil {
		t.Fatal(err)
	}
	if err := ann.Eval(t.Context(), `window.__pc = hearth.pc; hearth.debugDropSocket()`, nil); err != nil {
		t.Fatal(err)
	}
	waitLong(t, ann, `hearth.resumes === 1 && hearth.state === "connected"`)
	if !eval[bool](t, ann, fmt.Sprintf(`hearth.selfId === %q && hearth.pc === window.__pc`, annID)) {
		t.Errorf("after the resume Ann is %q with another peer connection", eval[string](t, ann, `hearth.selfId`))
	}
	waitLong(t, ben, `window.__seen.join(" ") === "active reconnecting active"`)
	if got := eval[any](t, ben, `hearth.received.participant_left || 0`); got != 0.0 {
		t.Errorf("Ben was told Ann left %v times", got)
	}
	risingFor(t, ben, "Ben", annID, "video", "framesDecoded")
	risingFor(t, ben, "Ben", annID, "audio", "packetsReceived")
	risingFor(t, ann, "Ann", benID, "video", "framesDecoded")

	// A reload: the same seat, a new peer connection, and Ben sees Ann's
	// new tracks without her leaving.
	reload(t, ann)
	waitLong(t, ann, fmt.Sprintf(`performance.getEntriesByType("navigation")[0].type === "reload" && hearth.screen === "call" && hearth.selfId === %q && hearth.resumes === 1 && hearth.state === "connected"`, annID))
	before := eval[int](t, ben, inboundSum(annID, "video", "framesDecoded"))
	waitLong(t, ben, fmt.Sprintf(`%s.then(n => n > %d + 20)`, inboundSum(annID, "video", "framesDecoded"), before))
	risingFor(t, ann, "Ann", benID, "video", "framesDecoded")
	if got := eval[any](t, ben, `hearth.received.participant_left || 0`); got != 0.0 {
		t.Errorf("after the reload Ben was told Ann left %v times", got)
	}
	waitLong(t, ben, fmt.Sprintf(`document.querySelector('[data-participant=%q]').dataset.state === "active" && hearth.participants.length === 1`, annID))
	checkClean(t, ann)
	checkClean(t, ben)
}
