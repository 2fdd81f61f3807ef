// Package app assembles a Hearth server from its parts: the membership
// store and service, the SFU engine, the live rooms, signaling, the admin
// API and the web client. cmd/hearth and the tests both build servers with
// it.
package app

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/hearth-rtc/hearth/admin"
	"github.com/hearth-rtc/hearth/cluster"
	"github.com/hearth-rtc/hearth/internal/certfile"
	"github.com/hearth-rtc/hearth/internal/metrics"
	"github.com/hearth-rtc/hearth/internal/turnserver"
	"github.com/hearth-rtc/hearth/live"
	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/membership/redisstore"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/sfu"
	"github.com/hearth-rtc/hearth/signaling"
	"github.com/hearth-rtc/hearth/span"
	"github.com/hearth-rtc/hearth/web"
)

// Config is everything a server needs; zero values are sensible defaults.
type Config struct {
	// Listen is the HTTP address (web client, /ws, /healthz, /admin/).
	Listen string
	// UDPPort is the single media port, bound on Listen's host. 0 picks one.
	UDPPort int
	// PublicIPs replace host candidate addresses (NAT 1:1).
	PublicIPs []string
	// LoopbackOnly restricts ICE to loopback (tests).
	LoopbackOnly bool
	// TLSCert and TLSKey, when both set, serve HTTPS (and wss) directly:
	// browsers allow cameras only in a secure context off localhost.
	TLSCert, TLSKey string
	// RedisURL selects the Redis membership store; empty means in memory.
	RedisURL string
	// PresenceTTL is how long a presence outlives its last heartbeat.
	PresenceTTL time.Duration
	// HeartbeatInterval is how often presences are refreshed.
	HeartbeatInterval time.Duration
	// AttendanceRetention is how long attendance is kept;
	// membership.DefaultAttendanceRetention if zero.
	AttendanceRetention time.Duration
	// Secret signs join tokens. Empty generates one for this process only.
	Secret []byte
	// APIKey and APISecret enable the admin API when both are set.
	APIKey, APISecret string
	AllowedOrigins    []string
	// ReconnectGrace holds a dropped participant's seat; 20 s if zero.
	ReconnectGrace time.Duration
	// MaxConnsPerIP bounds websockets per client address (20 if zero,
	// none if negative), loopback included.
	MaxConnsPerIP int
	// TrustedProxies are the reverse proxies believed about the client
	// they forward for; JoinTimeout, AgreementTimeout and MaxUnjoined
	// bound the sockets that have not joined. See signaling.Config.
	TrustedProxies   []netip.Prefix
	JoinTimeout      time.Duration
	AgreementTimeout time.Duration
	MaxUnjoined      int
	ICEServers       []protocol.ICEServer
	NodeID           string
	Logger           *slog.Logger
	// TURN configures the embedded TURN server (off unless enabled).
	TURN TURNConfig
	// Pprof serves the runtime profiler under /debug/pprof/ (keep the
	// listener private when it is on).
	Pprof bool
	// DisableAudioFastPath sends media through pion's paths only (the
	// SFU's fast path, for audio and video both ways, is on by default);
	// DisableVideoFastPath leaves only what publishers send of video on
	// pion's path.
	DisableAudioFastPath bool
	DisableVideoFastPath bool
	// MediaSockets and NegotiationBatch: see sfu.Config.
	MediaSockets     int
	NegotiationBatch time.Duration
	// Cluster makes the server one node of several (cluster.go).
	Cluster ClusterConfig
}

// App is a running server's parts.
//
// Lifecycle: New → Serve (until ctx ends) → Close. Close without Serve is fine.
type App struct {
	cfg     Config
	log     *slog.Logger
	store   membership.Store
	closer  func() error
	rooms   *membership.Service
	engine  *sfu.Engine
	live    *live.Rooms
	signal  *signaling.Server
	handler http.Handler
	ln      net.Listener
	metrics *metrics.Metrics
	turn    *turnserver.Server
	node    *cluster.Node // nil unless clustered
	// span and host carry rooms' media across nodes (nil unless
	// clustered): this node's rooms' media on others, others' here.
	span  *span.Owner
	host  *span.Host
	certs *certfile.Pair // nil without TLSCert

	closeOnce sync.Once
}

