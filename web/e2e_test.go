package web_test

// The client against the real server: three Chromium browsers join one room
// through the page, and each must see and hear the other two.

import (
	"fmt"
	"testing"

	"github.com/hearth-rtc/hearth/internal/testutil/browser"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
)

// mediaWait bounds each wait for media; the first frames need ICE, DTLS and
// a key frame through the server.
const mediaWait = budget.Step

func TestThreeBrowsers(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	people := []struct {
		name string
		opts browser.Options
	}{
		{"Ana", browser.Desktop},
		{"Ben Okafor", browser.Phone},
		{"Cai", browser.Desktop},
	}
	bs := make([]*browser.Browser, len(people))
	for i, p := range people {
		b := browser.New(t, p.opts)
		bs[i] = b
		if err := b.Navigate(t.Context(), srv.URL+"/r/e2e-circle"); err != nil {
			t.Fatal(err)
		}
		wait(t, b, `document.body.dataset.ready === "true"`)
		fill(t, b, "#name", p.name)
		click(t, b, "#join-button")
	}

	ids := make([]string, len(bs))
	for i, b := range bs {
		waitLong(t, b, `hearth.screen === "call" && hearth.participants.length === 2 && hearth.state === "connected"`)
		ids[i] = eval[string](t, b, `hearth.selfId`)
		if ids[i] == "" {
			t.Fatalf("%s has no participant id", people[i].name)
		}
	}

	// Each decodes the video and receives the sound of both others, and the
	// counts keep rising.
	for i, b := range bs {
		for j := range bs {
			if i == j {
				continue
			}
			risingFor(t, b, people[i].name, ids[j], "video", "framesDecoded")
			risingFor(t, b, people[i].name, ids[j], "audio", "packetsReceived")
		}
	}

	// The browsers' audio took the server's receive fast path (it opened
	// their SRTP itself) and nothing of it was refused.
	if n := metric(t, srv, "hearth_sfu_fast_received_packets_total"); n < 100 {
		t.Errorf("%v browser audio packets on the receive fast path, want the stream", n)
	}
	if n := metric(t, srv, "hearth_sfu_fast_rejected_packets_total"); n != 0 {
		t.Errorf("the receive fast path refused %v browser packets", n)
	}

	// The page shows it: three tiles with names and pictures.
	for i, b := range bs {
		for j := range bs {
			if i == j {
				continue
			}
			tile := fmt.Sprintf(`document.querySelector('[data-participant=%q]')`, ids[j])
			waitLong(t, b, tile+` && `+tile+`.dataset.camOff === "false" && `+tile+`.querySelector("video").videoWidth > 0`)
			if got := eval[string](t, b, tile+`.querySelector(".tile-name").textContent`); got != people[j].name {
				t.Errorf("%s sees %s's tile named %q", people[i].name, people[j].name, got)
			}
		}
		if n := eval[int](t, b, `document.querySelectorAll("#grid .tile").length`); n != 3 {
			t.Errorf("%s has %d tiles, want 3", people[i].name, n)
		}
	}
	shot(t, bs[0], "call-3-desktop")
	shot(t, bs[1], "call-3-phone")

	// A mute reaches the others.
	click(t, bs[0], "#mic-button")
	for _, b := range bs[1:] {
		waitLong(t, b, fmt.Sprintf(`document.querySelector('[data-participant=%q]').dataset.micOff === "true"`, ids[0]))
	}

	// Leaving removes the tile everywhere.
	click(t, bs[2], "#leave-button")
	waitLong(t, bs[2], `hearth.screen === "ended"`)
	for _, b := range bs[:2] {
		waitLong(t, b, fmt.Sprintf(`document.querySelector('[data-participant=%q]') === null && hearth.participants.length === 1`, ids[2]))
	}

	// A newcomer's media reaches the others on media sections they have
	// (spares, or those Cai left once they have seen them emptied), with
	// no offer, and shows as the newcomer's: their connections do not grow
	// with each arrival or departure.
	sections := make([]int, 2)
	for i, b := range bs[:2] {
		waitLong(t, b, fmt.Sprintf(`hearth.pc.signalingState === "stable" && hearth.inboundStats().then(s => !s.some(x => x.participant === %q))`, ids[2]))
		sections[i] = eval[int](t, b, `hearth.pc.getTransceivers().length`)
	}
	dee := browser.New(t, browser.Desktop)
	if err := dee.Navigate(t.Context(), srv.URL+"/r/e2e-circle"); err != nil {
		t.Fatal(err)
	}
	wait(t, dee, `document.body.dataset.ready === "true"`)
	fill(t, dee, "#name", "Dee")
	click(t, dee, "#join-button")
	waitLong(t, dee, `hearth.screen === "call" && hearth.participants.length === 2 && hearth.state === "connected"`)
	deeID := eval[string](t, dee, `hearth.selfId`)
	for i, b := range bs[:2] {
		risingFor(t, b, people[i].name, deeID, "video", "framesDecoded")
		risingFor(t, b, people[i].name, deeID, "audio", "packetsReceived")
		tile := fmt.Sprintf(`document.querySelector('[data-participant=%q]')`, deeID)
		waitLong(t, b, tile+` && `+tile+`.dataset.camOff === "false" && `+tile+`.querySelector("video").videoWidth > 0`)
		if got := eval[string](t, b, tile+`.querySelector(".tile-name").textContent`); got != "Dee" {
			t.Errorf("%s sees Dee's tile named %q", people[i].name, got)
		}
		if n := eval[int](t, b, `hearth.pc.getTransceivers().length`); n != sections[i] {
			t.Errorf("%s has %d transceivers with Dee, %d before: no section was reused\n%s", people[i].name, n, sections[i], mediaState(t, b))
		}
	}
	for _, b := range append(bs, dee) {
		checkClean(t, b)
	}
}

