package live

import (
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// The commands that pass the floor outside rounds: raise and lower a hand,
// give and take the floor, its mode and its timer.

// raiseHand appends the sender to the queue; raising twice keeps the first
// place.
func (c *Controls) raiseHand(id string) bool {
	return c.hands.raise(id, c.now().UTC())
}

// lowerHandCmd lowers id's hand, or by's own when id is empty.
func (c *Controls) lowerHandCmd(by, id string) (bool, error) {
	if id == "" {
		id = by
	}
	if _, ok := c.parts[id]; !ok {
		return false, errNotHere()
	}
	return c.hands.lower(id), nil
}

// giveFloor gives the floor to the target, or to the first raised hand when
// no target is named.
func (c *Controls) giveFloor(id string, seconds int) (bool, error) {
	if c.round != nil {
		return false, errInvalid("A round is in progress; skip or end it instead.")
	}
	if err := checkSeconds(seconds); err != nil {
		return false, err
	}
	if id == "" {
		if id = c.hands.first(); id == "" {
			return false, errInvalid("No hand is raised.")
		}
	}
	t, ok := c.parts[id]
	if !ok {
		return false, errNotHere()
	}
	if !t.p.Role.Can(room.PermPublishAudio) {
		return false, errInvalid(t.p.Role.WithArticleCapital() + " cannot take the floor.")
	}
	if c.side.has(id) {
		return false, errInvalid("That participant is in the side room.")
	}
	c.give(id, seconds)
	return true, nil
}

// takeFloor returns the floor to the facilitators.
func (c *Controls) takeFloor() (bool, error) {
	if c.round != nil {
		return false, errInvalid("A round is in progress; skip or end it instead.")
	}
	if c.floor.holder == "" {
		return false, nil
	}
	c.floor.clearHolder()
	return true, nil
}

// setFloorMode sets open or moderated.
func (c *Controls) setFloorMode(m protocol.FloorMode) (bool, error) {
	if m != protocol.FloorOpen && m != protocol.FloorModerated {
		return false, errInvalid("The floor mode must be \"open\" or \"moderated\".")
	}
	if c.floor.mode == m {
		return false, nil
	}
	c.floor.mode = m
	return true, nil
}

// setTimer starts, restarts or (with 0) cancels the current holder's timed
// share.
func (c *Controls) setTimer(seconds int) (bool, error) {
	if err := checkSeconds(seconds); err != nil {
		return false, err
	}
	if c.floor.holder == "" {
		return false, errInvalid("Nobody holds the floor.")
	}
	if seconds == 0 {
		changed := !c.floor.deadline.IsZero()
		c.floor.clearTimer()
		return changed, nil
	}
	c.floor.startTimer(seconds, c.now())
	return true, nil
}
