package sfu

import (
	"slices"
	"testing"

	"github.com/pion/webrtc/v4"
)

// videoFrom is what sub received of pub's video so far.
func videoFrom(c *testClient, pub string) []recvPacket {
	if s := c.stream(pub, KindVideo); s != nil {
		return s.packets()
	}
	return nil
}

// checkContinuous fails unless pkts are one stream: one SSRC, sequence
// numbers one after another, timestamps never going back.
func checkContinuous(t *testing.T, who string, pkts []recvPacket) {
	t.Helper()
	for i := 1; i < len(pkts); i++ {
		a, b := pkts[i-1], pkts[i]
		if b.ssrc != a.ssrc || b.seq != a.seq+1 || int32(b.ts-a.ts) < 0 {
			t.Fatalf("%s: packet %d of %d (%+v) does not follow %+v", who, i, len(pkts), b, a)
		}
	}
}

// lastLayerIs reports whether the last video packet c received from pub
// was of layer l.
func lastLayerIs(c *testClient, pub string, l byte) bool {
	p := videoFrom(c, pub)
	return len(p) > 0 && p[len(p)-1].layer == l
}

// layersIn lists the layers of pkts in the order they came, each once per
// run.
func layersIn(pkts []recvPacket) []byte {
	var out []byte
	for _, p := range pkts {
		if len(out) == 0 || out[len(out)-1] != p.layer {
			out = append(out, p.layer)
		}
	}
	return out
}

// TestSimulcast: a publisher sends three layers (by rid alone, as
// browsers do, the ingress guard learning their SSRCs) and subscribers
// wanting different layers each receive exactly theirs, as one stream
// under the SSRC of their own section, starting on a keyframe. A switch
// up waits for a keyframe of the new layer, asked for, and the stream
// stays continuous across it (sequence numbers one after another,
// timestamps on, one SSRC); a switch waits as long as the keyframe does.
// Nothing is counted as held back by the gate. A paused subscriber gets
// no video while audio flows, and what some subscriber wants is reported.
func TestSimulcast(t *testing.T) {
	room := newTestRoom(t)
	pub := room.join("pub", clientOpts{audio: true, rids: []string{"q", "h", "f"}})
	subs := []*testClient{room.join("s0", clientOpts{}), room.join("s1", clientOpts{}), room.join("s2", clientOpts{})}
	r := room.router
	for i, s := range subs[:2] {
		if !r.SetLayerPreference(s.id, "pub", i) {
			t.Fatalf("preference of %s not set", s.id)
		}
	}
	// A subscription made before the publisher's higher layers reached
	// the server starts on the highest there was, then moves up.
	want := []byte{0, 1, 2} // s2 wants the most, by default
	for i, s := range subs {
		w := want[i]
		waitFor(t, s.id+" receives its layer", func() bool { return lastLayerIs(s, "pub", w) })
		n := len(videoFrom(s, "pub"))
		waitFor(t, s.id+" receives 25 packets more", func() bool { return len(videoFrom(s, "pub")) >= n+25 })
		pkts := videoFrom(s, "pub")
		if l := layersIn(pkts[n-1:]); !slices.Equal(l, want[i:i+1]) {
			t.Fatalf("%s received layers %v once on its own, want only %d", s.id, l, w)
		}
		if slices.Max(layersIn(pkts)) > w {
			t.Errorf("%s received layers %v, above the %d it wants", s.id, layersIn(pkts), w)
		}
		if !pkts[0].keyframe {
			t.Errorf("%s: video starts without a keyframe", s.id)
		}
		checkContinuous(t, s.id, pkts)
	}
	if n := len(*pub.peer.in.layers.Load()); n != 3 {
		t.Errorf("the guard learned %d layer SSRCs, want 3", n)
	}
	// Nothing muted, every layer someone's: the packets of the layers a
	// subscriber does not get are not the gate's.
	for _, reason := range []DropReason{DropGate, DropMuted} {
		if n := room.engine.Stats().PacketsDropped[reason].Load(); n != 0 {
			t.Errorf("%d packets dropped for %s with nothing muted", n, reason)
		}
	}

	// Up, from 0 to 2: asked for, on a keyframe, continuous.
	s0 := subs[0]
	before := len(videoFrom(s0, "pub"))
	plis := pub.plis[2].Load()
	r.SetLayerPreference("s0", "pub", 2)
	waitFor(t, "s0 receives layer 2", func() bool {
		return lastLayerIs(s0, "pub", 2) && len(videoFrom(s0, "pub")) > before+25
	})
	pkts := videoFrom(s0, "pub")[before-1:]
	checkContinuous(t, "s0 across the switch", pkts)
	if l := layersIn(pkts); !slices.Equal(l, []byte{0, 2}) {
		t.Errorf("s0 went through layers %v, want 0 then 2", l)
	}
	for i, p := range pkts {
		if p.layer == 2 {
			if !p.keyframe {
				t.Errorf("s0 switched to layer 2 on packet %d, not a keyframe", i)
			}
			break
		}
	}
	if pub.plis[2].Load() == plis {
		t.Error("no keyframe asked for on switching up")
	}

	// Down, from 1 to 0, waits for layer 0's keyframe: none comes while
	// the publisher ignores requests, and the subscriber stays on 1.
	s1 := subs[1]
	pub.keyOnPLI.Store(false)
	plis = pub.plis[0].Load()
	r.SetLayerPreference("s1", "pub", 0)
	waitFor(t, "a keyframe of layer 0 asked for", func() bool { return pub.plis[0].Load() > plis })
	n := len(videoFrom(s1, "pub"))
	waitFor(t, "s1 receives 25 packets more", func() bool { return len(videoFrom(s1, "pub")) >= n+25 })
	if l := layersIn(videoFrom(s1, "pub")[n-1:]); !slices.Equal(l, []byte{1}) {
		t.Fatalf("s1 received layers %v before layer 0 sent a keyframe, want only 1", l)
	}
	pub.forceKey[0].Store(true)
	waitFor(t, "s1 receives layer 0", func() bool { return lastLayerIs(s1, "pub", 0) })
	pkts = videoFrom(s1, "pub")[n-1:]
	checkContinuous(t, "s1 across the switch", pkts)
	for _, p := range pkts {
		if p.layer == 0 && !p.keyframe {
			t.Error("s1 switched to layer 0 on a packet that is not a keyframe")
		}
		if p.layer == 0 {
			break
		}
	}
	pub.keyOnPLI.Store(true)

	// Paused: audio flows, video does not (counted at the server, which
	// stops at the end of the frame under way: one packet here).
	s2 := subs[2]
	r.SetLayerPreference("s2", "pub", LayerPaused)
	paused := room.forwarded("s2", "pub", KindVideo)
	heard := room.forwarded("s2", "pub", KindAudio)
	waitFor(t, "s2 hears 50 packets more", func() bool { return room.forwarded("s2", "pub", KindAudio) >= heard+50 })
	if got := room.forwarded("s2", "pub", KindVideo); got > paused+1 {
		t.Errorf("paused, s2 was sent %d video packets more", got-paused)
	}
	if s2.stream("pub", KindAudio) == nil {
		t.Error("s2 receives no audio")
	}

	// s0 wants 2, s1 wants 0, s2 none: layer 1 is nobody's.
	waitFor(t, "layers wanted reported", func() bool {
		for {
			select {
			case tl := <-room.layers:
				if tl.Track.Publisher == "pub" && slices.Equal(tl.Wanted, []bool{true, false, true}) &&
					slices.Equal(tl.RIDs, []string{"q", "h", "f"}) {
					return true
				}
			default:
				return false
			}
		}
	})
	if got := r.Layers(); len(got) != 1 || !slices.Equal(got[0].Wanted, []bool{true, false, true}) {
		t.Errorf("Layers() = %+v", got)
	}

	// Nobody wants layer 0 as the most any more, but it stays wanted: it
	// is what a subscriber short of bandwidth steps down to.
	r.SetLayerPreference("s1", "pub", 2)
	if got := r.Layers(); len(got) != 1 || !slices.Equal(got[0].Wanted, []bool{true, false, true}) {
		t.Errorf("with layer 2 the most wanted, Layers() = %+v; want the lowest kept", got)
	}
}

