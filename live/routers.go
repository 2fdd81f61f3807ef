package live

import (
	"github.com/hearth-rtc/hearth/sfu"
	"github.com/hearth-rtc/hearth/span"
)

// routers are a room's routers: its own, and its media on other nodes
// (spread.go). Under Room.mu.
type routers struct {
	local   *sfu.Router
	remotes map[string]*span.Remote // by node
}

// setGate gives every router of the room the gate.
func (m *routers) setGate(g *sfu.Gate) {
	m.local.SetGate(g)
	for _, rem := range m.remotes {
		rem.SetGate(g)
	}
}

// setImportance gives x's router the order in which x's cameras give way.
func (m *routers) setImportance(x *person, order []string) {
	if rem := x.remote(); rem != nil {
		rem.SetImportance(x.p.ID, order)
		return
	}
	m.local.SetImportance(x.p.ID, order)
}

// setLayer sets, on x's router, the most of pid's camera x is to receive.
func (m *routers) setLayer(x *person, pid string, most int) {
	if rem := x.remote(); rem != nil {
		rem.SetLayerPreference(x.p.ID, pid, most)
		return
	}
	m.local.SetLayerPreference(x.p.ID, pid, most)
}

// takeRemotes returns the room's media on other nodes, forgetting it.
func (m *routers) takeRemotes() map[string]*span.Remote {
	rems := m.remotes
	m.remotes = nil
	return rems
}
