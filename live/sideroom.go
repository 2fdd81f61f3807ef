package live

import "slices"

// MaxSideRoom bounds how many participants a side room takes besides its
// host: one member, or a few.
const MaxSideRoom = 4

// sideRoomSpace is the gate's Space of the side room.
const sideRoomSpace = "side-room"

// sideRoom is a private room apart from the group: its host (a facilitator
// or co-facilitator) and the participants taken there hear and see only
// each other, and the group none of them; see Controls. There is at most
// one at a time.
type sideRoom struct {
	host    string
	members []string // in the order they came
}

// has reports whether id is in the side room; a nil side room has nobody.
func (s *sideRoom) has(id string) bool {
	return s != nil && (s.host == id || slices.Contains(s.members, id))
}

// without takes member id out, and reports whether anyone is left with the
// host.
func (s *sideRoom) without(id string) (left bool) {
	s.members = slices.DeleteFunc(s.members, func(m string) bool { return m == id })
	return len(s.members) > 0
}
