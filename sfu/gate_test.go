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
