package live

import (
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// What the people waiting are told: why they wait, the room, and whether
// a facilitator is here to let them in, told again whenever that changes.

// waitingMsgLocked is the waiting message for x now. Under mu.
func (r *Room) waitingMsgLocked(x *person) protocol.Waiting {
	here := r.facilitatorHereLocked()
	return protocol.Waiting{Type: "waiting", Reason: x.p.Reason, Message: x.p.Reason.Message(here),
		FacilitatorPresent: here, Room: r.info}
}

// facilitatorHereLocked reports whether a facilitator or co-facilitator
// holds a seat in the room on this node; a held seat counts, as it does
// for admission (room.Session.FacilitatorPresent). Under mu.
func (r *Room) facilitatorHereLocked() bool {
	for _, x := range r.people {
		if x.seated() && x.p.Role.IsFacilitator() {
			return true
		}
	}
	return false
}

// tellWaitingLocked tells everyone waiting here when whether a facilitator
// is here has changed since they were last told. Every change of who holds
// a seat calls it. Under mu.
func (r *Room) tellWaitingLocked() {
	here := r.facilitatorHereLocked()
	if here == r.facHere {
		return
	}
	r.facHere = here
	for _, x := range r.people {
		if x.state == room.StateWaiting {
			x.conn.Send(r.waitingMsgLocked(x))
		}
	}
}
