package web_test

// The camera and microphone: the check before joining (self-view, choice of
// devices, level meter, joining muted or with the camera off), nothing on
// in the waiting room, switching devices in a call, and what "Join again"
// means after the session ended.

import (
	"strings"
	"testing"

	"github.com/hearth-rtc/hearth/internal/testutil/browser"
)

// TestPreJoinCheck checks the device check on the join screen, joining
// with the microphone off and the camera off, the devices off in the
// waiting room, and their start once seated.
func TestPreJoinCheck(t *testing.T) {
	for _, tc := range screenSizes {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFakeSignaling(t)
			srv := serveClient(t, fake)
			b := browser.New(t, tc.opts)
			if err := b.Navigate(t.Context(), srv.URL+"/r/tuesday-grief"); err != nil {
				t.Fatal(err)
			}
			wait(t, b, `document.body.dataset.ready === "true"`)
			// Nothing starts until the person asks.
			if !eval[bool](t, b, `hearth.localTracks.audio === null && hearth.localTracks.video === null`) {
				t.Error("the devices started before the person asked")
			}
			if got := text(t, b, "#preview-off"); got != "Your camera and microphone are off." {
				t.Errorf("preview says %q before the check", got)
			}
			click(t, b, "#preview-button")
			wait(t, b, `hearth.localTracks.audio !== null && hearth.localTracks.video !== null`)
			wait(t, b, `document.getElementById("preview-video").videoWidth > 0 && document.getElementById("device-check").dataset.camera === "true"`)
			// The fake microphone beeps: the meter moves.
			wait(t, b, `Number(document.getElementById("mic-level").dataset.peak) > 0.02`)
			wait(t, b, `document.getElementById("mic-select").options.length > 0 && document.getElementById("camera-select").options.length > 0 && !document.getElementById("mic-field").hidden`)
			installChecks(t, b)
			noneOf(t, "controls without an accessible name", eval[[]string](t, b, `__checks.unnamed()`))
			noneOf(t, "text under WCAG AA contrast", eval[[]string](t, b, `__checks.lowContrast(4.5)`))
			noneOf(t, "targets smaller than 44px", eval[[]string](t, b, `__checks.smallTargets(44)`))
			if eval[bool](t, b, `document.documentElement.scrollWidth > innerWidth`) {
				t.Error("the join screen scrolls sideways")
			}
			shot(t, b, "prejoin-"+tc.name)

			// Join muted, camera off.
			fill(t, b, "#name", "Ann")
			click(t, b, `label:has(#start-mic)`)
			click(t, b, `label:has(#start-cam)`)
			click(t, b, "#join-button")
			c, _ := fake.accept(t)
			c.send(t, `{"type":"waiting","reason":"knock","message":"A facilitator will let you in shortly."}`)
			wait(t, b, `hearth.screen === "waiting"`)
			// The waiting room turns the devices off, and can check them again.
			wait(t, b, `hearth.localTracks.audio === null && hearth.localTracks.video === null`)
			wait(t, b, `document.getElementById("waiting-devices").contains(document.getElementById("device-check"))`)
			if got := text(t, b, "#waiting-who"); got != "You are joining Tuesday grief as Ann." {
				t.Errorf("waiting room says %q", got)
			}
			installChecks(t, b)
			noneOf(t, "text under WCAG AA contrast", eval[[]string](t, b, `__checks.lowContrast(4.5)`))
			shot(t, b, "waiting-"+tc.name)

			// Seated: the devices start, as chosen.
			c.send(t, joinedMember)
			// The camera, off, is not opened at all; its button still offers it.
			wait(t, b, `hearth.screen === "call" && hearth.localTracks.audio !== null && hearth.localTracks.video === null`)
			wait(t, b, `!hearth.localTracks.audio.enabled && !document.getElementById("cam-button").disabled`)
			for range 2 {
				if m := c.expect(t, "mute"); m["muted"] != true {
					t.Errorf("joining muted sent %v", m)
				}
			}
			micIs(t, b, "normal", "Unmute", true)
			wait(t, b, `document.querySelector("[data-self]").dataset.camOff === "true"`)
			checkClean(t, b)
		})
	}
}

