package live

import (
	"slices"

	"github.com/hearth-rtc/hearth/room"
)

// RoundOrder is the order of a go-around round.
type RoundOrder string

const (
	// OrderRoster follows the room's roster; people not on it come after,
	// in join order.
	OrderRoster RoundOrder = "roster"
	// OrderJoin follows arrival order.
	OrderJoin RoundOrder = "join"
	// OrderShuffle is a random order.
	OrderShuffle RoundOrder = "shuffle"
)

// TurnStatus is where one participant's turn stands.
type TurnStatus string

const (
	TurnPending  TurnStatus = "pending"
	TurnSpeaking TurnStatus = "speaking"
	TurnSpoke    TurnStatus = "spoke"
	TurnPassed   TurnStatus = "passed"
	TurnSkipped  TurnStatus = "skipped"
	TurnLeft     TurnStatus = "left"
)

// Turn is one participant's place in a round.
type Turn struct {
	Participant string     `json:"participant"`
	Status      TurnStatus `json:"status"`
}

// round is a go-around: every member present gets the floor in turn.
// Facilitators run it and are not in it; members who arrive during it join
// the end.
type round struct {
	order   RoundOrder
	seconds int // per turn; 0 untimed
	turns   []Turn
	current int // index into turns; the round ends when none is left
}

// startRound orders the members present and gives the first of them the
// floor. Hands stay raised for after the round.
func (c *Controls) startRound(cmd Command) (bool, error) {
	if c.round != nil {
		return false, errInvalid("A round is already in progress.")
	}
	if err := checkSeconds(cmd.Seconds); err != nil {
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
	switch cmd.Order {
	case OrderJoin:
	case OrderRoster:
		rank := map[string]int{}
		for i, id := range cmd.Roster {
			if _, dup := rank[id]; !dup {
				rank[id] = i
			}
		}
		pos := func(s *seat) int {
			if i, ok := rank[s.p.Identity]; ok {
				return i
			}
			return len(cmd.Roster) // not on the roster: after, in join order
		}
		slices.SortStableFunc(members, func(a, b *seat) int { return pos(a) - pos(b) })
	case OrderShuffle:
		c.shuffle(len(members), func(i, j int) { members[i], members[j] = members[j], members[i] })
	default:
		return false, errInvalid("The order must be \"roster\", \"join\" or \"shuffle\".")
	}
	r := &round{order: cmd.Order, seconds: cmd.Seconds}
	for _, s := range members {
		r.turns = append(r.turns, Turn{Participant: s.p.ID, Status: TurnPending})
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
func (c *Controls) advance(status TurnStatus) {
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
	r.turns[next].Status = TurnSpeaking
	c.give(r.turns[next].Participant, r.seconds)
}

// nextPending is the index of the first pending turn after i, or -1.
func (r *round) nextPending(i int) int {
	for j := i + 1; j < len(r.turns); j++ {
		if r.turns[j].Status == TurnPending {
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
func (c *Controls) ownTurn(id string, status TurnStatus) (bool, error) {
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
	c.advance(TurnSpoke)
	return true, nil
}

// skip skips the current turn, or a later one so that it never comes.
func (c *Controls) skip(id string) (bool, error) {
	r := c.round
	if r == nil {
		return false, errInvalid("No round is in progress.")
	}
	if id == "" || id == r.turns[r.current].Participant {
		c.advance(TurnSkipped)
		return true, nil
	}
	i := r.index(id)
	if i < 0 || r.turns[i].Status != TurnPending {
		return false, errInvalid("That participant has no turn to come in this round.")
	}
	r.turns[i].Status = TurnSkipped
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
		c.advance(TurnLeft)
	case r.turns[i].Status == TurnPending:
		r.turns[i].Status = TurnLeft
	}
}
