package web_test

import (
	"strings"
	"testing"

	"github.com/hearth-rtc/hearth/internal/testutil/browser"
)

// TestResumeOnAnotherServer: the server running the session dies; the
// resume reaches the server that carried the session on, which gives the
// seat back on a new peer connection (newPeer): the old one is closed and
// a new one made, and the person is told they kept their place. A resume
// that fails and whose join after it gets the same seat back (the session
// moved, and knows the person) is said as a place kept too, never as
// "away too long".
func TestResumeOnAnotherServer(t *testing.T) {
	b, fake, c, _ := joinAs(t, browser.Desktop, "open-circle", "Ann")
	c.send(t, joinedWithResume("secret-1", false))
	c.send(t, roomState(1, "", "p_ann:Ann:member", "p_bo:Bo:member"))
	wait(t, b, `hearth.screen === "call" && hearth.resumable && hearth.roomState !== null`)
	if err := b.Eval(t.Context(), `window.__pc = hearth.pc; true`, nil); err != nil {
		t.Fatal(err)
	}
	c.drop()
	c2, join := fake.accept(t)
	if join["resume"] != "secret-1" {
		t.Errorf("resume join = %v", join)
	}
	c2.send(t, strings.Replace(joinedWithResume("secret-2", true), `"resumed":true`, `"resumed":true,"newPeer":true`, 1))
	wait(t, b, `hearth.resumes === 1 && hearth.pc !== null && hearth.pc !== window.__pc`)
	announced(t, b, "Reconnected. You kept your place.")
	if eval[bool](t, b, `window.__pc.signalingState !== "closed"`) {
		t.Error("the old peer connection was not closed")
	}

	if err := b.Eval(t.Context(), `document.getElementById("announcer").textContent = ""; true`, nil); err != nil {
		t.Fatal(err)
	}
	c2.drop()
	c3, join := fake.accept(t)
	if join["resume"] != "secret-2" {
		t.Errorf("second resume = %v", join)
	}
	c3.send(t, `{"type":"error","code":"resume_failed","message":"That seat is no longer held; join again.","ref":"join"}`)
	if fresh := c3.expect(t, "join"); fresh["resume"] != nil || fresh["name"] != "Ann" {
		t.Errorf("join after resume_failed = %v", fresh)
	}
	c3.send(t, joinedWithResume("secret-3", false))
	announced(t, b, "Reconnected. You kept your place.")
	if got := text(t, b, "#announcer"); strings.Contains(got, "away too long") {
		t.Errorf("announced %q for a place kept", got)
	}
	checkClean(t, b)
}
