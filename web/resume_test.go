package web_test

// Reconnection with a resume secret (PROTOCOL.md, "Reconnecting") against
// the scripted signaling server: the client keeps its peer connection over
// a dropped websocket, asks for its seat back, joins afresh when the seat
// is gone, and resumes with a new peer connection after a reload.

import (
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/testutil/browser"
)

func joinedWithResume(secret string, resumed bool) string {
	r := "false"
	if resumed {
		r = "true"
	}
	return `{"type":"joined","version":1,"room":{"name":"open-circle","kind":"open","locked":false},
		"self":{"id":"p_ann","identity":"anon-1","name":"Ann","role":"member"},
		"participants":[{"id":"p_bo","identity":"bo","name":"Bo","role":"member","muted":{"audio":false,"video":false},"tracks":[]}],
		"iceServers":[],"resume":"` + secret + `","resumed":` + r + `}`
}

// reload reloads b's page as a person would, and waits for the new page.
func reload(t *testing.T, b *browser.Browser) {
	t.Helper()
	if err := b.Eval(t.Context(), `window.__old = true; setTimeout(() => location.reload(), 0); true`, nil); err != nil {
		t.Fatal(err)
	}
	wait(t, b, `!window.__old && document.body.dataset.ready === "true"`)
}

func TestResume(t *testing.T) {
	b, fake, c, join := joinAs(t, browser.Desktop, "open-circle", "Ann")
	if _, ok := join["resume"]; ok {
		t.Errorf("a first join asks to resume: %v", join)
	}
	c.send(t, joinedWithResume("secret-1", false))
	c.send(t, roomState(1, "", "p_ann:Ann:member", "p_bo:Bo:member"))
	wait(t, b, `hearth.screen === "call" && hearth.resumable && hearth.roomState !== null`)
	if err := b.Eval(t.Context(), `window.__pc = hearth.pc; true`, nil); err != nil {
		t.Fatal(err)
	}
	// Mute while connected, then drop the socket: the seat is asked back
	// with the secret and no name; the peer connection stays.
	c.drop()
	wait(t, b, `hearth.state === "reconnecting" && !document.getElementById("connection-banner").hidden`)
	if got := text(t, b, "#connection-text"); got != "Your connection dropped. Reconnecting… You keep your place in the session." {
		t.Errorf("banner = %q", got)
	}
	if !eval[bool](t, b, `hearth.pc === window.__pc && hearth.pc.signalingState !== "closed" && hearth.participants.length === 1`) {
		t.Error("the peer connection or the roster was dropped with the socket")
	}
	wait(t, b, `document.querySelector("[data-self]").dataset.state === "reconnecting"`)
	shot(t, b, "reconnecting-self-desktop")
	// A change made while the socket is down is sent after the resume.
	click(t, b, "#mic-button")
	c2, join := fake.accept(t)
	if join["resume"] != "secret-1" || join["room"] != "open-circle" || join["newPeer"] != nil || join["name"] != nil {
		t.Errorf("resume join = %v", join)
	}
	c2.send(t, joinedWithResume("secret-2", true))
	c2.send(t, roomState(2, "", "p_ann:Ann:member:s", "p_bo:Bo:member"))
	wait(t, b, `hearth.resumes === 1 && hearth.state !== "reconnecting" && document.getElementById("connection-banner").hidden`)
	announced(t, b, "Reconnected. You kept your place.")
	if !eval[bool](t, b, `hearth.pc === window.__pc`) {
		t.Error("a resumed seat got a new peer connection")
	}
	// Both mutes are said again (saying one twice is harmless: the server
	// keeps the last).
	said := map[any]any{}
	for range 4 {
		m := c2.expect(t, "mute")
		said[m["kind"]] = m["muted"]
		if _, ok := said["video"]; ok {
			if _, ok := said["audio"]; ok {
				break
			}
		}
	}
	if said["audio"] != true || said["video"] != false {
		t.Errorf("after the resume, the client said %v, want audio muted and video not", said)
	}

	// The next drop uses the new secret; the seat is gone by then, so the
	// client joins afresh on the same socket.
	c2.drop()
	c3, join := fake.accept(t)
	if join["resume"] != "secret-2" {
		t.Errorf("second resume = %v", join)
	}
	c3.send(t, `{"type":"error","code":"resume_failed","message":"no such seat","ref":"join"}`)
	fresh := c3.expect(t, "join")
	if fresh["resume"] != nil || fresh["name"] != "Ann" || fresh["room"] != "open-circle" {
		t.Errorf("join after resume_failed = %v", fresh)
	}
	wait(t, b, `hearth.pc === null && !hearth.resumable`)
	c3.send(t, joinedWithResume("secret-3", false))
	wait(t, b, `hearth.pc !== null && hearth.pc !== window.__pc && hearth.resumable && hearth.state === "connecting"`)
	if eval[bool](t, b, `window.__pc.signalingState !== "closed"`) {
		t.Error("the old peer connection was not closed")
	}

	// Opening the page anew (not a reload, like a duplicated tab) does not
	// take the seat.
	other := browser.New(t, browser.Desktop)
	if err := other.Navigate(t.Context(), eval[string](t, b, `location.href`)); err != nil {
		t.Fatal(err)
	}
	wait(t, other, `document.body.dataset.ready === "true"`)
	if err := other.Eval(t.Context(), `sessionStorage.setItem("hearth.resume", `+jsString(eval[string](t, b, `sessionStorage.getItem("hearth.resume")`))+`); true`, nil); err != nil {
		t.Fatal(err)
	}
	if err := other.Navigate(t.Context(), eval[string](t, b, `location.href`)); err != nil {
		t.Fatal(err)
	}
	wait(t, other, `document.body.dataset.ready === "true" && hearth.screen === "join" && hearth.state === "idle"`)

	// A reload does not leave: it gets the seat back with a new peer
	// connection, and keeps the microphone off as it was.
	reload(t, b)
	c3.none(t, 300*time.Millisecond, "leave")
	c4, join := fake.accept(t)
	if join["resume"] != "secret-3" || join["newPeer"] != true {
		t.Errorf("resume after a reload = %v", join)
	}
	c4.send(t, joinedWithResume("secret-4", true))
	wait(t, b, `hearth.screen === "call" && hearth.pc !== null && hearth.resumes === 1`)
	wait(t, b, `hearth.localTracks.audio !== null && !hearth.localTracks.audio.enabled && document.getElementById("mic-button").dataset.muted === "true"`)
	if m := c4.expect(t, "mute"); m["kind"] != "audio" || m["muted"] != true {
		t.Errorf("after the reload, mute = %v", m)
	}

	// Leaving forgets the seat: a reload then shows the join screen.
	click(t, b, "#leave-button")
	c4.expect(t, "leave")
	c4.send(t, `{"type":"bye","reason":"left"}`)
	wait(t, b, `hearth.screen === "ended"`)
	reload(t, b)
	if got := eval[string](t, b, `hearth.screen`); got != "join" {
		t.Errorf("after leaving, a reload shows %q", got)
	}
	select {
	case c := <-fake.conns:
		t.Errorf("a reload after leaving connected again: %v", c.expect(t, "join"))
	case <-time.After(300 * time.Millisecond):
	}
	checkClean(t, b)
}

