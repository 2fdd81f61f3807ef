package web_test

import (
	"fmt"
	"testing"

	"github.com/hearth-rtc/hearth/internal/testutil/browser"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/room"
)

// TestScreenSound: a shared tab's sound goes out with the screen, and the
// others play it. (Chromium's fake capture gives the tab a fake sound;
// that the sound follows the sharer's mute is the server's, tested in
// signaling.)
func TestScreenSound(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	const name = "friday-film"
	fac := openAndJoin(t, srv, browser.Desktop, name, issueToken(t, name, "fran", "Fran", room.RoleFacilitator), "")
	mem := openAndJoin(t, srv, browser.Desktop, name, issueToken(t, name, "milo", "Milo", room.RoleMember), "")
	for _, b := range []*browser.Browser{fac, mem} {
		waitLong(t, b, `hearth.screen === "call" && hearth.participants.length === 1 && hearth.state === "connected" && hearth.roomState !== null`)
	}
	facID := eval[string](t, fac, `hearth.selfId`)

	click(t, fac, "#screen-button")
	waitLong(t, fac, `hearth.screenShare.state === "sharing" && hearth.screenShare.sound !== null &&
		hearth.pc.getSenders().some(s => s.track === hearth.screenShare.sound)`)
	sound := fmt.Sprintf(`hearth.inboundStats().then(s => s.filter(x => x.screen && x.kind === "audio" && x.participant === %q).reduce((n, x) => n + x.packetsReceived, 0))`, facID)
	waitLong(t, mem, sound+`.then(n => n > 20)`)
	waitLong(t, mem, `(() => { const a = document.getElementById("screen-audio");
		return a.srcObject !== null && a.srcObject.getAudioTracks().length === 1 && a.srcObject.getAudioTracks()[0].readyState === "live" })()`)

	// Stopping the share lets the tab's sound go too.
	click(t, fac, "#screen-button")
	waitLong(t, fac, `hearth.screenShare.state === "idle"`)
	waitLong(t, mem, `document.getElementById("screen-audio").srcObject === null`)
	for _, b := range []*browser.Browser{fac, mem} {
		checkClean(t, b)
	}
}
