// Package signaling is Hearth's websocket transport (PROTOCOL.md): the
// upgrade and its origin check, framing, limits (message size and rate,
// connections per address, the join deadline), encoding and decoding, the
// mapping of errors to codes, and a connection's resume. It turns each
// client message into one call: a join on membership, anything else on
// the live room the connection is in (package live), which it reaches
// only through live.Conn, implemented by its connections.
package signaling

import (
	"context"
	"errors"
	"github.com/hearth-rtc/hearth/cluster"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hearth-rtc/hearth/internal/clientaddr"
	"github.com/hearth-rtc/hearth/live"
	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/protocol"
)

// Membership is the door a join goes through; *membership.Service
// implements it.
type Membership interface {
	// Join decides on an arrival and records its presence here.
	Join(ctx context.Context, req membership.JoinRequest) (membership.JoinResult, error)
	// Leave records that a participant left.
	Leave(ctx context.Context, room, id string) error
}

var _ Membership = (*membership.Service)(nil)

// DefaultMaxMessageBytes bounds one client message. The largest messages
// are a browser's SDP answers, which grow with the room: Chromium's run
// about 570 bytes per audio and 890 per video section, so a full room of
// DefaultCapacity (50) with cameras on answers in about 72 KB. A
// departure's sections stay in the description until a newcomer reuses
// them (sfu/slots.go), so a long session's answers follow the most people
// seen at once. 256 KiB leaves room for that.
const DefaultMaxMessageBytes = 256 << 10

// Config configures a Server.
type Config struct {
	Membership Membership
	// Rooms are the live rooms a joined connection's messages go to.
	Rooms *live.Rooms
	// AllowedOrigins lists extra origins (scheme://host[:port]) allowed to
	// open the websocket besides the server's own; "*" allows any.
	AllowedOrigins []string
	Logger         *slog.Logger
	// MaxMessageBytes is the largest frame accepted; 256 KiB if zero
	// (DefaultMaxMessageBytes).
	MaxMessageBytes int64
	// PingInterval keeps idle connections (and NAT mappings) alive and
	// detects dead peers; 20 s if zero.
	PingInterval time.Duration
	// MessageRate and MessageBurst bound each connection's messages per
	// second (a token bucket); defaults 40 and 100.
	MessageRate, MessageBurst int
	// MaxConnsPerIP bounds websocket connections per client address (an
	// IPv6 client's /64); 20 if zero, none if negative. Loopback clients
	// count like any other: a reverse proxy belongs in TrustedProxies.
	MaxConnsPerIP int
	// TrustedProxies are the reverse proxies whose X-Forwarded-For or
	// Forwarded header names the client (clientaddr.ParseProxies).
	// The client address so found is what the limits count and the logs
	// show.
	TrustedProxies []netip.Prefix
	// JoinTimeout is how long a new socket has to join (be seated or put in
	// the waiting room) before it is closed with join_timeout; 10 s if
	// zero, none if negative.
	JoinTimeout time.Duration
	// AgreementTimeout is how long a person shown the group agreement has
	// to accept or decline it, in place of JoinTimeout, before the socket
	// is closed with join_timeout; 10 minutes if zero. Without a join
	// deadline (JoinTimeout negative) there is none for the agreement
	// either.
	AgreementTimeout time.Duration
	// MaxUnjoined bounds the sockets on this server that have not joined;
	// more upgrades are refused with HTTP 503 (limits.go). 1,000 if zero,
	// none if negative.
	MaxUnjoined int
	// Metrics, if set, counts messages, errors and join latency.
	Metrics Metrics
	// Cluster, when set, makes this server one node of several: a join
	// for a room another node runs is relayed there (relay.go).
	Cluster Cluster
}

// Server is the websocket endpoint. It implements http.Handler.
//
// Lifecycle: New → ServeHTTP for each client → Shutdown.
type Server struct {
	cfg      Config
	log      *slog.Logger
	trusted  clientaddr.Proxies
	upgrader websocket.Upgrader
	// msgBufs hold a message while it is read and handled: handlers copy
	// out what they keep, so one buffer serves message after message.
	msgBufs sync.Pool
	// messages is protocol.ClientMessages: the types dispatch accepts.
	messages map[string]func() any

	mu       sync.Mutex
	conns    map[*conn]struct{}
	resumes  map[string]*conn // resume secret -> seat holder
	perIP    map[string]int   // open connections per clientaddr.Key
	unjoined int              // open sockets that have not joined
	closing  bool
	wg       sync.WaitGroup

	// Refused upgrades are logged at most once per unjoinedLogEvery, with
	// how many there were: a flood of them must not flood the log.
	busyLog, perIPLog logThrottle
}

