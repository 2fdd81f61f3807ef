package web_test

// The client's main paths in Firefox ESR, driven over WebDriver BiDi: it
// hears and sees three Go publishers that send real VP8 and Opus, an
// enforced mute stops what it receives of that member, it waits in a closed
// room and is let in, and it shares a room with Chromium. One Firefox serves
// every subtest: a start is the slowest step of a browser test.

import (
	"fmt"
	"testing"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/browser"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/clip"
	"github.com/hearth-rtc/hearth/internal/testutil/firefox"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/room"
)

func TestFirefox(t *testing.T) {
	ff := firefox.New(t, firefox.Desktop)
	t.Logf("browser: %s", ff.Version())
	t.Run("ThreePublishersAndMute", func(t *testing.T) { firefoxThreePublishers(t, ff) })
	t.Run("WaitingRoom", func(t *testing.T) { firefoxWaitingRoom(t, ff) })
	t.Run("WithChromium", func(t *testing.T) { firefoxWithChromium(t, ff) })
}

// useFirefox readies ff for a subtest: its logs start empty, and when the
// subtest ends the tab leaves the call (before the subtest's server stops,
// whose cleanup was registered earlier).
func useFirefox(t *testing.T, ff *firefox.Browser) {
	t.Helper()
	ff.ClearLogs()
	t.Cleanup(func() {
		ctx, cancel := budget.Context(t, budget.Step)
		defer cancel()
		if err := ff.Navigate(ctx, "about:blank"); err != nil {
			t.Errorf("firefox: leave the page: %v", err)
		}
		if t.Failed() {
			t.Logf("firefox console:\n%q", ff.ConsoleMessages())
		}
	})
}

// goPublisher joins roomName as a Go client that publishes the real clip
// (VP8 video and Opus sound a browser decodes), with token, or as name in
// an open room. It never stops sending, whatever the server says, as a
// client that ignores a mute would: what others receive is up to the
// server.
func goPublisher(t *testing.T, srv *hearthtest.Server, roomName, token, name string) *client.Client {
	t.Helper()
	p, err := clip.NewPlayer()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	c, err := client.Dial(ctx, nil, client.Options{URL: srv.WSURL, Room: roomName, Name: name, Token: token,
		Audio: true, Video: true, ExternalMedia: true, OnKeyframeRequest: p.Keyframe})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Stop()
		c.Close()
	})
	if err := c.Join(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitMessage(ctx, "joined", nil); err != nil {
		t.Fatalf("%s did not join: %v (messages %v)", name, err, messageTypes(c))
	}
	p.Play(c)
	return c
}

func messageTypes(c *client.Client) []string {
	var out []string
	for _, m := range c.Messages() {
		out = append(out, m.Type)
	}
	return out
}

// goReceives waits until c receives kind from participant, and more of it
// later: the server forwards the browser's media to Go clients too.
func goReceives(t *testing.T, c *client.Client, who, participant, kind string) {
	t.Helper()
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	if err := c.Wait(ctx, func() bool { return c.Received(participant, kind) > 0 }); err != nil {
		t.Fatalf("%s receives no %s from %s: %v", who, kind, participant, err)
	}
	first := c.Received(participant, kind)
	if err := c.Wait(ctx, func() bool { return c.Received(participant, kind) > first+10 }); err != nil {
		t.Fatalf("%s: %s from %s stopped at %d packets: %v", who, kind, participant, first, err)
	}
}

// audioEnergy is the JavaScript for the total audio energy b has decoded
// from participant: it rises only while sound, not silence, is played out.
func audioEnergy(participant string) string {
	return fmt.Sprintf(`hearth.inboundStats().then(async (mine) => {
		const ids = new Set(mine.filter(x => x.participant === %q && x.kind === "audio").map(x => x.trackIdentifier));
		let e = 0;
		(await hearth.pc.getStats()).forEach(s => { if (s.type === "inbound-rtp" && ids.has(s.trackIdentifier)) e += s.totalAudioEnergy || 0; });
		return e;
	})`, participant)
}