// New builds the server and binds its sockets (so the caller learns the
// real ports before serving).
func New(cfg Config) (*App, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:8080"
	}
	if cfg.NodeID == "" {
		host, _ := os.Hostname()
		cfg.NodeID = host + "-" + strconv.Itoa(os.Getpid())
	}
	if len(cfg.Secret) == 0 {
		cfg.Secret = make([]byte, 32)
		if _, err := rand.Read(cfg.Secret); err != nil {
			return nil, fmt.Errorf("app: secret: %w", err)
		}
		log.Info("no token secret configured: join tokens are valid for this process only")
	}
	a := &App{cfg: cfg, log: log, metrics: metrics.New()}

	var err error
	if cfg.RedisURL != "" {
		var rs *redisstore.Store
		rs, err = redisstore.New(redisstore.Options{URL: cfg.RedisURL, TTL: cfg.PresenceTTL, Logger: log,
			AttendanceRetention: cfg.AttendanceRetention})
		if err != nil {
			return nil, fmt.Errorf("app: redis store: %w", err)
		}
		a.store, a.closer = rs, rs.Close
	} else {
		a.store, a.closer = membership.NewMemStore(membership.MemStoreOptions{TTL: cfg.PresenceTTL,
			AttendanceRetention: cfg.AttendanceRetention}), func() error { return nil }
	}

	host, _, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		a.closer()
		return nil, fmt.Errorf("app: listen address %q: %w", cfg.Listen, err)
	}
	a.ln, err = net.Listen("tcp", cfg.Listen)
	if err != nil {
		a.closer()
		return nil, fmt.Errorf("app: listen: %w", err)
	}
	a.engine, err = sfu.NewEngine(sfu.Config{
		UDPAddr:      net.JoinHostPort(host, strconv.Itoa(cfg.UDPPort)),
		PublicIPs:    cfg.PublicIPs,
		LoopbackOnly: cfg.LoopbackOnly,
		Logger:       log,
		Stats:        a.metrics.SFU,
		// Fast path: see sfu/fastpath.go.
		DisableAudioFastPath: cfg.DisableAudioFastPath,
		DisableVideoFastPath: cfg.DisableVideoFastPath,
		MediaSockets:         cfg.MediaSockets,
		NegotiationBatch:     cfg.NegotiationBatch,
	})
	if err != nil {
		a.ln.Close()
		a.closer()
		return nil, err
	}

	var lv *live.Rooms
	a.rooms, err = membership.NewService(membership.ServiceConfig{
		Store:             a.store,
		Secret:            cfg.Secret,
		NodeID:            cfg.NodeID,
		Logger:            log,
		HeartbeatInterval: cfg.HeartbeatInterval,
		PresenceTTL:       cfg.PresenceTTL,
		OnGone: func(roomName, id string) {
			lv.Kick(roomName, id, "removed")
		},
	})
	if err != nil {
		a.engine.Close()
		a.ln.Close()
		a.closer()
		return nil, err
	}
	if a.cfg.TLSCert != "" && a.cfg.TLSKey != "" {
		if a.certs, err = certfile.Load(a.cfg.TLSCert, a.cfg.TLSKey, a.log); err != nil {
			a.engine.Close()
			a.ln.Close()
			a.closer()
			return nil, fmt.Errorf("app: TLS certificate: %w", err)
		}
	}
	if err := a.startTURN(host); err != nil {
		a.engine.Close()
		a.ln.Close()
		a.closer()
		return nil, err
	}
	if cfg.Cluster.Secret != "" {
		a.span = span.NewOwner(cfg.NodeID, cfg.Cluster.Secret, a.nodeURL, log)
		a.host = span.NewHost(a.engine, cfg.Cluster.Secret, log)
	}
	lv = live.NewRooms(live.Config{
		Span:           a.span,
		SpanAfter:      cfg.Cluster.SpanAfter,
		Door:           a.rooms,
		Engine:         a.engine,
		Logger:         log,
		ReconnectGrace: cfg.ReconnectGrace,
		ICEServers:     cfg.ICEServers,
		ICEServersFor:  a.turnICEServers,
	})
	a.live = lv
	clu, err := a.startCluster(lv)
	if err != nil {
		a.closeTURN()
		a.engine.Close()
		a.ln.Close()
		a.closer()
		return nil, err
	}
	sig := signaling.New(signaling.Config{
		Cluster:          clu,
		Membership:       a.rooms,
		Rooms:            lv,
		AllowedOrigins:   cfg.AllowedOrigins,
		MaxConnsPerIP:    cfg.MaxConnsPerIP,
		TrustedProxies:   cfg.TrustedProxies,
		JoinTimeout:      cfg.JoinTimeout,
		AgreementTimeout: cfg.AgreementTimeout,
		MaxUnjoined:      cfg.MaxUnjoined,
		Logger:           log,
		Metrics:          a.metrics,
	})
	a.signal = sig
	a.metrics.WatchSignaling(sig.Stats)

	mux := http.NewServeMux()
	mux.Handle("/ws", sig)
	if a.host != nil {
		mux.Handle(span.Path, a.host)
	}
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("/admin/", a.adminHandler(admin.NewHandler(admin.Config{
		Store: a.store, APIKey: cfg.APIKey, APISecret: cfg.APISecret, Logger: log, Node: a.adminNode(), Sessions: lv,
		TrustedProxies: cfg.TrustedProxies,
	})))
	mux.Handle("/metrics", a.metrics.Handler())
	if cfg.Pprof {
		mux.Handle("/debug/pprof/", profiling())
	}
	mux.Handle("/", web.Handler())
	a.handler = mux
	return a, nil
}

