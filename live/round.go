package live

import "github.com/hearth-rtc/hearth/protocol"

// round is a go-around: every member present gets the floor in turn.
// Facilitators run it and are not in it; members who arrive during it join
// the end.
type round struct {
	order   protocol.RoundOrder
	seconds int // per turn; 0 untimed
	turns   []protocol.Turn
	current int // index into turns; -1 before the first turn
}

// newRound returns a round with a pending turn for each of ids, in order,
// none of them started.
func newRound(order protocol.RoundOrder, seconds int, ids []string) *round {
	r := &round{order: order, seconds: seconds, current: -1}
	for _, id := range ids {
		r.join(id)
	}
	return r
}

// join adds a pending turn for id at the end.
func (r *round) join(id string) {
	r.turns = append(r.turns, protocol.Turn{Participant: id, Status: protocol.TurnPending})
}

// speaker is the participant whose turn it is.
func (r *round) speaker() string { return r.turns[r.current].Participant }

// next closes the current turn with status (unless there is none or status
// is empty) and starts the next pending one. It returns that turn's
// participant, or false when no turn is left: the round is over.
func (r *round) next(status protocol.TurnStatus) (string, bool) {
	if r.current >= 0 && status != "" {
		r.turns[r.current].Status = status
	}
	n := r.nextPending(r.current)
	if n < 0 {
		return "", false
	}
	r.current = n
	r.turns[n].Status = protocol.TurnSpeaking
	return r.turns[n].Participant, true
}

// skip marks id's pending turn skipped so that it never comes, and reports
// whether id had a turn to come.
func (r *round) skip(id string) bool {
	i := r.index(id)
	if i < 0 || r.turns[i].Status != protocol.TurnPending {
		return false
	}
	r.turns[i].Status = protocol.TurnSkipped
	return true
}

// leave marks a leaver's pending turn, and reports whether the leaver is
// speaking now (the caller then moves the round on).
func (r *round) leave(id string) (speaking bool) {
	i := r.index(id)
	switch {
	case i < 0:
	case i == r.current:
		return true
	case r.turns[i].Status == protocol.TurnPending:
		r.turns[i].Status = protocol.TurnLeft
	}
	return false
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