func waitLong(t *testing.T, b page, expr string) {
	t.Helper()
	if err := b.WaitJS(t.Context(), expr, mediaWait); err != nil {
		t.Fatalf("%v\nconsole: %q", err, b.ConsoleMessages())
	}
}

// risingFor waits until b receives kind from participant with field (a count
// in inboundStats) above zero, and then rising.
func risingFor(t *testing.T, b page, who, participant, kind, field string) {
	t.Helper()
	sum := fmt.Sprintf(`hearth.inboundStats().then(s => s.filter(x => x.participant === %q && x.kind === %q).reduce((n, x) => n + (x.%s || 0), 0))`,
		participant, kind, field)
	if err := b.WaitJS(t.Context(), sum+`.then(n => n > 0)`, mediaWait); err != nil {
		t.Fatalf("%s gets no %s %s from %s: %v\n%s", who, kind, field, participant, err, mediaState(t, b))
	}
	first := eval[int](t, b, sum)
	if err := b.WaitJS(t.Context(), fmt.Sprintf(`%s.then(n => n > %d)`, sum, first), mediaWait); err != nil {
		t.Fatalf("%s: %s %s from %s stopped at %d: %v\n%s", who, kind, field, participant, first, err, mediaState(t, b))
	}
}

// mediaState describes a browser's peer connection for failure messages:
// its transceivers, the m-lines of the server's last offer, and the inbound
// streams with their owners.
func mediaState(t *testing.T, b page) string {
	var v any
	err := b.Eval(t.Context(), `(async () => ({
		transceivers: hearth.pc.getTransceivers().map(t => [t.mid, t.direction, t.currentDirection, t.receiver.track.kind].join(" ")),
		offer: hearth.pc.remoteDescription.sdp.split("\r\n").filter(l => /^(m=|a=mid:|a=msid:|a=(sendonly|recvonly|sendrecv|inactive)$)/.test(l)).join(" | "),
		inbound: await hearth.inboundStats(),
		received: hearth.received,
		layout: hearth.layout,
	}))()`, &v)
	if err != nil {
		return "media state: " + err.Error()
	}
	return fmt.Sprintf("media state: %+v", v)
}

// metric reads one unlabelled counter from the server's /metrics.
func metric(t *testing.T, srv *hearthtest.Server, name string) float64 {
	t.Helper()
	v, err := hearthtest.Metric(t.Context(), srv.URL+"/metrics", name)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