// New returns a Server.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxMessageBytes == 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if cfg.MessageRate == 0 {
		cfg.MessageRate = defaultMessageRate
	}
	if cfg.MessageBurst == 0 {
		cfg.MessageBurst = defaultMessageBurst
	}
	if cfg.MaxConnsPerIP == 0 {
		cfg.MaxConnsPerIP = defaultMaxConnsIP
	}
	if cfg.JoinTimeout == 0 {
		cfg.JoinTimeout = defaultJoinTimeout
	}
	if cfg.AgreementTimeout <= 0 {
		cfg.AgreementTimeout = defaultAgreementTimeout
	}
	if cfg.MaxUnjoined == 0 {
		cfg.MaxUnjoined = defaultMaxUnjoined
	}
	if cfg.PingInterval == 0 {
		cfg.PingInterval = 20 * time.Second
	}
	s := &Server{
		cfg:      cfg,
		messages: protocol.ClientMessages(),
		log:      cfg.Logger,
		trusted:  clientaddr.Proxies(cfg.TrustedProxies),
		conns:    map[*conn]struct{}{},
		resumes:  map[string]*conn{},
		perIP:    map[string]int{},
	}
	// Connections are mostly idle: a small read buffer (larger messages
	// are read in several pieces), and write buffers shared, held only
	// while a message is written.
	s.upgrader = websocket.Upgrader{
		ReadBufferSize:  1024,
		WriteBufferSize: 4096,
		WriteBufferPool: &sync.Pool{},
		CheckOrigin:     s.checkOrigin,
	}
	return s
}

// checkOrigin lets browsers connect only from the server's own origin or an
// allowed one, so a page elsewhere cannot act with a visitor's browser.
// Clients that send no Origin (not browsers) are allowed; "null" (a
// sandboxed frame, a file, a redirect across origins) is refused, even
// with "*" allowed.
func (s *Server) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if strings.EqualFold(origin, "null") {
		return false
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, a := range s.cfg.AllowedOrigins {
		if a == "*" || strings.EqualFold(strings.TrimRight(a, "/"), origin) {
			return true
		}
	}
	return false
}

// ServeHTTP upgrades to a websocket and serves one client until it leaves.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()

	peerAddr, peer, refuse := s.clusterPeer(r)
	if refuse {
		s.wg.Done()
		refusePeer(w)
		return
	}
	ip := s.trusted.Of(r)
	if peerAddr != "" {
		ip = peerAddr
	}
	key := clientaddr.Key(ip)
	if !s.admitConn(key) {
		s.wg.Done()
		s.mu.Lock()
		n, log := s.perIPLog.allow(time.Now(), unjoinedLogEvery)
		s.mu.Unlock()
		if log {
			s.log.Info("websocket upgrades refused: too many connections from one address", "ip", ip, "refused", n)
		}
		http.Error(w, string(protocol.CodeTooManyConns)+": too many connections from your address", http.StatusTooManyRequests)
		return
	}
	if !s.admitUnjoined() {
		s.releaseConn(key)
		s.wg.Done()
		s.refuseBusy(w)
		return
	}

	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.releaseUnjoined()
		s.releaseConn(key)
		s.wg.Done()
		// The upgrader has already answered with an HTTP error.
		s.log.Info("websocket upgrade refused", "origin", r.Header.Get("Origin"), "err", err)
		return
	}
	c := newConn(s, ws)
	c.relay.peer = peer
	if peer {
		c.relay.via = r.Header.Get(cluster.NodeHeader)
	}
	c.watchJoin(ip)
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	// The connection is served on its own goroutine and the handler
	// returns, so that net/http lets go of what it keeps for a request
	// while its handler runs (its read and write buffers, the request and
	// response): about 10 KiB for every participant.
	go func() {
		defer s.wg.Done()
		defer s.releaseConn(key)
		c.serve()
		c.endJoinWatch()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
}

// Shutdown tells every client the server is going away, closes their
// connections, and waits for them until ctx ends. The live rooms, and the
// seats they hold for connections lost earlier, are their owner's to
// close (live.Rooms.Close).
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.Close(protocol.Bye{Type: "bye", Reason: byeServerShutdown})
	}
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	// Force the stragglers: closing the sockets ends their read loops.
	for _, c := range conns {
		c.ws.Close()
	}
	// Closing the sockets ends every read loop promptly; if one is still
	// stuck after that, report it rather than hang the process.
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case <-done:
		return ctx.Err()
	case <-t.C:
		return errors.Join(ctx.Err(), errors.New("signaling: connections still open after shutdown"))
	}
}
