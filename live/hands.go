package live

import (
	"time"

	"github.com/hearth-rtc/hearth/protocol"
)

// handQueue is the raised hands, longest raised first.
type handQueue []protocol.Hand

// raise appends id, raised at since; raising twice keeps the first place.
// It reports whether the queue changed.
func (q *handQueue) raise(id string, since time.Time) bool {
	if q.index(id) >= 0 {
		return false
	}
	*q = append(*q, protocol.Hand{Participant: id, Since: since})
	return true
}

// lower takes id out of the queue and reports whether its hand was up.
func (q *handQueue) lower(id string) bool {
	i := q.index(id)
	if i < 0 {
		return false
	}
	*q = append((*q)[:i:i], (*q)[i+1:]...)
	return true
}

// first is the participant whose hand has been up longest, or "".
func (q *handQueue) first() string {
	if len(*q) == 0 {
		return ""
	}
	return (*q)[0].Participant
}

func (q *handQueue) index(id string) int {
	for i, h := range *q {
		if h.Participant == id {
			return i
		}
	}
	return -1
}
