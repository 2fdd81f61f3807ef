// Package hearthtest starts a real Hearth server in-process for tests,
// listening on 127.0.0.1 with ICE restricted to loopback.
package hearthtest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/app"
)

// Options adjust the server; zero values give an in-memory server.
type Options struct {
	RedisURL          string
	Secret            []byte
	PresenceTTL       time.Duration
	HeartbeatInterval time.Duration
	APIKey, APISecret string
	AllowedOrigins    []string
	ReconnectGrace    time.Duration
	// MaxConnsPerIP bounds websockets per client address. Every test
	// client connects from 127.0.0.1, so zero means no limit here, unlike
	// the server's default of 20; a test of the limit sets it.
	MaxConnsPerIP int
	// TrustedProxies, JoinTimeout, AgreementTimeout and MaxUnjoined: see
	// signaling.Config.
	TrustedProxies   []netip.Prefix
	JoinTimeout      time.Duration
	AgreementTimeout time.Duration
	MaxUnjoined      int
	// PublicIPs replace the address of the server's media candidates (NAT
	// 1:1), e.g. with that of a relay in front of its media port.
	PublicIPs []string
	// TURN runs the embedded TURN server on free loopback ports.
	TURN bool
	// TURNTLSCert and TURNTLSKey (files), with TURN, also serve TURN over
	// TLS on a free loopback port with that certificate.
	TURNTLSCert, TURNTLSKey string
	// Logger defaults to keeping the last lines at info level and above,
	// printed if the test fails; with HEARTH_TEST_LOG set, everything goes
	// to stderr as it happens.
	Logger *slog.Logger
}

// Server is a running test server.
type Server struct {
	URL   string // http://127.0.0.1:port
	WSURL string // ws://127.0.0.1:port/ws
	App   *app.App

	cancel context.CancelFunc
	done   chan error
}

// DefaultSecret is the token secret test servers use unless told otherwise.
const DefaultSecret = "hearth-test-secret-0123456789abcdef"

// Start starts a server and stops it when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Logger == nil && os.Getenv("HEARTH_TEST_LOG") == "" {
		tail := &logTail{}
		opts.Logger = slog.New(slog.NewTextHandler(tail, &slog.HandlerOptions{Level: slog.LevelInfo}))
		// Registered first, so it runs last, after the server has stopped.
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("hearthtest: the server's last log lines:\n%s", tail.String())
			}
		})
	}
	s, err := start(opts)
	if err != nil {
		t.Fatalf("hearthtest: start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Logf("hearthtest: stop: %v", err)
		}
	})
	return s
}

// logTail keeps the last lines a logger wrote (slog writes one per call).
type logTail struct {
	mu    sync.Mutex
	lines [][]byte
	next  int
}

const logTailLines = 300

func (l *logTail) Write(p []byte) (int, error) {
	line := bytes.Clone(p)
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) < logTailLines {
		l.lines = append(l.lines, line)
	} else {
		l.lines[l.next] = line
		l.next = (l.next + 1) % logTailLines
	}
	return len(p), nil
}

func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for i := range l.lines {
		b.Write(l.lines[(l.next+i)%len(l.lines)])
	}
	return b.String()
}

func start(opts Options) (*Server, error) {
	log := opts.Logger
	if log == nil {
		var w io.Writer = io.Discard
		if os.Getenv("HEARTH_TEST_LOG") != "" {
			w = os.Stderr
		}
		log = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	secret := opts.Secret
	if secret == nil {
		secret = []byte(DefaultSecret)
	}
	maxConns := opts.MaxConnsPerIP
	if maxConns == 0 {
		maxConns = -1
	}
	turn := app.TURNConfig{Enabled: opts.TURN}
	if opts.TURNTLSCert != "" {
		turn.TLSAddr, turn.TLSCert, turn.TLSKey = "127.0.0.1:0", opts.TURNTLSCert, opts.TURNTLSKey
	}
	a, err := app.New(app.Config{
		Listen:            "127.0.0.1:0",
		UDPPort:           0,
		LoopbackOnly:      true,
		PublicIPs:         opts.PublicIPs,
		RedisURL:          opts.RedisURL,
		PresenceTTL:       opts.PresenceTTL,
		HeartbeatInterval: opts.HeartbeatInterval,
		Secret:            secret,
		APIKey:            opts.APIKey,
		APISecret:         opts.APISecret,
		AllowedOrigins:    opts.AllowedOrigins,
		ReconnectGrace:    opts.ReconnectGrace,
		MaxConnsPerIP:     maxConns,
		TrustedProxies:    opts.TrustedProxies,
		JoinTimeout:       opts.JoinTimeout,
		AgreementTimeout:  opts.AgreementTimeout,
		MaxUnjoined:       opts.MaxUnjoined,
		NodeID:            "test-node",
		TURN:              turn,
		Logger:            log,
	})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{URL: a.URL(), WSURL: "ws" + strings.TrimPrefix(a.URL(), "http") + "/ws", App: a,
		cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- a.Serve(ctx) }()
	return s, nil
}

// Stop shuts the server down gracefully and waits for it. Calling it twice
// is fine.
func (s *Server) Stop() error {
	s.cancel()
	err, ok := <-s.done
	if ok {
		close(s.done)
	}
	return err
}
