package app

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"

	"github.com/hearth-rtc/hearth/admin"
	"github.com/hearth-rtc/hearth/cluster"
	"github.com/hearth-rtc/hearth/live"
	"github.com/hearth-rtc/hearth/signaling"
)

// ClusterConfig makes a server one node of several on one Redis (package
// cluster); it needs Config.RedisURL.
type ClusterConfig struct {
	// Secret, shared by the nodes, turns clustering on and authenticates
	// the nodes to each other.
	Secret string
	// AdvertiseURL is where the other nodes reach this one's websocket
	// and admin API (http://10.0.0.5:8080); the listen URL if empty,
	// which must then name a host.
	AdvertiseURL string
	// SpanAfter, when positive, lets a room's media outgrow its node:
	// once that many participants' media is served there, a participant
	// who came in through another node has theirs served by that node
	// (live.Config.SpanAfter).
	SpanAfter int
}

// startCluster registers this node (not yet refreshed: Serve runs it)
// and returns what signaling needs of it.
func (a *App) startCluster(lv *live.Rooms) (signaling.Cluster, error) {
	cc := a.cfg.Cluster
	if cc.Secret == "" {
		if cc.AdvertiseURL != "" {
			return signaling.Cluster{}, fmt.Errorf("app: an advertised URL needs a cluster secret")
		}
		return signaling.Cluster{}, nil
	}
	if a.cfg.RedisURL == "" {
		return signaling.Cluster{}, fmt.Errorf("app: a cluster needs Redis")
	}
	if len(cc.Secret) < 16 {
		return signaling.Cluster{}, fmt.Errorf("app: the cluster secret must be at least 16 characters")
	}
	adv := cc.AdvertiseURL
	if adv == "" {
		adv = a.URL()
	}
	u, err := url.Parse(adv)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return signaling.Cluster{}, fmt.Errorf("app: advertised URL %q: want http(s)://host:port", adv)
	}
	if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsUnspecified() {
		return signaling.Cluster{}, fmt.Errorf("app: listening on %s, the other nodes need an address to reach this one: set the advertised URL", u.Host)
	}
	node, err := cluster.New(cluster.Options{
		RedisURL: a.cfg.RedisURL, ID: a.cfg.NodeID, AdvertiseURL: adv, Media: a.mediaAddrs(),
		Load: func() cluster.Load {
			st := lv.Stats()
			l := cluster.Load{Rooms: st.Rooms}
			for _, n := range st.People {
				l.Participants += n
			}
			return l
		},
		Rooms: lv.Names,
		// Two nodes ran a room (its lease lapsed, or Redis restarted
		// empty, and another node claimed it): the one without the lease
		// gives its people up, and they come back on the other.
		OnLost: func(name string) { lv.Yield(name) },
		Logger: a.log,
	})
	if err != nil {
		return signaling.Cluster{}, fmt.Errorf("app: %w", err)
	}
	a.node = node
	return signaling.Cluster{Placement: node, Secret: cc.Secret, Self: node.ID()}, nil
}

// nodeURL is the base URL of the node id, from the registry.
func (a *App) nodeURL(ctx context.Context, id string) (string, error) {
	if a.node == nil {
		return "", fmt.Errorf("app: not a node of a cluster")
	}
	recs, err := a.node.Nodes(ctx)
	if err != nil {
		return "", err
	}
	for _, rec := range recs {
		if rec.ID == id {
			return rec.URL, nil
		}
	}
	return "", fmt.Errorf("app: node %s is not in the registry", id)
}

// mediaAddrs are the addresses clients reach the media port at.
func (a *App) mediaAddrs() []string {
	port := strconv.Itoa(a.engine.LocalAddr().Port)
	if len(a.cfg.PublicIPs) == 0 {
		return []string{a.engine.LocalAddr().String()}
	}
	var out []string
	for _, ip := range a.cfg.PublicIPs {
		out = append(out, net.JoinHostPort(ip, port))
	}
	return out
}

// adminHandler is the admin API, forwarding to a room's node in a
// cluster.
func (a *App) adminHandler(h *admin.Handler) http.Handler {
	if a.node == nil {
		return h
	}
	// Signed in before forwarding: another node sees only this node's
	// address, so failed sign-ins are counted here, at the client's.
	return h.Gate(cluster.NewAdminForwarder(a.node, a.cfg.Cluster.Secret, "/admin", h))
}

// adminNode is the node for the admin API's /node (none on its own: a nil
// *cluster.Node must not become a non-nil interface).
func (a *App) adminNode() admin.Node {
	if a.node == nil {
		return nil
	}
	return a.node
}

// Node is this server's place in its cluster (nil on its own).
func (a *App) Node() *cluster.Node { return a.node }

// runCluster keeps this node's record and leases fresh until the returned
// stop is called, which removes them (so the node's rooms can be claimed
// again at once) and waits for that.
func (a *App) runCluster() (stop func()) {
	if a.node == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	// Registered before the first client can arrive, so that a room may be
	// claimed for this node at once.
	if err := a.node.Refresh(ctx); err != nil {
		a.log.Warn("cluster: register", "err", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := a.node.Run(ctx); err != nil {
			a.log.Warn("cluster: leaving", "err", err)
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
