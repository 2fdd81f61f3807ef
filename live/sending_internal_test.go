package live

import (
	"testing"

	"github.com/hearth-rtc/hearth/room"
	"github.com/hearth-rtc/hearth/sfu"
)

// sentTypes is a Conn that keeps the messages sent to it.
type sentTypes struct{ msgs []any }

func (c *sentTypes) Send(msg any)   { c.msgs = append(c.msgs, msg) }
func (c *sentTypes) Close(last any) {}

// TestSendingStalePeer: a report on the sound sent over a peer connection
// that a new one has replaced (measured before the swap, told after) is
// not taken for the new one: the person is not told their sound breaks
// up, nor marked weak.
func TestSendingStalePeer(t *testing.T) {
	old, cur := &sfu.Peer{}, &sfu.Peer{}
	c := &sentTypes{}
	x := &person{p: room.Participant{ID: "p1"}, state: room.StateActive, conn: c, peer: cur}
	r := &Room{people: map[string]*person{"p1": x}}
	r.tellSending(sfu.SendingQuality{Publisher: "p1", Peer: old, Poor: true, Lost: 0.3})
	if x.sendPoor || len(c.msgs) != 0 {
		t.Errorf("a report of the replaced peer connection was taken: sendPoor %v, %d messages sent", x.sendPoor, len(c.msgs))
	}
}
