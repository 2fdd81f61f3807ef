package web_test

// Turning the camera off lets the device go (its light goes out), and
// turning it on gets it afresh; on the join screen, "Camera on" does the
// same for the check.

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hearth-rtc/hearth/internal/testutil/browser"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/room"
)

// liveLocalVideo counts the live video tracks of the page that are not
// received from others: in video elements, in senders, and the local one.
const liveLocalVideo = `(() => {
	const received = new Set(hearth.pc ? hearth.pc.getReceivers().map(r => r.track) : []);
	const tracks = new Set();
	for (const v of document.querySelectorAll("video")) {
		if (v.srcObject) for (const t of v.srcObject.getVideoTracks()) tracks.add(t);
	}
	if (hearth.pc) for (const s of hearth.pc.getSenders()) if (s.track && s.track.kind === "video") tracks.add(s.track);
	if (hearth.localTracks.video) tracks.add(hearth.localTracks.video);
	return [...tracks].filter(t => !received.has(t) && t.readyState === "live").length;
})()`

func TestCameraOffReleasesIt(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	names := []string{"Ana", "Ben"}
	bs := make([]*browser.Browser, len(names))
	for i, name := range names {
		b := browser.New(t, browser.Desktop)
		bs[i] = b
		if err := b.Navigate(t.Context(), srv.URL+"/r/camera-circle"); err != nil {
			t.Fatal(err)
		}
		wait(t, b, `document.body.dataset.ready === "true"`)
		fill(t, b, "#name", name)
		click(t, b, "#join-button")
	}
	ana, ben := bs[0], bs[1]
	for _, b := range bs {
		waitLong(t, b, `hearth.screen === "call" && hearth.participants.length === 1 && hearth.state === "connected"`)
	}
	anaID := eval[string](t, ana, `hearth.selfId`)
	risingFor(t, ben, "Ben", anaID, "video", "framesDecoded")
	tile := fmt.Sprintf(`document.querySelector('[data-participant=%q]')`, anaID)

	// Off: the track is stopped, nothing live of the camera is left in the
	// page, and Ben sees Ana's tile with her camera off.
	if err := ana.Eval(t.Context(), `window.__camera = hearth.localTracks.video; true`, nil); err != nil {
		t.Fatal(err)
	}
	click(t, ana, "#cam-button")
	waitLong(t, ana, `window.__camera.readyState === "ended" && hearth.localTracks.video === null`)
	if n := eval[int](t, ana, liveLocalVideo); n != 0 {
		t.Errorf("%d live video tracks of Ana's own remain with her camera off", n)
	}
	waitLong(t, ana, `document.getElementById("cam-button").dataset.muted === "true" && !document.getElementById("cam-button").disabled`)
	waitLong(t, ben, tile+` && `+tile+`.dataset.camOff === "true"`)

	// On: a new camera track goes out, and Ben decodes it.
	click(t, ana, "#cam-button")
	waitLong(t, ana, `hearth.localTracks.video !== null && hearth.localTracks.video !== window.__camera && hearth.localTracks.video.readyState === "live"`)
	waitLong(t, ana, `hearth.pc.getSenders().some(s => s.track === hearth.localTracks.video)`)
	waitLong(t, ben, tile+`.dataset.camOff === "false"`)
	risingFor(t, ben, "Ben", anaID, "video", "framesDecoded")
	waitLong(t, ben, tile+`.querySelector("video").videoWidth > 0`)
	for _, b := range bs {
		checkClean(t, b)
	}
}

// A camera turned off sends nothing on its section but keeps it: an offer
// from the server meanwhile is answered with the section still sending.
// Answered inactive, the server would end the camera's track, and turned
// on again the camera would reach nobody.
func TestCameraOffKeepsItsSection(t *testing.T) {
	b, _, c, _ := joinAs(t, browser.Desktop, "tuesday-grief", "Ann")
	c.send(t, withAudio(joinedMember))
	wait(t, b, `hearth.screen === "call" && hearth.localTracks.video !== null`)
	pc := c.connectMedia(t, b)
	wait(t, b, `hearth.pc.getSenders().some(s => s.track && s.track.kind === "video")`)

	click(t, b, "#cam-button")
	wait(t, b, `hearth.localTracks.video === null`)
	answer := c.offerMedia(t, pc)
	if dir := sectionDirection(t, answer, "video"); dir != "sendonly" {
		t.Errorf("with the camera off, the camera's section is answered %s, not sendonly", dir)
	}

	click(t, b, "#cam-button")
	wait(t, b, `hearth.localTracks.video !== null && hearth.pc.getSenders().some(s => s.track === hearth.localTracks.video)`)
	checkClean(t, b)
}

