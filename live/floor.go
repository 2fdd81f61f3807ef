package live

import (
	"fmt"
	"time"

	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// floor is who holds the floor and for how long. During a round the holder
// is the current turn's participant.
type floor struct {
	mode     protocol.FloorMode
	holder   string
	seconds  int       // length of the timed share; 0 when untimed
	deadline time.Time // zero when untimed
}

func (f *floor) clearHolder() {
	f.holder = ""
	f.clearTimer()
}

func (f *floor) clearTimer() {
	f.seconds, f.deadline = 0, time.Time{}
}

// moderated reports whether only the holder and facilitators are heard: in
// moderated mode and during any round.
func (c *Controls) moderated() bool { return c.floor.mode == protocol.FloorModerated || c.round != nil }

func checkSeconds(s int) error {
	if s < 0 || s > MaxShareSeconds {
		return errInvalid(fmt.Sprintf("The time must be from 0 to %d seconds.", MaxShareSeconds))
	}
	return nil
}

// give hands the floor to id (lowering its hand), timed when seconds > 0.
func (c *Controls) give(id string, seconds int) {
	c.lowerHand(id)
	c.floor.holder = id
	c.floor.clearTimer()
	if seconds > 0 {
		c.floor.seconds = seconds
		c.floor.deadline = c.now().Add(time.Duration(seconds) * time.Second)
	}
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
		if len(c.hands) == 0 {
			return false, errInvalid("No hand is raised.")
		}
		id = c.hands[0].Participant
	}
	t, ok := c.parts[id]
	if !ok {
		return false, errNotHere()
	}
	if !t.p.Role.Can(room.PermPublishAudio) {
		return false, errInvalid(t.p.Role.WithArticleCapital() + " cannot take the floor.")
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
	c.floor.seconds = seconds
	c.floor.deadline = c.now().Add(time.Duration(seconds) * time.Second)
	return true, nil
}

// expireShare ends a timed share outside rounds: per policy, the floor goes
// back to the facilitators or to the first raised hand for as long.
func (c *Controls) expireShare() {
	seconds := c.floor.seconds
	c.floor.clearHolder()
	if c.policy.FloorReturn == protocol.ReturnToNext && len(c.hands) > 0 {
		c.give(c.hands[0].Participant, seconds)
	}
}
