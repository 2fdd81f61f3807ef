package sfu

import "testing"

func TestGateAllows(t *testing.T) {
	// a and b are in a private aside; c is video-muted; d is audio-muted;
	// e is listed with nothing forwarded; x is not in the gate.
	in := map[string]Forward{
		"a": {Video: true, Audio: true, AudioOnlyTo: []string{"b"}},
		"b": {Video: true, Audio: true, AudioOnlyTo: []string{"a"}},
		"c": {Audio: true},
		"d": {Video: true},
		"e": {},
	}
	g := NewGate(in)
	// The gate is immutable: changing what it was made from changes nothing.
	in["a"].AudioOnlyTo[0] = "c"
	in["x"] = Forward{Video: true, Audio: true}
	delete(in, "e")

	// What is held back is held back for a reason: muted (to nobody) or
	// the gate (to this subscriber).
	const open, closed, muted = gateOpen, gateClosed, gateMuted
	for _, tc := range []struct {
		pub, sub string
		kind     Kind
		want     gateVerdict
	}{
		{"a", "b", KindAudio, open},   // inside the aside
		{"b", "a", KindAudio, open},   // both ways
		{"a", "c", KindAudio, closed}, // audio only to b
		{"b", "e", KindAudio, closed},
		{"a", "c", KindVideo, open}, // the aside limits audio only
		{"c", "a", KindAudio, open}, // the two in the aside still hear the group
		{"c", "b", KindAudio, open},
		{"c", "a", KindVideo, muted}, // video not forwarded
		{"d", "a", KindVideo, open},
		{"d", "a", KindAudio, muted}, // audio not forwarded
		{"c", "e", KindAudio, open},  // listed with nothing to send: still receives
		{"e", "c", KindAudio, muted},
		{"e", "c", KindVideo, muted},
		{"c", "x", KindAudio, closed}, // unknown subscriber receives nothing
		{"d", "x", KindVideo, closed},
		{"x", "c", KindAudio, closed}, // unknown publisher sends nothing
		{"x", "d", KindVideo, closed},
		{"c", "c", KindAudio, closed}, // nobody receives themself
		{"d", "d", KindVideo, closed},
	} {
		if got := g.verdict(tc.pub, tc.sub, tc.kind); got != tc.want {
			t.Errorf("%s -> %s %s: verdict %d, want %d", tc.pub, tc.sub, tc.kind, got, tc.want)
		}
		if got := g.Allows(tc.pub, tc.sub, tc.kind); got != (tc.want == open) {
			t.Errorf("%s -> %s %s: Allows %v", tc.pub, tc.sub, tc.kind, got)
		}
	}

	var none *Gate
	if !none.Allows("x", "y", KindAudio) || !none.Allows("x", "y", KindVideo) {
		t.Error("the nil gate holds media back")
	}
	if empty := NewGate(nil); empty.Allows("x", "y", KindAudio) || empty.Allows("x", "y", KindVideo) {
		t.Error("an empty gate forwards media")
	}
}

// TestDropReasons: what a muted publisher's client keeps sending (browsers
// send silence and black frames on a muted track, about 70 packets a
// second) is counted as muted, once per subscriber it would have reached;
// what an aside keeps from one subscriber is counted as the gate's; and
// neither shifts the sequence numbers that subscriber sees.
func TestDropReasons(t *testing.T) {
	g := NewGate(map[string]Forward{
		"p":    {Video: true, Audio: false}, // muted
		"q":    {Video: true, Audio: true, AudioOnlyTo: []string{"s0"}},
		"s0":   {Video: true, Audio: true},
		"s1":   {Video: true, Audio: true},
		"lone": {},
	})
	for _, tc := range []struct {
		pub  string
		want map[DropReason]uint64
		fwd  uint64
	}{
		{"p", map[DropReason]uint64{DropMuted: 2}, 0},
		{"q", map[DropReason]uint64{DropGate: 1}, 1},
	} {
		w := []*recordWriter{{}, {}}
		tr := benchTrack(2, func(i int) rtpWriter { return w[i] })
		tr.info.Publisher = tc.pub
		for _, d := range *tr.downs.Load() {
			d.gate.Store(int32(g.verdict(tc.pub, d.sub.id, KindAudio)))
		}
		pkt := audioPacket()
		tr.forward(tr.layer(0), pkt, false)
		for _, r := range DropReasons() {
			if n, _ := tr.stats.Dropped(r); n != tc.want[r] {
				t.Errorf("%s: %d dropped as %s, want %d", tc.pub, n, r, tc.want[r])
			}
		}
		if n := tr.stats.PacketsForwarded.Load(); n != tc.fwd {
			t.Errorf("%s: %d forwarded, want %d", tc.pub, n, tc.fwd)
		}
		// Unmuted, the next packet follows the last one sent.
		for _, d := range *tr.downs.Load() {
			d.gate.Store(int32(gateOpen))
		}
		pkt.SequenceNumber++
		tr.forward(tr.layer(0), pkt, false)
		for i, rw := range w {
			if n := len(rw.seqs); n == 0 || (n == 2 && rw.seqs[1] != rw.seqs[0]+1) {
				t.Errorf("%s: subscriber %d got sequence numbers %v", tc.pub, i, rw.seqs)
			}
		}
	}
}