// URL is the server's base URL.
func (a *App) URL() string {
	if a.cfg.TLSCert != "" && a.cfg.TLSKey != "" {
		return "https://" + a.ln.Addr().String()
	}
	return "http://" + a.ln.Addr().String()
}

// MediaAddr is the bound media socket's address.
func (a *App) MediaAddr() *net.UDPAddr { return a.engine.LocalAddr() }

// Secret is the token secret in use.
func (a *App) Secret() []byte { return a.cfg.Secret }

// Store is the membership store.
func (a *App) Store() membership.Store { return a.store }

// Handler is the HTTP handler (for tests that want it without the listener).
func (a *App) Handler() http.Handler { return a.handler }

// Serve serves until ctx ends, then shuts down gracefully: clients are told,
// peer connections closed, and Serve returns once all is done or after
// shutdownGrace.
func (a *App) Serve(ctx context.Context) error {
	srv := &http.Server{Handler: a.handler, ReadHeaderTimeout: 10 * time.Second}
	hbCtx, stopHB := context.WithCancel(context.Background())
	hbDone := make(chan struct{})
	go func() {
		defer close(hbDone)
		_ = a.rooms.Run(hbCtx)
	}()
	stopCluster := a.runCluster()
	errc := make(chan error, 1)
	go func() {
		if a.certs != nil {
			srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: a.certs.GetCertificate}
			errc <- srv.ServeTLS(a.ln, "", "")
			return
		}
		errc <- srv.Serve(a.ln)
	}()
	a.log.Info("hearth listening", "url", a.URL(), "media", a.engine.LocalAddr().String())

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	const shutdownGrace = 4 * time.Second
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	// The rooms' controls are written for the nodes that take them over,
	// and their people keep their seats there; then no new rooms come
	// here, and this node's rooms may be claimed again.
	if a.node != nil {
		if err := a.live.HandOver(sctx); err != nil {
			a.log.Warn("hand the rooms over", "err", err)
		}
	}
	stopCluster()
	// Websockets are hijacked connections, which http.Server.Shutdown does
	// not wait for: signaling says goodbye and closes them itself.
	sigErr := a.signal.Shutdown(sctx)
	httpErr := srv.Shutdown(sctx)
	if serveErr == nil {
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			serveErr = err
		}
	}
	stopHB()
	<-hbDone
	return errors.Join(serveErr, sigErr, httpErr, a.Close())
}

// The membership service is the live rooms' door.
var _ live.Door = (*membership.Service)(nil)

// Close releases the sockets and the store.
func (a *App) Close() error {
	var err error
	a.closeOnce.Do(func() {
		err = a.signal.Shutdown(context.Background())
		// After the connections: what is left are seats held for a resume.
		a.live.Close()
		if a.span != nil {
			a.span.Close()
			a.host.Close()
		}
		err = errors.Join(err, a.closeTURN(), a.engine.Close(), a.closer())
		if a.node != nil {
			err = errors.Join(err, a.node.Close())
		}
		a.ln.Close()
	})
	return err
}