// hears waits until b decodes sound from participant, and more later.
func hears(t *testing.T, b page, who, participant string) {
	t.Helper()
	e := audioEnergy(participant)
	waitLong(t, b, e+`.then(e => e > 0)`)
	var first float64
	if err := b.Eval(t.Context(), e, &first); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitJS(t.Context(), fmt.Sprintf(`%s.then(e => e > %v)`, e, first), mediaWait); err != nil {
		t.Fatalf("%s: the sound of %s stopped at energy %v: %v", who, participant, first, err)
	}
}

// icePairs is the JavaScript for a page's succeeded ICE candidate pairs, as
// "local -> remote" addresses, "(nominated)" after the one in use.
const icePairs = `hearth.pc.getStats().then(r => {
	const out = [];
	r.forEach(s => {
		if (s.type !== "candidate-pair" || s.state !== "succeeded") return;
		out.push(r.get(s.localCandidateId).address + " -> " + r.get(s.remoteCandidateId).address + (s.nominated ? " (nominated)" : ""));
	});
	return out;
})`

// firefoxJoin opens /r/{room} in ff, with an invitation token or else
// typing name, and selects Join.
func firefoxJoin(t *testing.T, ff *firefox.Browser, srv *hearthtest.Server, roomName, token, name string) {
	t.Helper()
	u := srv.URL + "/r/" + roomName
	if token != "" {
		u += "#token=" + token
	}
	if err := ff.Navigate(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	wait(t, ff, `document.body.dataset.ready === "true"`)
	if name != "" {
		fill(t, ff, "#name", name)
	}
	click(t, ff, "#join-button")
}

// seesTile waits until b shows participant's tile with a decoded picture,
// named name.
func seesTile(t *testing.T, b page, participant, name string) {
	t.Helper()
	tile := fmt.Sprintf(`document.querySelector('[data-participant=%q]')`, participant)
	waitLong(t, b, tile+` && `+tile+`.dataset.camOff === "false" && `+tile+`.querySelector("video").videoWidth > 0`)
	if got := eval[string](t, b, tile+`.querySelector(".tile-name").textContent`); got != name {
		t.Errorf("the tile of %s is named %q, want %q", participant, got, name)
	}
}

// firefoxThreePublishers: Firefox joins an open room with three Go
// publishers, hears and sees each; a facilitator's mute of one member then
// stops that member's audio (and then video) at Firefox while the others'
// keeps coming, though the member's client keeps sending; unmuting brings
// it back.
func firefoxThreePublishers(t *testing.T, ff *firefox.Browser) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	useFirefox(t, ff)
	const name = "firefox-circle"
	dana := goPublisher(t, srv, name, issueToken(t, name, "dana", "Dana", room.RoleFacilitator), "")
	milo := goPublisher(t, srv, name, issueToken(t, name, "milo", "Milo", room.RoleMember), "")
	sue := goPublisher(t, srv, name, "", "Sue")
	pubs := []struct {
		c    *client.Client
		name string
	}{{dana, "Dana"}, {milo, "Milo"}, {sue, "Sue"}}

	firefoxJoin(t, ff, srv, name, "", "Fern")
	waitLong(t, ff, `hearth.screen === "call" && hearth.participants.length === 3 && hearth.state === "connected" && hearth.roomState !== null`)
	fern := eval[string](t, ff, `hearth.selfId`)
	for _, p := range pubs {
		risingFor(t, ff, "Firefox", p.c.ID(), "video", "framesDecoded")
		risingFor(t, ff, "Firefox", p.c.ID(), "audio", "packetsReceived")
		hears(t, ff, "Firefox", p.c.ID())
		seesTile(t, ff, p.c.ID(), p.name)
	}
	// Firefox's camera and microphone reach the Go clients.
	for _, p := range pubs {
		goReceives(t, p.c, p.name, fern, "audio")
		goReceives(t, p.c, p.name, fern, "video")
	}
	if n := eval[int](t, ff, `document.querySelectorAll("#grid .tile").length`); n != 4 {
		t.Errorf("Firefox shows %d tiles, want 4", n)
	}
	shot(t, ff, "firefox-call-4")
	t.Logf("Firefox's ICE pairs: %v", eval[any](t, ff, icePairs))

	// still asserts that, at Firefox, milo's count of kind (field, from
	// inboundStats) stays (almost) still while sue's advances by a couple
	// of seconds' worth. Packets sent before the mute may still be on their
	// way: they arrive before sue's that follow them (one transport, in
	// order), so milo's count is taken once sue's has moved on.
	still := func(why, kind, field string, step int) {
		t.Helper()
		miloN, sueN := inboundSum(milo.ID(), kind, field), inboundSum(sue.ID(), kind, field)
		before := eval[int](t, ff, sueN)
		waitLong(t, ff, fmt.Sprintf(`%s.then(n => n >= %d)`, sueN, before+step/2))
		miloBefore, sueBefore := eval[int](t, ff, miloN), eval[int](t, ff, sueN)
		waitLong(t, ff, fmt.Sprintf(`%s.then(n => n >= %d)`, sueN, sueBefore+step))
		got := eval[int](t, ff, miloN) - miloBefore
		t.Logf("%s: Milo's %s %s advanced %d at Firefox while Sue's advanced %d", why, kind, field, got, step)
		if got > step/12 {
			t.Errorf("%s: Milo's %s kept reaching Firefox: %s advanced %d while Sue's advanced %d", why, kind, field, got, step)
		}
	}
	mute := func(kind string, muted bool) {
		t.Helper()
		if err := dana.Send(map[string]any{"type": "mute_participant", "participant": milo.ID(), "kind": kind, "muted": muted}); err != nil {
			t.Fatal(err)
		}
		waitLong(t, ff, fmt.Sprintf(`hearth.roomState.participants.find(p => p.id === %q).muted.%s === %t`, milo.ID(), kind, muted))
	}

	mute("audio", true)
	waitLong(t, ff, fmt.Sprintf(`document.querySelector('[data-participant=%q]').dataset.micOff === "true"`, milo.ID()))
	still("muted by the facilitator", "audio", "packetsReceived", 100)
	risingFor(t, ff, "Firefox", milo.ID(), "video", "framesDecoded") // an audio mute leaves video alone
	mute("audio", false)
	risingFor(t, ff, "Firefox", milo.ID(), "audio", "packetsReceived")
	hears(t, ff, "Firefox", milo.ID())

	mute("video", true)
	still("video muted by the facilitator", "video", "framesDecoded", 30)
	risingFor(t, ff, "Firefox", milo.ID(), "audio", "packetsReceived")
	mute("video", false)
	risingFor(t, ff, "Firefox", milo.ID(), "video", "framesDecoded")
	checkClean(t, ff)
}

