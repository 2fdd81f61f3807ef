package signaling_test

import (
	"strings"
	"testing"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/pion/webrtc/v4"
)

// section is what a test needs of one m-line of the server's offer.
type section struct {
	kind, mid, direction, stream string
}

func sections(sdp string) []section {
	var out []section
	for _, line := range strings.Split(sdp, "\r\n") {
		switch {
		case strings.HasPrefix(line, "m="):
			out = append(out, section{kind: strings.Fields(line[2:])[0]})
		case len(out) == 0:
		case strings.HasPrefix(line, "a=mid:"):
			out[len(out)-1].mid = line[6:]
		case line == "a=sendonly" || line == "a=recvonly" || line == "a=inactive" || line == "a=sendrecv":
			out[len(out)-1].direction = line[2:]
		case strings.HasPrefix(line, "a=msid:"):
			out[len(out)-1].stream = strings.Fields(line[7:])[0]
		}
	}
	return out
}

// carrying returns the mids of the sections that carry participant's media.
func carrying(sdp, participant string) []string {
	var mids []string
	for _, s := range sections(sdp) {
		if s.stream == participant {
			mids = append(mids, s.mid)
		}
	}
	return mids
}

// waitNegotiated waits until c has answered the server's latest offer and
// that offer no longer carries gone's media.
func waitNegotiated(t *testing.T, c *client.Client, gone string) {
	t.Helper()
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	if err := c.Wait(ctx, func() bool {
		d := c.PC().RemoteDescription()
		return d != nil && c.PC().SignalingState() == webrtc.SignalingStateStable && len(carrying(d.SDP, gone)) == 0
	}); err != nil {
		t.Fatalf("the server's offers still carry %s's media", gone)
	}
}

// TestSectionsReused: in a drop-in group, each newcomer's media goes out to
// those who stay on the sections of someone who left, so their session
// descriptions do not grow with every departure; and what the newcomer
// sends arrives, as theirs.
func TestSectionsReused(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	stay := joinPeer(t, srv, "dropin", "Stay")
	var size int
	for i := range 6 {
		v := dial(t, srv, client.Options{Room: "dropin", Name: "Visitor", Audio: true, Video: true})
		if err := v.Join(); err != nil {
			t.Fatal(err)
		}
		waitMedia(t, stay, 20, v)
		n := len(sections(stay.PC().RemoteDescription().SDP))
		if i == 0 {
			size = n
		} else if n != size {
			t.Fatalf("visitor %d: the offer has %d media sections, %d with the first visitor", i+1, n, size)
		}
		id := v.ID()
		v.Close()
		waitNegotiated(t, stay, id)
	}
	// The two publishing sections and one audio and one video for whoever
	// visits.
	if size != 4 {
		t.Errorf("%d media sections with one visitor, want 4", size)
	}
}

// TestReusedSectionWaitsForClient: a section is handed to someone else only
// after the subscriber has answered an offer in which it carries nothing,
// so that no client ever shows a newcomer under the name of the one who
// left.
func TestReusedSectionWaitsForClient(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	stay := joinPeer(t, srv, "wait", "Stay")
	ben := joinPeer(t, srv, "wait", "Ben")
	waitMedia(t, stay, 10, ben)
	benMids := carrying(stay.PC().RemoteDescription().SDP, ben.ID())
	if len(benMids) != 2 {
		t.Fatalf("Ben's media on sections %v, want 2", benMids)
	}

	// Stay leaves the offer that empties Ben's sections unanswered while
	// Cat arrives: Cat gets sections of her own.
	stay.Hold(true)
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	ben.Close()
	if err := stay.Wait(ctx, func() bool { return stay.Held() != "" }); err != nil {
		t.Fatal("no offer after Ben left")
	}
	cat := joinPeer(t, srv, "wait", "Cat")
	// Cat's tracks reach the server, and Stay is told, while the offer is
	// still unanswered.
	if err := stay.Wait(ctx, func() bool {
		n := 0
		for _, m := range stay.Messages() {
			if m.Type == "track_published" && strings.Contains(string(m.Raw), cat.ID()) {
				n++
			}
		}
		return n == 2
	}); err != nil {
		t.Fatal("Cat's tracks not published")
	}
	stay.Hold(false)
	waitMedia(t, stay, 10, cat)
	sdp := stay.PC().RemoteDescription().SDP
	for _, m := range carrying(sdp, cat.ID()) {
		for _, b := range benMids {
			if m == b {
				t.Errorf("Cat's media went out on Ben's section %s before Stay had seen it emptied", m)
			}
		}
	}

	// Once Stay has, the next arrival takes them.
	waitNegotiated(t, stay, ben.ID())
	dan := joinPeer(t, srv, "wait", "Dan")
	waitMedia(t, stay, 10, dan)
	danMids := carrying(stay.PC().RemoteDescription().SDP, dan.ID())
	if strings.Join(danMids, ",") != strings.Join(benMids, ",") {
		t.Errorf("Dan's media on sections %v, want Ben's former %v", danMids, benMids)
	}
}
