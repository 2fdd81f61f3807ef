package sfu

import "testing"

// TestUplink: a microphone is poor once a whole window of seconds lost a
// tenth or more of what it sent, and good again once the window's loss is
// under 4 %; seconds with too little sent (silence) count for neither.
func TestUplink(t *testing.T) {
	var u uplink
	steps := []struct {
		expected, lost uint32
		changed, poor  bool
	}{
		{50, 10, false, false}, // 20 %, but the window is not full yet
		{50, 10, false, false},
		{3, 3, false, false}, // too little to say anything
		{50, 10, false, false},
		{50, 10, false, false},
		{50, 10, true, true}, // five seconds at 20 %
		{50, 0, false, true}, // 16 %
		{50, 0, false, true},
		{50, 0, false, true},
		{50, 0, false, true}, // 4 %: not under it yet
		{50, 0, true, false}, // 0 %
		{50, 4, false, false},
	}
	for i, s := range steps {
		changed, loss := u.add(s.expected, s.lost)
		if changed != s.changed || u.poor != s.poor {
			t.Errorf("second %d (%d of %d lost): changed %v, poor %v (window loss %.3f); want %v, %v",
				i+1, s.lost, s.expected, changed, u.poor, loss, s.changed, s.poor)
		}
	}
}