// TestSimulcastH264: the same with H.264 layers, where negotiated: each
// subscriber gets its layer from an IDR picture on, and a switch up waits
// for the new layer's and stays continuous.
func TestSimulcastH264(t *testing.T) {
	room := newTestRoom(t)
	room.video = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
		SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}
	room.join("pub", clientOpts{rids: []string{"q", "h", "f"}})
	s0, s2 := room.join("s0", clientOpts{}), room.join("s2", clientOpts{})
	r := room.router
	r.SetLayerPreference("s0", "pub", 0)
	for _, c := range []struct {
		s *testClient
		l byte
	}{{s0, 0}, {s2, 2}} {
		waitFor(t, c.s.id+" receives its layer", func() bool { return lastLayerIs(c.s, "pub", c.l) })
		pkts := videoFrom(c.s, "pub")
		if !pkts[0].keyframe {
			t.Errorf("%s: video starts without an IDR picture", c.s.id)
		}
		checkContinuous(t, c.s.id, pkts)
	}
	before := len(videoFrom(s0, "pub"))
	r.SetLayerPreference("s0", "pub", 2)
	waitFor(t, "s0 receives layer 2", func() bool { return lastLayerIs(s0, "pub", 2) })
	pkts := videoFrom(s0, "pub")[before-1:]
	checkContinuous(t, "s0 across the switch", pkts)
	for _, p := range pkts {
		if p.layer == 2 {
			if !p.keyframe {
				t.Error("s0 switched to layer 2 on a packet that is not an IDR picture")
			}
			break
		}
	}
}

// TestSimulcastClientOffer: a client publishes simulcast as browsers must,
// in an offer of its own once connected (a browser cannot add layers to
// the section the server offered it): the server answers, takes the
// layers and forwards one.
func TestSimulcastClientOffer(t *testing.T) {
	room := newTestRoom(t)
	pub := room.join("pub", clientOpts{audio: true})
	sub := room.join("sub", clientOpts{})
	waitFor(t, "audio at the subscriber", func() bool {
		s := sub.stream("pub", KindAudio)
		return s != nil && len(s.packets()) > 10
	})
	pub.publishVideo(room.video, []string{"q", "h", "f"})
	pub.offer()
	waitFor(t, "the top layer at the subscriber", func() bool { return lastLayerIs(sub, "pub", 2) })
	pkts := videoFrom(sub, "pub")
	if !pkts[0].keyframe {
		t.Error("video starts without a keyframe")
	}
	checkContinuous(t, "sub", pkts)
	if got := room.router.Layers(); len(got) != 1 || !slices.Equal(got[0].RIDs, []string{"q", "h", "f"}) {
		t.Errorf("Layers() = %+v", got)
	}
}
