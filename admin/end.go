package admin

import "net/http"

// Sessions ends the sessions running on this server; *live.Rooms
// implements it. In a cluster a request about a room reaches the node
// running it (cluster.AdminForwarder), so this server's word is enough.
type Sessions interface {
	// End ends the session of the room on this server, everyone in it
	// told so, and reports whether one was running.
	End(room string) bool
}

// endSession serves POST /rooms/{name}/end.
func (h *Handler) endSession(name string) (int, any, error) {
	if h.live == nil || !h.live.End(name) {
		return 0, nil, errorf(http.StatusNotFound, "not_found", "no session of this room is running")
	}
	h.log.Info("admin: session ended", "room", name)
	return http.StatusOK, map[string]bool{"ended": true}, nil
}
