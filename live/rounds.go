package live

import (
	"slices"

	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// round is a go-around: every member present gets the floor in turn.
// Facilitators run it and are not in it; members who arrive during it join
// the end.
type round struct {
	order   protocol.RoundOrder
	seconds int // per turn; 0 untimed
	turns   []protocol.Turn
	current int // index into turns; the round ends when none is left
}

// startRound orders the members present and gives the first of them the
// floor. Hands stay raised for after the round.
func (c *Controls) startRound(order protocol.RoundOrder, seconds int, roster []string) (bool, error) {
	if c.round != nil {
		return false, errInvalid("A round is already in progress.")
	}
	if err := checkSeconds(seconds); err != nil {
		return false, err
	}
	var members []*seat
	for _, s := range c.participants() {
		if s.p.Role == room.RoleMember {
			members = append(members, s)
		}
	}
	if len(members) == 0 {
		return false, errInvalid("There are no members to go around.")
	}
	switch order {
	case protocol.OrderJoin:
	case protocol.OrderRoster:
		rank := map[string]int{}
		for i, id := range roster {
			if _, dup := rank[id]; !dup {
				rank[id] = i
			}
		}
		pos := func(s *seat) int {
			if i, ok := rank[s.p.Identity]; ok {
				return i
			}
			return len(roster) // not on the roster: after, in join order
		}
		slices.SortStableFunc(members, func(a, b *seat) int { return pos(a) - pos(b) })
	case protocol.OrderShuffle:
		c.shuffle(len(members), func(i, j int) { members[i], members[j] = members[j], members[i] })
	default:
		return false, errInvalid("The order must be \"roster\", \"join\" or \"shuffle\".")
	}
	r := &round{order: order, seconds: seconds}
	for _, s := range members {
		r.turns = append(r.turns, protocol.Turn{Participant: s.p.ID, Status: protocol.TurnPending})
	}
	c.round = r
	r.current = -1
	c.floor.clearHolder()
	c.advance("")
	return true, nil
}

// advance closes the current turn with status (if there is one) and gives
// the floor to the next pending participant; with none left the round ends
// and the floor returns to the facilitators.
func (c *Controls) advance(status protocol.TurnStatus) {
	r := c.round
	if r.current >= 0 && status != "" {
		r.turns[r.current].Status = status
	}
	next := r.nextPending(r.current)
	if next < 0 {
		c.round = nil
		c.floor.clearHolder()
		return
	}
	r.current = next
	r.turns[next].Status = protocol.TurnSpeaking
	c.give(r.turns[next].Participant, r.seconds)
}

// nextPending is the index of the first pending turn after i, or -1.
func (r *round) nextPending(i int) int {
	for j := i + 1; j < len(r.turns); j++ {
		if r.turns[j].Status == protocol.TurnPending {
			return j
		}
	}
	return -1
}

func (r *round) index(id string) int {
	for i, t := range r.turns {
		if t.Participant == id {
			return i
		}
	}
	return -1
}

// ownTurn ends the sender's own turn, as spoken or passed.
func (c *Controls) ownTurn(id string, status protocol.TurnStatus) (bool, error) {
	if c.round == nil {
		return false, errInvalid("No round is in progress.")
	}
	if c.round.turns[c.round.current].Participant != id {
		return false, errInvalid("It is not your turn.")
	}
	c.advance(status)
	return true, nil
}

func (c *Controls) nextTurn() (bool, error) {
	if c.round == nil {
		return false, errInvalid("No round is in progress.")
	}
	c.advance(protocol.TurnSpoke)
	return true, nil
}

// skip skips the current turn, or a later one so that it never comes.
func (c *Controls) skip(id string) (bool, error) {
	r := c.round
	if r == nil {
		return false, errInvalid("No round is in progress.")
	}
	if id == "" || id == r.turns[r.current].Participant {
		c.advance(protocol.TurnSkipped)
		return true, nil
	}
	i := r.index(id)
	if i < 0 || r.turns[i].Status != protocol.TurnPending {
		return false, errInvalid("That participant has no turn to come in this round.")
	}
	r.turns[i].Status = protocol.TurnSkipped
	return true, nil
}

func (c *Controls) endRound() (bool, error) {
	if c.round == nil {
		return false, errInvalid("No round is in progress.")
	}
	c.round = nil
	c.floor.clearHolder()
	return true, nil
}

// roundLeft marks a leaver's turn; if it was speaking the round moves on.
func (c *Controls) roundLeft(id string) {
	r := c.round
	i := r.index(id)
	if i < 0 {
		return
	}
	switch {
	case i == r.current:
		c.advance(protocol.TurnLeft)
	case r.turns[i].Status == protocol.TurnPending:
		r.turns[i].Status = protocol.TurnLeft
	}
}
