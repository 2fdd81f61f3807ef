package room_test

import (
	"strings"
	"testing"

	"github.com/hearth-rtc/hearth/room"
)

// TestWaitMessage: the waiting sentence tells the truth about whether a
// facilitator is here.
func TestWaitMessage(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range []room.WaitReason{room.WaitForFacilitator, room.WaitKnock, room.WaitLocked} {
		here, away := r.Message(true), r.Message(false)
		if here == "" || away == "" || here == away || seen[here] || seen[away] {
			t.Errorf("%s: %q / %q", r, here, away)
		}
		seen[here], seen[away] = true, true
		if strings.Contains(here, "arrive") || strings.Contains(here, "are back") {
			t.Errorf("%s with a facilitator here says %q", r, here)
		}
	}
	if got := room.WaitForFacilitator.Message(true); got != "The facilitator is here and will let you in shortly." {
		t.Errorf("waiting for the facilitator, who is here: %q", got)
	}
	if got := room.WaitForFacilitator.Message(false); got != "The session starts when the facilitator arrives." {
		t.Errorf("waiting for the facilitator: %q", got)
	}
}
