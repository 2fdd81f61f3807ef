// Package cluster runs several Hearth nodes on one Redis: each node keeps
// a record of itself in Redis (its internal URL, media addresses and
// load), refreshed every few seconds with a lifetime, so a node that stops
// refreshing is gone within that lifetime; and each live room has one
// owner, the node that runs it, held by a lease the owner renews while
// the room is live. The first arrival claims the room for the least loaded
// live node; every later arrival, through any node, finds that owner, and
// the receiving node relays the arrival's signaling there (package
// signaling). Media goes straight to the owner.
//
// Layout (prefix P, default "hearth:cluster:"; it targets one Redis
// primary, as the membership store does):
//
//	P node:<id>     this node's Record (JSON), with the node lifetime
//	P nodes         set of node ids (pruned of ids whose record is gone)
//	P load          sorted set: node id -> load score
//	P owner:<room>  the owning node's id, with the lease lifetime
//	P claimed:<id>  rooms claimed for a node and not yet live there
package cluster

import "time"

// Record is what a node says of itself in the registry.
type Record struct {
	// ID names the node (-node-id).
	ID string `json:"id"`
	// URL is the node's internal base URL, where other nodes reach its
	// websocket and admin API (-advertise-url).
	URL string `json:"url"`
	// Media lists the addresses its media port is reached at.
	Media []string `json:"media,omitempty"`
	Load
	// Draining nodes take no new rooms.
	Draining bool `json:"draining,omitempty"`
	// At is when the record was written.
	At time.Time `json:"at"`
}

// Load is a node's load as it reports it.
type Load struct {
	// Rooms and Participants count what is live on the node.
	Rooms        int `json:"rooms"`
	Participants int `json:"participants"`
	// CPU is the process's CPU use since the last report, in percent of
	// one core.
	CPU float64 `json:"cpu"`
}

// roomWeight is what a room counts for in a node's load score, against 1
// per participant: a room claimed counts at once (before its people have
// arrived), so that rooms claimed in a burst spread over the nodes.
const roomWeight = 10

// score is the load score rooms are placed by: the lowest wins.
func (l Load) score() float64 {
	return float64(l.Participants + roomWeight*l.Rooms)
}
