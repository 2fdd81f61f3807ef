package live

import (
	"slices"

	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// The round commands: start a go-around, end one's own turn, move it on,
// skip a turn, end the round.

// startRound orders the members present (not those in the side room) and
// gives the first of them the floor. Hands stay raised for after the round.
func (c *Controls) startRound(order protocol.RoundOrder, seconds int, roster []string) (bool, error) {
	if c.round != nil {
		return false, errInvalid("A round is already in progress.")
	}
	if err := checkSeconds(seconds); err != nil {
		return false, err
	}
	var members []*seat
	for _, s := range c.participants() {
		if s.p.Role == room.RoleMember && !c.side.has(s.p.ID) {
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
	ids := make([]string, len(members))
	for i, s := range members {
		ids[i] = s.p.ID
	}
	c.round = newRound(order, seconds, ids)
	c.floor.clearHolder()
	c.advance("")
	return true, nil
}

// ownTurn ends the sender's own turn, as spoken or passed.
func (c *Controls) ownTurn(id string, status protocol.TurnStatus) (bool, error) {
	if c.round == nil {
		return false, errInvalid("No round is in progress.")
	}
	if c.round.speaker() != id {
		return false, errInvalid("It is not your turn.")
	}
	c.advance(status)
	return true, nil
}

// nextTurn ends the current turn as spoken.
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
	if id == "" || id == r.speaker() {
		c.advance(protocol.TurnSkipped)
		return true, nil
	}
	if !r.skip(id) {
		return false, errInvalid("That participant has no turn to come in this round.")
	}
	return true, nil
}

// endRound ends the round; the floor returns to the facilitators.
func (c *Controls) endRound() (bool, error) {
	if c.round == nil {
		return false, errInvalid("No round is in progress.")
	}
	c.round = nil
	c.floor.clearHolder()
	return true, nil
}
