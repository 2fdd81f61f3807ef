package sfu

import (
	"slices"
	"testing"
)

// TestAnnouncedCache: the cache answers what announced reads, for the
// local and the remote description each, and reads a description anew
// when it changes.
func TestAnnouncedCache(t *testing.T) {
	a := desc("", "audio 0 sendrecv ssrc:11", "video 1 recvonly ssrc:21")
	b := desc("", "audio 0 sendonly ssrc:12")
	var c announcedCache
	for i, step := range []struct {
		desc  string
		local bool
	}{{a, true}, {b, false}, {a, true}, {b, false}, {b, true}, {a, false}, {"", true}} {
		all, sending := c.get(step.desc, step.local)
		wantAll, wantSending := announced(step.desc)
		if !slices.Equal(all, wantAll) || !slices.Equal(sending, wantSending) {
			t.Errorf("step %d: all %v, sending %v; want %v, %v", i, all, sending, wantAll, wantSending)
		}
	}
}