// firefoxWaitingRoom: Firefox opens a closed room's invitation before the
// facilitator and waits with no media; a Go facilitator lets it in, and
// then each receives the other.
func firefoxWaitingRoom(t *testing.T, ff *firefox.Browser) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	useFirefox(t, ff)
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
	firefoxJoin(t, ff, srv, name, issueToken(t, name, "rae", "Rae", room.RoleMember), "")
	waitLong(t, ff, `hearth.screen === "waiting" && hearth.state === "waiting"`)
	if got, want := text(t, ff, "#waiting-message"), "The session starts when the facilitator arrives."; got != want {
		t.Errorf("waiting message = %q, want %q", got, want)
	}
	shot(t, ff, "firefox-waiting")

	dana := goPublisher(t, srv, name, issueToken(t, name, "dana", "Dana", room.RoleFacilitator), "")
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	var waiting []struct{ ID, Name string }
	if _, err := dana.WaitMessage(ctx, "waiting_list", func(m client.Message) bool {
		var wl struct{ Entries []struct{ ID, Name string } }
		if m.Decode(&wl) != nil || len(wl.Entries) == 0 {
			return false
		}
		waiting = wl.Entries
		return true
	}); err != nil {
		t.Fatalf("the facilitator sees nobody waiting: %v", err)
	}
	if len(waiting) != 1 || waiting[0].Name != "Rae" {
		t.Fatalf("waiting list = %+v, want Rae", waiting)
	}
	// The facilitator is sending; Firefox, still waiting, gets nothing: no
	// peer connection, no offer, no inbound stream, devices off.
	if err := dana.Wait(ctx, func() bool { return !dana.Times().Connected.IsZero() }); err != nil {
		t.Fatalf("the facilitator's media did not connect: %v", err)
	}
	if !eval[bool](t, ff, `hearth.screen === "waiting" && hearth.pc === null && !hearth.received.offer && !hearth.received.joined &&
		hearth.localTracks.audio === null && hearth.localTracks.video === null`) {
		t.Errorf("waiting Firefox has media or a session: %v", eval[any](t, ff, `({pc: hearth.pc !== null, received: hearth.received})`))
	}

	if err := dana.Send(map[string]any{"type": "admit", "participant": waiting[0].ID}); err != nil {
		t.Fatal(err)
	}
	waitLong(t, ff, `hearth.screen === "call" && hearth.participants.length === 1 && hearth.state === "connected"`)
	rae := eval[string](t, ff, `hearth.selfId`)
	risingFor(t, ff, "Firefox", dana.ID(), "video", "framesDecoded")
	hears(t, ff, "Firefox", dana.ID())
	seesTile(t, ff, dana.ID(), "Dana")
	goReceives(t, dana, "Dana", rae, "audio")
	goReceives(t, dana, "Dana", rae, "video")
	checkClean(t, ff)
}