// sectionDirection is the direction of the first section of kind in sdp.
func sectionDirection(t *testing.T, sdp, kind string) string {
	t.Helper()
	for _, m := range strings.Split(sdp, "m=")[1:] {
		if !strings.HasPrefix(m, kind+" ") {
			continue
		}
		for _, line := range strings.Split(m, "\n") {
			line = strings.TrimSpace(line)
			switch line {
			case "a=sendonly", "a=recvonly", "a=sendrecv", "a=inactive":
				return strings.TrimPrefix(line, "a=")
			}
		}
		return "without a direction"
	}
	t.Fatalf("no %s section in\n%s", kind, sdp)
	return ""
}

func TestPreJoinCameraOff(t *testing.T) {
	fake := newFakeSignaling(t)
	srv := serveClient(t, fake)
	b := browser.New(t, browser.Desktop)
	if err := b.Navigate(t.Context(), srv.URL+"/r/tuesday-grief"); err != nil {
		t.Fatal(err)
	}
	wait(t, b, `document.body.dataset.ready === "true"`)
	// With "Camera on" unchecked, the check opens the microphone only.
	click(t, b, `label:has(#start-cam)`)
	click(t, b, "#preview-button")
	wait(t, b, `hearth.localTracks.audio !== null && hearth.localTracks.video === null`)
	if n := eval[int](t, b, liveLocalVideo); n != 0 {
		t.Errorf("%d live video tracks with the camera off before joining", n)
	}
	if got := text(t, b, "#preview-off"); got != "Your camera is off." {
		t.Errorf("preview says %q with the camera off", got)
	}
	// Checked, the camera comes on; unchecked, it is let go again.
	click(t, b, `label:has(#start-cam)`)
	wait(t, b, `hearth.localTracks.video !== null && hearth.localTracks.video.readyState === "live" && document.getElementById("preview-video").videoWidth > 0`)
	if err := b.Eval(t.Context(), `window.__camera = hearth.localTracks.video; true`, nil); err != nil {
		t.Fatal(err)
	}
	click(t, b, `label:has(#start-cam)`)
	wait(t, b, `hearth.localTracks.video === null && window.__camera.readyState === "ended" && document.getElementById("device-check").dataset.camera === "false"`)
	if n := eval[int](t, b, liveLocalVideo); n != 0 {
		t.Errorf("%d live video tracks after turning the camera off before joining", n)
	}
	checkClean(t, b)
}

// TestFacilitatorCameraOffReleasesIt: a camera the facilitator turns off
// is let go too, and stays off when allowed again until its owner turns
// it on.
func TestFacilitatorCameraOffReleasesIt(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	const name = "camera-held"
	dana := goPublisher(t, srv, name, issueToken(t, name, "dana", "Dana", room.RoleFacilitator), "Dana")
	ana := openAndJoin(t, srv, browser.Desktop, name, "", "Ana")
	waitLong(t, ana, `hearth.screen === "call" && hearth.state === "connected" && hearth.localTracks.video !== null`)
	anaID := eval[string](t, ana, `hearth.selfId`)
	if err := ana.Eval(t.Context(), `window.__camera = hearth.localTracks.video; true`, nil); err != nil {
		t.Fatal(err)
	}

	mute := func(muted bool) {
		t.Helper()
		if err := dana.Send(map[string]any{"type": "mute_participant", "participant": anaID, "kind": "video", "muted": muted}); err != nil {
			t.Fatal(err)
		}
	}
	mute(true)
	waitLong(t, ana, `window.__camera.readyState === "ended" && hearth.localTracks.video === null`)
	if n := eval[int](t, ana, liveLocalVideo); n != 0 {
		t.Errorf("%d live video tracks of Ana's own remain with her camera turned off by the facilitator", n)
	}

	// Allowed again: the camera stays off, and Ana is told so.
	mute(false)
	waitLong(t, ana, `document.getElementById("cam-button").dataset.muted === "true" && !document.getElementById("cam-button").disabled`)
	waitLong(t, ana, `document.body.textContent.includes("Your camera is still off")`)
	if n := eval[int](t, ana, liveLocalVideo); n != 0 {
		t.Errorf("%d live video tracks of Ana's own after the facilitator allowed her camera", n)
	}
	click(t, ana, "#cam-button")
	waitLong(t, ana, `hearth.localTracks.video !== null && hearth.localTracks.video.readyState === "live"`)
	checkClean(t, ana)
}