// TestGateSpaces: a side room's people (one Space) and the group (no
// Space) exchange nothing, either kind, either way; inside each, the
// other rules still hold.
func TestGateSpaces(t *testing.T) {
	g := NewGate(map[string]Forward{
		"h": {Video: true, Audio: true, Space: "side"},
		"m": {Video: true, Audio: true, Space: "side"},
		"q": {Video: false, Audio: true, Space: "side"},
		"a": {Video: true, Audio: true},
		"b": {Video: true, Audio: true},
	})
	for _, tc := range []struct {
		pub, sub string
		kind     Kind
		want     bool
	}{
		{"h", "m", KindAudio, true},
		{"m", "h", KindVideo, true},
		{"q", "h", KindVideo, false}, // its own rule still holds
		{"q", "m", KindAudio, true},
		{"a", "b", KindAudio, true},
		{"b", "a", KindVideo, true},
	} {
		if got := g.Allows(tc.pub, tc.sub, tc.kind); got != tc.want {
			t.Errorf("%s -> %s %s: %v, want %v", tc.pub, tc.sub, tc.kind, got, tc.want)
		}
	}
	for _, side := range []string{"h", "m", "q"} {
		for _, group := range []string{"a", "b"} {
			for _, k := range []Kind{KindAudio, KindVideo} {
				if g.Allows(side, group, k) || g.Allows(group, side, k) {
					t.Errorf("%s crosses between %s and %s", k, side, group)
				}
			}
		}
	}
}

func TestGateAllowsScreen(t *testing.T) {
	// s shares its screen, with its camera off; m has camera and
	// microphone on but shares nothing; x is not in the gate.
	g := NewGate(map[string]Forward{
		"s": {Screen: true},
		"m": {Video: true, Audio: true},
	})
	screen := func(pub string, k Kind) TrackInfo {
		return TrackInfo{Publisher: pub, StreamID: ScreenStreamID(pub), Kind: k, Screen: true}
	}
	camera := func(pub string, k Kind) TrackInfo { return TrackInfo{Publisher: pub, StreamID: pub, Kind: k} }
	for _, tc := range []struct {
		t    TrackInfo
		sub  string
		want bool
	}{
		{screen("s", KindVideo), "m", true},
		{screen("s", KindAudio), "m", false}, // s is muted: its screen's sound too
		{screen("s", KindVideo), "s", false},
		{screen("s", KindVideo), "x", false},
		{camera("s", KindVideo), "m", false}, // Screen is not the camera
		{screen("m", KindVideo), "s", false}, // a camera's Video is not a screen
		{screen("m", KindAudio), "s", false},
		{camera("m", KindVideo), "s", true},
		{screen("x", KindVideo), "m", false},
	} {
		if got := g.AllowsTrack(tc.t, tc.sub); got != tc.want {
			t.Errorf("%s -> %s (%s, screen %v): %v, want %v", tc.t.Publisher, tc.sub, tc.t.Kind, tc.t.Screen, got, tc.want)
		}
	}
	var none *Gate
	if !none.AllowsTrack(screen("s", KindVideo), "m") {
		t.Error("the nil gate holds a screen back")
	}
}

// TestGateScreenSound: a screen's sound follows the share and its
// publisher's audio both: a mute silences it, an aside keeps it to the two.
func TestGateScreenSound(t *testing.T) {
	g := NewGate(map[string]Forward{
		"heard":  {Audio: true, Screen: true},
		"muted":  {Video: true, Screen: true},
		"aside":  {Audio: true, Screen: true, AudioOnlyTo: []string{"a", "aside"}},
		"noshow": {Audio: true},
		"a":      {Audio: true},
		"b":      {Audio: true},
	})
	sound := TrackInfo{Kind: KindAudio, Screen: true}
	for _, tc := range []struct {
		pub, sub string
		want     gateVerdict
	}{
		{"heard", "a", gateOpen},
		{"muted", "a", gateMuted},
		{"aside", "a", gateOpen},
		{"aside", "b", gateClosed},
		{"noshow", "a", gateMuted}, // not the one sharing
	} {
		tr := sound
		tr.Publisher, tr.StreamID = tc.pub, ScreenStreamID(tc.pub)
		if got := g.trackVerdict(tr, tc.sub); got != tc.want {
			t.Errorf("screen sound %s -> %s: %d, want %d", tc.pub, tc.sub, got, tc.want)
		}
		video := tr
		video.Kind = KindVideo
		if tc.pub == "muted" && !g.AllowsTrack(video, tc.sub) {
			t.Errorf("a muted sharer's screen is held back from %s", tc.sub)
		}
	}
}

// TestGateScreenSpaces: a screen shared in the group does not reach the
// side room, and one shared in the side room does not reach the group.
func TestGateScreenSpaces(t *testing.T) {
	g := NewGate(map[string]Forward{
		"g": {Video: true, Audio: true, Screen: true},
		"a": {Video: true, Audio: true},
		"h": {Video: true, Audio: true, Screen: true, Space: "side"},
		"m": {Video: true, Audio: true, Space: "side"},
	})
	screen := func(pub string) TrackInfo {
		return TrackInfo{Publisher: pub, StreamID: ScreenStreamID(pub), Kind: KindVideo, Screen: true}
	}
	for _, tc := range []struct {
		pub, sub string
		want     bool
	}{
		{"g", "a", true}, {"g", "h", false}, {"g", "m", false},
		{"h", "m", true}, {"h", "a", false}, {"h", "g", false},
	} {
		if got := g.AllowsTrack(screen(tc.pub), tc.sub); got != tc.want {
			t.Errorf("screen %s -> %s: %v, want %v", tc.pub, tc.sub, got, tc.want)
		}
	}
}
