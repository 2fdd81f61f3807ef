package sfu

import (
	"errors"
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"
)

// A client that makes a section it publishes on inactive, and later
// sendonly again, keeps its track: silent meanwhile, as a sender with
// nothing to send, and of its kind (a microphone is not taken for a
// screen's sound). Ended, the track could not be taken up again: a
// browser's packets stop naming their layer once the server has reported
// on them. What it sends again reaches the others.
func TestSectionReactivated(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts clientOpts
		kind Kind
		// inAnswer: the section is made inactive in an answer to the
		// server's offer, not in an offer of the client's.
		inAnswer bool
	}{
		{"microphone", clientOpts{audio: true}, KindAudio, false},
		{"camera in layers", clientOpts{rids: []string{"q", "h", "f"}}, KindVideo, false},
		{"microphone, answered", clientOpts{audio: true}, KindAudio, true},
		{"camera in layers, answered", clientOpts{rids: []string{"q", "h", "f"}}, KindVideo, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			room := newTestRoom(t)
			a := room.join("a", tc.opts)
			b := room.join("b", clientOpts{})
			heard := func() int {
				if s := b.stream("a", tc.kind); s != nil {
					return len(s.packets())
				}
				return 0
			}
			waitFor(t, "b to receive a", func() bool { return heard() > 0 })
			tracks := func() (own, screen int) {
				for _, ti := range room.router.Tracks() {
					if ti.Publisher == "a" && ti.Kind == tc.kind {
						if ti.Screen {
							screen++
						} else {
							own++
						}
					}
				}
				return own, screen
			}
			midc := make(chan string, 1)
			a.do(func() {
				for _, x := range a.pc.GetTransceivers() {
					if s := x.Sender(); s != nil && s.Track() != nil && s.Track().Kind() == tc.kind.codecType() {
						midc <- x.Mid()
						return
					}
				}
				midc <- ""
			})
			mid := <-midc
			// applied waits until the server has taken a new description
			// of the client's.
			applied := func(what string, do func()) {
				t.Helper()
				before := a.peer.pc.RemoteDescription().SDP
				do()
				waitFor(t, what, func() bool { return a.peer.pc.RemoteDescription().SDP != before })
			}

			if tc.inAnswer {
				edit := func(sdp string) string { return withDirection(sdp, mid, "inactive") }
				a.editAnswer.Store(&edit)
				applied("an answer making a's section inactive", a.peer.negotiate)
				a.editAnswer.Store(nil)
			} else {
				applied("an offer making a's section inactive", func() { offerInactive(a, mid) })
				waitFor(t, "the server's answer", func() bool {
					state := make(chan string, 1)
					a.do(func() {
						d := a.pc.CurrentRemoteDescription()
						if d == nil || a.pc.SignalingState() != webrtc.SignalingStateStable {
							state <- ""
							return
						}
						for _, s := range mediaDirections(d.SDP) {
							if s.mid == mid {
								state <- s.dir
								return
							}
						}
						state <- ""
					})
					return <-state == "inactive"
				})
			}
			if own, screen := tracks(); own != 1 || screen != 0 {
				t.Fatalf("with its section inactive, a publishes %d tracks of its own and %d of a screen, want its one", own, screen)
			}
			applied("an offer sending on a's section again", a.offer)
			if own, screen := tracks(); own != 1 || screen != 0 {
				t.Fatalf("sending again, a publishes %d tracks of its own and %d of a screen, want its one", own, screen)
			}
			before := heard()
			waitFor(t, "b to receive a still", func() bool { return heard() > before+10 })
		})
	}
}

// offerInactive sends the server an offer of c's in which the section mid
// is inactive, as a browser's would after that section's sender had its
// direction set so.
func offerInactive(c *testClient, mid string) {
	c.do(func() {
		o, err := c.pc.CreateOffer(nil)
		if err == nil {
			err = c.pc.SetLocalDescription(o)
		}
		if err != nil {
			c.fail(err)
			return
		}
		if ignored, err := c.peer.HandleOffer(withDirection(browserLike(o.SDP), mid, "inactive")); err != nil || ignored {
			c.fail(errors.Join(err, errors.New("offer not taken")))
		}
	})
}

func TestKeepSending(t *testing.T) {
	const prev = "v=0\r\nm=audio 9 x\r\na=mid:0\r\na=sendonly\r\nm=video 9 x\r\na=mid:1\r\na=sendrecv\r\nm=video 9 x\r\na=mid:2\r\na=recvonly\r\nm=audio 0 x\r\na=mid:3\r\na=sendonly\r\n"
	desc := "v=0\r\nm=audio 9 x\r\na=mid:0\r\na=inactive\r\nm=video 9 x\r\na=mid:1\r\na=inactive\r\nm=video 9 x\r\na=mid:2\r\na=inactive\r\nm=audio 0 x\r\na=mid:3\r\na=inactive\r\n"
	got, kept := keepSending(desc, prev)
	want := "v=0\r\nm=audio 9 x\r\na=mid:0\r\na=sendonly\r\nm=video 9 x\r\na=mid:1\r\na=sendrecv\r\nm=video 9 x\r\na=mid:2\r\na=inactive\r\nm=audio 0 x\r\na=mid:3\r\na=inactive\r\n"
	if got != want || strings.Join(kept, ",") != "0,1" {
		t.Errorf("keepSending kept %v:\n%q\nwant 0,1:\n%q", kept, got, want)
	}
	if got, kept := keepSending(desc, ""); got != desc || kept != nil {
		t.Errorf("with no description before, keepSending kept %v", kept)
	}
	answer := "v=0\r\nm=audio 9 x\r\na=mid:0\r\na=recvonly\r\nm=video 9 x\r\na=mid:1\r\na=recvonly\r\n"
	if got, want := inactiveIn(answer, []string{"1"}), "v=0\r\nm=audio 9 x\r\na=mid:0\r\na=recvonly\r\nm=video 9 x\r\na=mid:1\r\na=inactive\r\n"; got != want {
		t.Errorf("inactiveIn:\n%q\nwant\n%q", got, want)
	}
}