// TestResumeBackoff checks that a client that cannot get back in says so
// calmly while it tries, and tries again with growing gaps.
func TestResumeBackoff(t *testing.T) {
	b, fake, c, _ := joinAs(t, browser.Phone, "open-circle", "Ann")
	c.send(t, joinedWithResume("secret-1", false))
	wait(t, b, `hearth.screen === "call"`)
	start := time.Now()
	c.drop()
	var gaps []time.Duration
	last := start
	for i := range 4 {
		ci, join := fake.accept(t)
		now := time.Now()
		gaps = append(gaps, now.Sub(last))
		last = now
		if join["resume"] != "secret-1" {
			t.Errorf("attempt %d = %v", i+1, join)
		}
		if i == 3 {
			wait(t, b, `hearth.state === "reconnecting" && !document.getElementById("connection-banner").hidden`)
			shot(t, b, "reconnecting-phone")
		}
		ci.drop()
	}
	// 0.5, 1, 2, 4 s: a gap is never shorter, since a timer does not fire
	// early. It is longer by the time to notice the drop and open a
	// socket, which a busy machine stretches without bound; only accept's
	// budget bounds it.
	for i, want := range []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second} {
		if gaps[i] < want-50*time.Millisecond {
			t.Errorf("gap before attempt %d = %v, want at least %v (all: %v)", i+1, gaps[i], want, gaps)
		}
	}
	checkClean(t, b)
}
