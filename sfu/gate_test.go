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

	for _, tc := range []struct {
		pub, sub string
		kind     Kind
		want     bool
	}{
		{"a", "b", KindAudio, true},  // inside the aside
		{"b", "a", KindAudio, true},  // both ways
		{"a", "c", KindAudio, false}, // audio only to b
		{"b", "e", KindAudio, false},
		{"a", "c", KindVideo, true}, // the aside limits audio only
		{"c", "a", KindAudio, true}, // the two in the aside still hear the group
		{"c", "b", KindAudio, true},
		{"c", "a", KindVideo, false}, // video not forwarded
		{"d", "a", KindVideo, true},
		{"d", "a", KindAudio, false}, // audio not forwarded
		{"c", "e", KindAudio, true},  // listed with nothing to send: still receives
		{"e", "c", KindAudio, false},
		{"e", "c", KindVideo, false},
		{"c", "x", KindAudio, false}, // unknown subscriber receives nothing
		{"d", "x", KindVideo, false},
		{"x", "c", KindAudio, false}, // unknown publisher sends nothing
		{"x", "d", KindVideo, false},
		{"c", "c", KindAudio, false}, // nobody receives themself
		{"d", "d", KindVideo, false},
	} {
		if got := g.Allows(tc.pub, tc.sub, tc.kind); got != tc.want {
			t.Errorf("%s -> %s %s: %v, want %v", tc.pub, tc.sub, tc.kind, got, tc.want)
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
		{screen("s", KindAudio), "m", true}, // the screen's sound goes with it
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