// firefoxWithChromium: a Chromium and a Firefox participant in one room see
// and hear each other.
func firefoxWithChromium(t *testing.T, ff *firefox.Browser) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	useFirefox(t, ff)
	const name = "mixed-circle"
	ch := openAndJoin(t, srv, browser.Desktop, name, "", "Cleo")
	firefoxJoin(t, ff, srv, name, "", "Fern")
	for _, b := range []page{ch, ff} {
		waitLong(t, b, `hearth.screen === "call" && hearth.participants.length === 1 && hearth.state === "connected"`)
	}
	cleo, fern := eval[string](t, ch, `hearth.selfId`), eval[string](t, ff, `hearth.selfId`)
	risingFor(t, ff, "Firefox", cleo, "video", "framesDecoded")
	risingFor(t, ch, "Chromium", fern, "video", "framesDecoded")
	risingFor(t, ff, "Firefox", cleo, "audio", "packetsReceived")
	risingFor(t, ch, "Chromium", fern, "audio", "packetsReceived")
	hears(t, ff, "Firefox", cleo)
	hears(t, ch, "Chromium", fern)
	seesTile(t, ff, cleo, "Cleo")
	seesTile(t, ch, fern, "Fern")
	codecs := `hearth.pc.getStats().then(r => { const c = []; r.forEach(s => { if (s.type === "codec") c.push(s.mimeType); }); return [...new Set(c)].sort(); })`
	t.Logf("codecs: Firefox %v, Chromium %v", eval[any](t, ff, codecs), eval[any](t, ch, codecs))
	t.Logf("ICE pairs: Firefox %v, Chromium %v", eval[any](t, ff, icePairs), eval[any](t, ch, icePairs))
	shot(t, ff, "firefox-with-chromium")
	shot(t, ch, "chromium-with-firefox")
	checkClean(t, ff)
	checkClean(t, ch)
}
