package web_test

// Simulcast through the real server: a browser publishes its camera in
// three layers, and another receives the layer its tile's size asks for.

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hearth-rtc/hearth/internal/testutil/browser"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
)

// resize makes b's viewport width by height CSS pixels.
func resize(t *testing.T, b *browser.Browser, width, height int64) {
	t.Helper()
	if err := b.Run(t.Context(), chromedp.EmulateViewport(width, height)); err != nil {
		t.Fatal(err)
	}
}

// frameWidthFrom is an expression for the width of the newest frames b
// decodes of participant's camera.
func frameWidthFrom(participant string) string {
	return fmt.Sprintf(`hearth.inboundStats().then(s => s.filter(x => x.participant === %q && x.kind === "video" && !x.screen).reduce((w, x) => Math.max(w, x.frameWidth || 0), 0))`, participant)
}

// TestSimulcastFollowsTileSize: a browser publishes its camera as three
// layers (q, h, f: a quarter, half and the whole of its 960-pixel width).
// Another shows it in a small tile (a narrow window): it tells the server
// so (layout) and decodes the lowest layer, and the publisher pauses the
// layers nobody receives. Widened so that the tile is large, it receives
// the highest layer, which the publisher resumed.
func TestSimulcastFollowsTileSize(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	pub := browser.New(t, browser.Desktop)
	sub := browser.New(t, browser.Options{Width: 360, Height: 700})
	ids := make([]string, 2)
	for i, b := range []*browser.Browser{pub, sub} {
		if err := b.Navigate(t.Context(), srv.URL+"/r/layers"); err != nil {
			t.Fatal(err)
		}
		wait(t, b, `document.body.dataset.ready === "true"`)
		fill(t, b, "#name", []string{"Pia", "Sol"}[i])
		click(t, b, "#join-button")
	}
	for i, b := range []*browser.Browser{pub, sub} {
		waitLong(t, b, `hearth.screen === "call" && hearth.participants.length === 1 && hearth.state === "connected"`)
		ids[i] = eval[string](t, b, `hearth.selfId`)
	}
	// The publisher sends three layers, as the answer says.
	waitLong(t, pub, `hearth.pc.localDescription.sdp.includes("a=simulcast:send q;h;f")`)

	small := fmt.Sprintf(`JSON.stringify(hearth.layout) === JSON.stringify([{participant: %q, size: "small"}])`, ids[0])
	waitLong(t, sub, small)
	risingFor(t, sub, "Sol", ids[0], "video", "framesDecoded")
	waitLong(t, sub, frameWidthFrom(ids[0])+`.then(w => w === 240)`)
	// Only the lowest layer is sent: the others are paused.
	layersAre(t, pub, true, false, false)

	resize(t, sub, 1600, 900)
	large := fmt.Sprintf(`JSON.stringify(hearth.layout) === JSON.stringify([{participant: %q, size: "large"}])`, ids[0])
	waitLong(t, sub, large)
	waitLong(t, sub, frameWidthFrom(ids[0])+`.then(w => w === 960)`)
	layersAre(t, pub, false, false, true)
	risingFor(t, sub, "Sol", ids[0], "video", "framesDecoded")
	risingFor(t, sub, "Sol", ids[0], "audio", "packetsReceived")
	for _, b := range []*browser.Browser{pub, sub} {
		checkClean(t, b)
	}
}

// layersAre waits until b's camera sends just the layers that are true,
// of q, h and f.
func layersAre(t *testing.T, b *browser.Browser, q, h, f bool) {
	t.Helper()
	const encodings = `hearth.pc.getSenders().find(s => s.track && s.track.kind === "video").getParameters().encodings`
	want := fmt.Sprintf(`JSON.stringify(%s.map(e => [e.rid, e.active])) === JSON.stringify([["q", %t], ["h", %t], ["f", %t]])`, encodings, q, h, f)
	if err := b.WaitJS(t.Context(), want, mediaWait); err != nil {
		var got any
		_ = b.Eval(t.Context(), `({encodings: `+encodings+`, received: hearth.received})`, &got)
		t.Fatalf("the camera's layers: %+v; want q %t, h %t, f %t: %v", got, q, h, f, err)
	}
}
