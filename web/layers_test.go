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

// cameraLayers is an expression for the publisher's camera layers:
// [[rid, active]], lowest first.
const cameraLayers = `hearth.pc.getSenders().find(s => s.track && s.track.kind === "video").getParameters().encodings.map(e => [e.rid, e.active])`

// layersFollow waits until the server has told b that of its camera's
// layers only the lowest (low) or only the highest it sends and the
// lowest (!low; the lowest is kept for subscribers short of bandwidth)
// are received, and b sends just what it was told: each layer the server
// named is active if and only if the server said it is received.
func layersFollow(t *testing.T, b *browser.Browser, low bool) {
	t.Helper()
	expr := fmt.Sprintf(`(() => {
		const told = hearth.videoLayers, rids = Object.keys(told), low = %t;
		if (rids.length < 2 || !rids.every(r => ["q", "h", "f"].includes(r))) return false;
		const order = ["q", "h", "f"].filter(r => r in told), want = low ? order[0] : order[order.length - 1];
		if (!order.every(r => told[r] === (r === want || r === order[0]))) return false;
		return %s.every(([rid, active]) => !(rid in told) || told[rid] === active);
	})()`, low, cameraLayers)
	if err := b.WaitJS(t.Context(), expr, mediaWait); err != nil {
		var got any
		_ = b.Eval(t.Context(), `hearth.pc.getStats().then(r => ({told: hearth.videoLayers, sending: `+cameraLayers+`,
			out: [...r.values()].filter(s => s.type === "outbound-rtp" && s.kind === "video").map(s => [s.rid, s.frameWidth, s.qualityLimitationReason, s.targetBitrate, s.active])}))`, &got)
		t.Fatalf("the camera's layers: %+v; want only the %s received and sent: %v", got, map[bool]string{true: "lowest", false: "highest and the lowest"}[low], err)
	}
}

// TestSimulcastFollowsTileSize: a browser publishes its camera as three
// layers (q, h, f: a quarter, half and the whole of its picture). Another
// shows it in a small tile (a narrow window): it tells the server so
// (layout) and decodes the lowest layer, at most a quarter of the
// camera's 960 pixels wide, and the publisher pauses the layers nobody
// receives. Widened so that the tile is large, it receives the highest
// layer the publisher sends, at least twice as wide, which the publisher
// resumed, keeping the lowest for subscribers short of bandwidth and
// pausing the middle one. (The publisher's browser may send fewer
// layers, or smaller ones, when the machine is busy; the test holds then.)
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
	// The publisher's answer sends three layers.
	waitLong(t, pub, `hearth.pc.localDescription.sdp.includes("a=simulcast:send q;h;f")`)

	waitLong(t, sub, fmt.Sprintf(`JSON.stringify(hearth.layout) === JSON.stringify([{participant: %q, size: "small"}])`, ids[0]))
	risingFor(t, sub, "Sol", ids[0], "video", "framesDecoded")
	layersFollow(t, pub, true)
	waitLong(t, sub, frameWidthFrom(ids[0])+`.then(w => w > 0 && w <= 240)`)
	small := eval[int](t, sub, frameWidthFrom(ids[0]))

	resize(t, sub, 1600, 900)
	waitLong(t, sub, fmt.Sprintf(`JSON.stringify(hearth.layout) === JSON.stringify([{participant: %q, size: "large"}])`, ids[0]))
	layersFollow(t, pub, false)
	waitLong(t, sub, frameWidthFrom(ids[0])+fmt.Sprintf(`.then(w => w >= %d)`, 2*small))
	risingFor(t, sub, "Sol", ids[0], "video", "framesDecoded")
	risingFor(t, sub, "Sol", ids[0], "audio", "packetsReceived")
	for _, b := range []*browser.Browser{pub, sub} {
		checkClean(t, b)
	}
}
