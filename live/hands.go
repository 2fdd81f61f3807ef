package live

import "github.com/hearth-rtc/hearth/protocol"

// raiseHand appends the sender to the queue; raising twice keeps the first
// place.
func (c *Controls) raiseHand(id string) bool {
	if c.handIndex(id) >= 0 {
		return false
	}
	c.hands = append(c.hands, protocol.Hand{Participant: id, Since: c.now().UTC()})
	return true
}

// lowerHandCmd lowers id's hand, or by's own when id is empty.
func (c *Controls) lowerHandCmd(by, id string) (bool, error) {
	if id == "" {
		id = by
	}
	if _, ok := c.parts[id]; !ok {
		return false, errNotHere()
	}
	return c.lowerHand(id), nil
}

func (c *Controls) lowerHand(id string) bool {
	i := c.handIndex(id)
	if i < 0 {
		return false
	}
	c.hands = append(c.hands[:i:i], c.hands[i+1:]...)
	return true
}

func (c *Controls) handIndex(id string) int {
	for i, h := range c.hands {
		if h.Participant == id {
			return i
		}
	}
	return -1
}
