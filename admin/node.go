package admin

import (
	"context"
	"net/http"
)

// Node is this server's place in a cluster of nodes; *cluster.Node
// implements it.
type Node interface {
	// ID names the node.
	ID() string
	// Draining reports whether the node takes no new rooms.
	Draining() bool
	// SetDraining stops (or restarts) new rooms coming to the node; the
	// rooms it runs stay until they end.
	SetDraining(ctx context.Context, on bool) error
}

// nodeInfo is what /node reads and writes.
type nodeInfo struct {
	ID       string `json:"id,omitempty"`
	Draining *bool  `json:"draining"`
}

// nodeRoute serves GET and PUT /node.
func (h *Handler) nodeRoute(ctx context.Context, w http.ResponseWriter, r *http.Request) (int, any, error) {
	if h.node == nil {
		return 0, nil, errorf(http.StatusNotFound, "not_found", "this server is not one node of several")
	}
	switch r.Method {
	case http.MethodGet:
	case http.MethodPut:
		var in nodeInfo
		if err := h.decode(w, r, &in); err != nil {
			return 0, nil, err
		}
		if in.Draining == nil {
			return 0, nil, errorf(http.StatusBadRequest, "bad_request", "say true or false as \"draining\"")
		}
		if err := h.node.SetDraining(ctx, *in.Draining); err != nil {
			return 0, nil, err
		}
		h.log.Info("admin: node draining", "draining", *in.Draining)
	default:
		return 0, nil, notAllowed(w, "GET, PUT")
	}
	d := h.node.Draining()
	return http.StatusOK, nodeInfo{ID: h.node.ID(), Draining: &d}, nil
}