// TestSwitchDevicesInCall opens the settings in a call, picks another
// microphone, and checks that the peer connection sends it.
func TestSwitchDevicesInCall(t *testing.T) {
	b, _, c, _ := joinAs(t, browser.Desktop, "open-circle", "Ann")
	c.send(t, `{"type":"joined","version":1,"room":{"name":"open-circle","kind":"open","locked":false},
		"self":{"id":"p_ann","identity":"anon-1","name":"Ann","role":"member"},"participants":[],"iceServers":[]}`)
	wait(t, b, `hearth.screen === "call" && hearth.localTracks.audio !== null`)
	// The scripted server offers like the real one: one recvonly audio and
	// video m-line to publish on.
	offer := eval[string](t, b, `(async () => {
		const pc = new RTCPeerConnection();
		pc.addTransceiver("audio", {direction: "recvonly"});
		pc.addTransceiver("video", {direction: "recvonly"});
		const o = await pc.createOffer();
		pc.close();
		return o.sdp;
	})()`)
	c.send(t, `{"type":"offer","sdp":`+jsString(offer)+`}`)
	c.expect(t, "answer")
	wait(t, b, `hearth.pc.getSenders().some(s => s.track === hearth.localTracks.audio)`)
	click(t, b, "#devices-button")
	wait(t, b, `document.getElementById("devices-dialog").open && document.getElementById("devices-slot").contains(document.getElementById("device-check"))`)
	wait(t, b, `document.getElementById("mic-select").options.length > 1`)
	old := eval[string](t, b, `hearth.localTracks.audio.id`)
	if err := b.Eval(t.Context(), `(() => { const s = document.getElementById("mic-select"); s.value = [...s.options].find(o => o.value !== s.value).value; s.dispatchEvent(new Event("change", {bubbles: true})); return true })()`, nil); err != nil {
		t.Fatal(err)
	}
	wait(t, b, `hearth.localTracks.audio.id !== `+jsString(old)+` && hearth.pc.getSenders().some(s => s.track === hearth.localTracks.audio)`)
	announced(t, b, "Microphone changed.")
	installChecks(t, b)
	noneOf(t, "controls without an accessible name", eval[[]string](t, b, `__checks.unnamed()`))
	shot(t, b, "settings-desktop")
	if err := b.Press(t.Context(), "\x1b"); err != nil {
		t.Fatal(err)
	}
	wait(t, b, `!document.getElementById("devices-dialog").open && document.activeElement.id === "devices-button"`)
	checkClean(t, b)
}

// TestJoinAgainAfterEnd: after the facilitator ends the session, the
// ended screen says what joining again means, and the waiting room says
// that this is a new session.
func TestJoinAgainAfterEnd(t *testing.T) {
	b, fake, c, _ := joinAs(t, browser.Phone, "thursday-circle", "Ann")
	c.send(t, joinedMember)
	wait(t, b, `hearth.screen === "call"`)
	c.send(t, `{"type":"bye","reason":"ended"}`)
	wait(t, b, `hearth.screen === "ended"`)
	if got := text(t, b, "#ended-message"); !strings.Contains(got, "wait until a facilitator starts a new session") {
		t.Errorf("ended message = %q", got)
	}
	if got := text(t, b, "#rejoin-button"); got != "Wait for a new session" {
		t.Errorf("rejoin button = %q", got)
	}
	if !eval[bool](t, b, `document.querySelector("#ended-screen .actions").firstElementChild.id === "start-over-button"`) {
		t.Error("joining again comes first after the session ended")
	}
	shot(t, b, "ended-phone")
	click(t, b, "#rejoin-button")
	c2, _ := fake.accept(t)
	c2.send(t, `{"type":"waiting","reason":"waiting_for_facilitator","message":"The session starts when the facilitator arrives."}`)
	wait(t, b, `hearth.screen === "waiting"`)
	if got := text(t, b, "#waiting-message"); !strings.HasPrefix(got, "The last session has ended. You are waiting for a new one.") {
		t.Errorf("waiting message after the end = %q", got)
	}
	checkClean(t, b)
}

// TestMuteWhileDevicesStart: on a slow machine the devices start after
// the call screen shows; the Mute button works at once, and the
// microphone starts muted.
func TestMuteWhileDevicesStart(t *testing.T) {
	fake := newFakeSignaling(t)
	srv := serveClient(t, fake)
	b := browser.New(t, browser.Desktop)
	if err := b.Navigate(t.Context(), srv.URL+"/r/open-circle"); err != nil {
		t.Fatal(err)
	}
	wait(t, b, `document.body.dataset.ready === "true"`)
	// The devices start only when the test says so.
	if err := b.Eval(t.Context(), `(() => {
		const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
		window.__release = null;
		const gate = new Promise((resolve) => { window.__release = resolve; });
		navigator.mediaDevices.getUserMedia = (c) => gate.then(() => real(c));
		return true;
	})()`, nil); err != nil {
		t.Fatal(err)
	}
	fill(t, b, "#name", "Ann")
	click(t, b, "#join-button")
	c, _ := fake.accept(t)
	c.send(t, joinedMember)
	wait(t, b, `hearth.screen === "call" && hearth.localTracks.audio === null && !document.getElementById("mic-button").disabled`)
	if got := text(t, b, "#mic-button .ctrl-label"); got != "Mute" {
		t.Errorf("while the microphone starts, the button says %q", got)
	}
	click(t, b, "#mic-button")
	if m := c.expect(t, "mute"); m["kind"] != "audio" || m["muted"] != true {
		t.Errorf("mute while starting = %v", m)
	}
	if err := b.Eval(t.Context(), `window.__release(); true`, nil); err != nil {
		t.Fatal(err)
	}
	wait(t, b, `hearth.localTracks.audio !== null && !hearth.localTracks.audio.enabled && document.getElementById("mic-button").dataset.muted === "true"`)
	checkClean(t, b)
}
