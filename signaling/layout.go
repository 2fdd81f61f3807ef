package signaling

// The layout's handler: it checks the message's bounds and hands the
// tiles to the live room, which makes them the layers each camera is
// forwarded at.

import "github.com/hearth-rtc/hearth/protocol"

func (c *conn) handleLayout(data []byte) error {
	r, id, err := c.seat()
	if err != nil {
		return err
	}
	var m protocol.Layout
	if err := decode(data, &m); err != nil {
		return err
	}
	if len(m.Tiles) > protocol.MaxLayoutTiles {
		return perr(protocol.CodeBadRequest, "A layout names at most %d tiles.", protocol.MaxLayoutTiles)
	}
	return r.Layout(id, c, m.Tiles)
}

// handleHearing takes a client's word on how much of the sound it
// receives is lost.
func (c *conn) handleHearing(data []byte) error {
	r, id, err := c.seat()
	if err != nil {
		return err
	}
	var m protocol.HearingQuality
	if err := decode(data, &m); err != nil {
		return err
	}
	return r.SetHearing(id, c, m.Poor)
}
