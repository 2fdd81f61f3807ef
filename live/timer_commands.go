package live

import (
	"fmt"
	"time"
)

// extend_timer: a facilitator adds time to the timed share under way (a
// turn of a round too), also once its time is up and the speaker is let
// finish.

// extendTimer adds seconds to the current timed share. The time left
// afterwards is at most MaxShareSeconds.
func (c *Controls) extendTimer(seconds int) (bool, error) {
	if seconds < 1 || seconds > MaxShareSeconds {
		return false, errInvalid(fmt.Sprintf("Say how many seconds to add, from 1 to %d.", MaxShareSeconds))
	}
	if c.floor.holder == "" {
		return false, errInvalid("Nobody holds the floor.")
	}
	if c.floor.deadline.IsZero() {
		return false, errInvalid("This share has no time limit to extend.")
	}
	now := c.now()
	if max(c.floor.deadline.Sub(now), 0)+time.Duration(seconds)*time.Second > MaxShareSeconds*time.Second {
		return false, errInvalid(fmt.Sprintf("A share can have at most %d minutes left.", MaxShareSeconds/60))
	}
	c.floor.extend(seconds, now)
	return true, nil
}
