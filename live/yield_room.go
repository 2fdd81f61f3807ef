package live

// Room's yield: another node holds the room's lease (two nodes ran the
// room at once, as after a Redis that restarted empty), and the room
// here gives its people up to that node.

// yield lets everyone here go as if their connection had dropped, with no
// goodbye, so that their clients come back (a resume, or a join) through
// the room's node; their presences stay in the store for that node to take
// over (membership adopts them), and nothing more is mirrored from here.
// Someone who arrives here meanwhile is let go at the next yield. It
// reports whether anyone was here.
func (r *Room) yield() bool {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return false
	}
	r.yielded.Store(true)
	rels := make([]released, 0, len(r.people))
	for _, x := range r.people {
		x.conn.Close(nil)
	}
	for _, x := range r.people {
		rels = append(rels, r.releaseLocked(x))
	}
	r.mu.Unlock()
	r.log.Info("room held by another node; its people are let go to join it there", "people", len(rels))
	r.finish(rels, "server_shutdown")
	return len(rels) > 0
}
