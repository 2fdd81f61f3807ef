package signaling

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hearth-rtc/hearth/cluster"
	"github.com/hearth-rtc/hearth/protocol"
)

// Relaying, when this server is one node of a cluster (package cluster):
// a room runs on one node, its owner. The node a client reaches reads its
// first message, a join or a resume, which names the room, and asks the
// cluster where the room runs (claiming it for the least loaded node if
// it runs nowhere). If another node runs it, this node opens a websocket
// to that node's /ws, carrying the cluster secret and the client's
// address, sends it the join, and from then on pipes frames both ways: the
// client's under this node's limits (size, rate), the owner's through
// this connection's bounded queue. The owner serves the client as any
// other; media goes straight between the client and the owner. A client
// that drops is dropped on the owner too (its seat is held for a resume,
// which may come through any node); one that says goodbye says it there.

// Placement says which node of a cluster runs a room; *cluster.Node
// implements it.
type Placement interface {
	// OwnerURL returns the internal base URL of the node that runs room,
	// claiming the room for a node if none does; "" means this node.
	OwnerURL(ctx context.Context, room string) (string, error)
	// Unreachable reports that url, given as room's node, refused a
	// connection: nothing listens there, so the room may be claimed anew.
	Unreachable(ctx context.Context, room, url string) error
}

var _ Placement = (*cluster.Node)(nil)

// Cluster configures a server that is one node of several; the zero value
// is a server on its own.
type Cluster struct {
	Placement Placement
	// Secret authenticates the nodes to each other: a websocket carrying
	// it comes from a peer, which is believed about the client's address
	// and is served here; one carrying another secret is refused.
	Secret string
	// Self is this node's id, named to the owner on a relayed websocket
	// (the owner may serve the client's media here: live.Config.Span).
	Self string
}

// relayState is a connection's part in relaying; under conn.mu.
type relayState struct {
	peer   bool            // the connection comes from another node
	via    string          // that node's id, if it named itself
	up     *websocket.Conn // the owner, once relayed
	done   chan struct{}   // closed when pipeDown has ended
	ending bool            // endRelay has begun
}

// maxOwnerMessage bounds one message from an owner: an offer to a client
// in a full room with cameras is under 100 KB.
const maxOwnerMessage = 16 << 20

// clusterPeer reports whether r comes from another node of the cluster,
// with the client address it names, and whether r must be refused (it
// carries a wrong secret).
func (s *Server) clusterPeer(r *http.Request) (addr string, peer, refuse bool) {
	if s.cfg.Cluster.Placement == nil {
		return "", false, false
	}
	peer, refuse = cluster.NewSecret(s.cfg.Cluster.Secret).FromPeer(r)
	if !peer {
		return "", false, refuse
	}
	a, err := netip.ParseAddr(r.Header.Get(cluster.ClientHeader))
	if err != nil {
		return "", true, false
	}
	return a.String(), true, false
}

// refusePeer answers a websocket that claims to come from another node
// and does not.
func refusePeer(w http.ResponseWriter) {
	http.Error(w, "forbidden: this request claims to come from another Hearth server, and does not", http.StatusForbidden)
}

// relayTarget returns the internal URL of the node that runs the room m
// names, or "" to serve it here: on a server on its own, and on the
// room's owner. A connection a peer relayed is relayed no further (one
// hop): if the room has moved meanwhile, it is refused with unavailable
// rather than served here beside the room's real node.
func (c *conn) relayTarget(ctx context.Context, m protocol.Join) (string, error) {
	c.mu.Lock()
	peer := c.relay.peer
	c.mu.Unlock()
	if c.srv.cfg.Cluster.Placement == nil {
		return "", nil
	}
	to, err := c.srv.cfg.Cluster.Placement.OwnerURL(ctx, m.Room)
	if err != nil || !peer || to == "" {
		return to, err
	}
	c.log.Info("a peer relayed a join for a room another node runs")
	return "", &protoError{code: protocol.CodeUnavailable, close: true,
		message: "The session moved to another server just now; please try again."}
}

// errOwnerUnreachable is told a client whose room's node cannot be
// reached.
func errOwnerUnreachable() *protoError {
	return &protoError{code: protocol.CodeUnavailable, close: true,
		message: "The server running this session cannot be reached just now; please try again shortly."}
}

