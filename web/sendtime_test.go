package web_test

import (
	"encoding/json"
	"testing"

	"github.com/hearth-rtc/hearth/internal/testutil/browser"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
)

// sendTimeIDs lists, for each media section of the browser's two
// descriptions, its kind and the id it gives abs-send-time ("" if none).
const sendTimeIDs = `(() => {
  const ids = sdp => sdp.split(/\r\nm=/).slice(1).map(s => {
    const m = s.match(/a=extmap:(\d+)(?:\/\w+)? http:\/\/www\.webrtc\.org\/experiments\/rtp-hdrext\/abs-send-time\r\n/);
    return {kind: s.split(" ")[0], id: m ? m[1] : ""};
  });
  return JSON.stringify({server: ids(hearth.pc.remoteDescription.sdp), browser: ids(hearth.pc.localDescription.sdp)});
})()`

// TestSendTimeNegotiated: Chromium, receiving video, has abs-send-time
// from the server for every video section and uses the same id in its
// own description, so the send times the server writes are read; the
// server gives it no audio section.
func TestSendTimeNegotiated(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	pubs, _ := publishers(t, srv, "sendtime", 1)
	b := browser.New(t, browser.Desktop)
	if err := b.Navigate(t.Context(), srv.URL+"/r/sendtime"); err != nil {
		t.Fatal(err)
	}
	wait(t, b, `document.body.dataset.ready === "true"`)
	fill(t, b, "#name", "Sam")
	click(t, b, "#join-button")
	waitLong(t, b, `hearth.screen === "call" && hearth.state === "connected"`)
	risingFor(t, b, "Sam", participantIDs(pubs)[0], "video", "framesDecoded")
	waitLong(t, b, `hearth.pc.signalingState === "stable"`)
	type section struct{ Kind, ID string }
	var d struct{ Server, Browser []section }
	if err := json.Unmarshal([]byte(eval[string](t, b, sendTimeIDs)), &d); err != nil {
		t.Fatal(err)
	}
	video := 0
	for i, s := range d.Server {
		switch {
		case i >= len(d.Browser) || d.Browser[i].Kind != s.Kind:
			t.Fatalf("section %d differs between the descriptions: %+v", i, d)
		case s.Kind == "audio" && s.ID != "":
			t.Errorf("section %d, audio: the server gives abs-send-time id %s", i, s.ID)
		case s.Kind == "video" && (s.ID == "" || d.Browser[i].ID != s.ID):
			t.Errorf("section %d, video: abs-send-time id %q from the server, %q in Chromium's description", i, s.ID, d.Browser[i].ID)
		case s.Kind == "video":
			video++
		}
	}
	if video == 0 {
		t.Errorf("no video section negotiated abs-send-time: %+v", d)
	}
}
