package signaling

import (
	"fmt"
	"testing"

	"github.com/hearth-rtc/hearth/room"
)

// TestRefusalsCloseOnlyJoins: refusals and store errors end the connection
// in answer to join only; in answer to a command the sender keeps its seat.
func TestRefusalsCloseOnlyJoins(t *testing.T) {
	down := fmt.Errorf("redis: %w", room.ErrUnavailable)
	full := fmt.Errorf("admit: %w", room.ErrRoomFull)
	for _, tc := range []struct {
		err   error
		typ   string
		code  string
		close bool
	}{
		{down, "join", "unavailable", true},
		{down, "lock", "unavailable", false},
		{down, "remove", "unavailable", false},
		{down, "admit", "unavailable", false},
		{down, "mute_participant", "unavailable", false},
		{full, "join", "room_full", true},
		{full, "admit", "room_full", false},
		{fmt.Errorf("%w: no", room.ErrForbidden), "join", "forbidden", false},
	} {
		pe := toProto(tc.err, tc.typ)
		if string(pe.code) != tc.code || pe.close != tc.close || pe.message == "" {
			t.Errorf("%v answering %s: %+v, want code %s, close %v", tc.err, tc.typ, pe, tc.code, tc.close)
		}
	}
}