// startRelay opens the websocket to the node at base, sends it the
// client's first message, and starts piping the node's messages to the
// client. From then on readLoop forwards what the client sends.
func (c *conn) startRelay(ctx context.Context, room, base string, first []byte) error {
	c.mu.Lock()
	addr := c.join.addr
	c.mu.Unlock()
	h := http.Header{}
	h.Set(cluster.SecretHeader, c.srv.cfg.Cluster.Secret)
	h.Set(cluster.ClientHeader, addr)
	if self := c.srv.cfg.Cluster.Self; self != "" {
		h.Set(cluster.NodeHeader, self)
	}
	d := websocket.Dialer{HandshakeTimeout: handlerTimeout, ReadBufferSize: 1024, WriteBufferSize: 4096}
	up, resp, err := d.DialContext(ctx, cluster.WebsocketURL(base)+"/ws", h)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		c.log.Warn("cannot reach the room's node", "node", base, "err", err)
		if errors.Is(err, syscall.ECONNREFUSED) {
			if err := c.srv.cfg.Cluster.Placement.Unreachable(ctx, room, base); err != nil {
				c.log.Warn("cluster", "err", err)
			}
		}
		return errOwnerUnreachable()
	}
	up.SetReadLimit(maxOwnerMessage)
	_ = up.SetWriteDeadline(time.Now().Add(writeWait))
	if err := up.WriteMessage(websocket.TextMessage, first); err != nil {
		up.Close()
		c.log.Warn("cannot reach the room's node", "node", base, "err", err)
		return errOwnerUnreachable()
	}
	done := make(chan struct{})
	c.mu.Lock()
	c.relay.up, c.relay.done = up, done
	c.mu.Unlock()
	go c.pipeDown(up, done)
	c.log.Debug("relayed to the room's node", "node", base)
	return nil
}

// wsURL turns an http(s) base URL into a ws(s) one.

// upstream returns the owner's websocket once c is relayed.
func (c *conn) upstream() *websocket.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.relay.up
}

// relayed reports whether c is relayed to another node.
func (c *conn) relayed() bool { return c.upstream() != nil }

// forward sends a client's message on to the owner (readLoop's goroutine
// is the only writer of data frames upstream).
func forward(up *websocket.Conn, msg []byte) error {
	_ = up.SetWriteDeadline(time.Now().Add(writeWait))
	return up.WriteMessage(websocket.TextMessage, msg)
}

// pipeDown queues every message of the owner for the client until the
// owner's socket ends. The owner's close code is passed on; a socket that
// ends without one (the owner is gone) ends the client's the same way, so
// that it reconnects.
func (c *conn) pipeDown(up *websocket.Conn, done chan struct{}) {
	defer close(done)
	idle := 2*c.srv.cfg.PingInterval + 5*time.Second
	up.SetPingHandler(func(data string) error {
		_ = up.SetReadDeadline(time.Now().Add(idle))
		_ = up.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeWait))
		return nil
	})
	for {
		_ = up.SetReadDeadline(time.Now().Add(idle))
		typ, b, err := up.ReadMessage()
		if err == nil {
			if typ == websocket.TextMessage {
				c.sendRaw(b)
			}
			continue
		}
		c.mu.Lock()
		ending := c.relay.ending
		c.mu.Unlock()
		if ending {
			return
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) && ce.Code != websocket.CloseAbnormalClosure {
			code := ce.Code
			if code == websocket.CloseNoStatusReceived {
				code = websocket.CloseNormalClosure
			}
			c.closeOut(code, ce.Text)
			return
		}
		c.log.Info("the room's node went away", "err", err)
		c.ws.Close()
		return
	}
}

// endRelay ends the owner's socket once the client's has ended: with a
// normal close when the end was on purpose (the client closed normally,
// or this node closed it for breaking a limit), so the owner lets the
// seat go as it would itself; abruptly otherwise (the client dropped,
// this node is shutting down), so the owner holds the seat for a resume
// through another node.
func (c *conn) endRelay() {
	c.mu.Lock()
	up, done := c.relay.up, c.relay.done
	goodbye := c.explicit || c.outClosed && c.byeReason != byeServerShutdown
	c.relay.ending = true
	c.mu.Unlock()
	if up == nil {
		return
	}
	if goodbye {
		// The owner answers the close frame and closes; what it sent
		// before is still read (and dropped: the client is gone).
		_ = up.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		select {
		case <-done:
		case <-time.After(closeWait):
		}
	}
	up.Close()
	<-done
}

// Via is the node of the cluster that relayed this connection, "" for a
// client connected here (live.Config.Span).
func (c *conn) Via() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.relay.via
}
