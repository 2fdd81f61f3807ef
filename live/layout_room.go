package live

import (
	"github.com/hearth-rtc/hearth/protocol"
)

// Room's layouts and video layers: each client's tiles become the most of
// each camera the router forwards to it and the order in which cameras
// give way when its bandwidth runs short (layout.go), and each publisher
// is told which layers of its camera anybody receives.

// Layout records the tiles the person seated as id (through from) shows
// now, replacing those it reported before. Refusals are
// room.RefusedError (bad_request); ErrWaiting and ErrNotSeated say the
// sender holds no seat.
func (r *Room) Layout(id string, from Conn, tiles []protocol.Tile) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	x, err := r.senderLocked(id, from)
	if err != nil {
		return err
	}
	count := 0
	for _, o := range r.people {
		if o.seated() {
			count++
		}
	}
	lay, err := readLayout(tiles, id, func(pid string) bool {
		o := r.people[pid]
		return o != nil && o.seated()
	}, count)
	if err != nil {
		return err
	}
	old := x.layout
	x.layout = lay
	r.applyLayoutLocked(x, old)
	rank(&r.media, r.ctl, r.people, r.active, x)
	return nil
}

// applyLayoutLocked gives the router the most of each camera x is to
// receive, for what changed since old (nil: all of it). A camera the
// layout no longer names gets the highest layer again. Under mu.
func (r *Room) applyLayoutLocked(x *person, old layout) {
	for pid, v := range x.layout {
		if o, ok := old[pid]; !ok || o.size != v.size {
			r.media.setLayer(x, pid, layerOf(v.size))
		}
	}
	for pid := range old {
		if _, ok := x.layout[pid]; !ok {
			r.media.setLayer(x, pid, layerOf(protocol.TileLarge))
		}
	}
}
