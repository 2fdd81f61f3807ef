package signaling_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
)

// sockets opens websockets and closes them when the test ends.
type sockets struct {
	t    *testing.T
	open []*websocket.Conn
}

func newSockets(t *testing.T) *sockets {
	s := &sockets{t: t}
	t.Cleanup(func() {
		for _, ws := range s.open {
			ws.Close()
		}
	})
	return s
}

// dial opens a websocket to u, sending X-Forwarded-For xff if set. It
// returns the HTTP status and body of a refusal, or 101 and "".
func (s *sockets) dial(u, xff string) (int, string) {
	s.t.Helper()
	h := http.Header{}
	if xff != "" {
		h.Set("X-Forwarded-For", xff)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, resp, err := websocket.DefaultDialer.DialContext(ctx, u, h)
	if err == nil {
		s.open = append(s.open, ws)
		resp.Body.Close()
		return resp.StatusCode, ""
	}
	if resp == nil {
		s.t.Fatalf("dial %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	return resp.StatusCode, string(body)
}

// mustOpen dials and fails the test unless the upgrade succeeds.
func (s *sockets) mustOpen(u, xff, what string) {
	s.t.Helper()
	if code, body := s.dial(u, xff); code != http.StatusSwitchingProtocols {
		s.t.Fatalf("%s refused: %d %s", what, code, body)
	}
}

// mustRefuse dials and fails the test unless the upgrade is refused with
// 429 too_many_connections.
func (s *sockets) mustRefuse(u, xff, what string) {
	s.t.Helper()
	code, body := s.dial(u, xff)
	if code != http.StatusTooManyRequests || !strings.HasPrefix(body, "too_many_connections: ") {
		s.t.Fatalf("%s: %d %q; want 429 too_many_connections", what, code, body)
	}
}

// TestForgedForwardedForIgnored: a client that is not a trusted proxy
// cannot escape the per-address limit by naming other addresses in
// X-Forwarded-For: its connections count against its own address.
func TestForgedForwardedForIgnored(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{MaxConnsPerIP: 2,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
	s := newSockets(t)
	for i := range 2 {
		s.mustOpen(srv.WSURL, fmt.Sprintf("198.51.100.%d", i+1), fmt.Sprintf("connection %d", i+1))
	}
	s.mustRefuse(srv.WSURL, "198.51.100.3", "a third connection claiming another address")
}

// TestLimitsBehindTrustedProxy: behind a reverse proxy on 127.0.0.1 that
// Hearth trusts, each forwarded client has a limit of its own, one
// forwarded client is held to it, and the proxy's own address is limited
// like any other.
func TestLimitsBehindTrustedProxy(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{MaxConnsPerIP: 2,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	target, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	// A real reverse proxy: it passes the upgrade on and appends the
	// address it got the request from to X-Forwarded-For.
	front := httptest.NewServer(httputil.NewSingleHostReverseProxy(target))
	t.Cleanup(front.Close)
	viaProxy := "ws" + strings.TrimPrefix(front.URL, "http") + "/ws"

	s := newSockets(t)
	// The test's clients all live on 127.0.0.1; each names the address it
	// stands for, as a CDN in front of the proxy would. The proxy then
	// sends "198.51.100.N, 127.0.0.1", and Hearth, trusting 127.0.0.1,
	// counts 198.51.100.N.
	clients := []string{"198.51.100.1", "198.51.100.2", "198.51.100.3"}
	for _, c := range clients {
		for i := range 2 {
			s.mustOpen(viaProxy, c, fmt.Sprintf("%s's connection %d through the proxy", c, i+1))
		}
	}
	s.mustRefuse(viaProxy, clients[0], "a third connection for "+clients[0])
	// Without forwarding headers, the proxy is its own client.
	s.mustOpen(srv.WSURL, "", "a direct connection from the proxy's address")
	s.mustOpen(srv.WSURL, "", "a second direct connection from the proxy's address")
	s.mustRefuse(srv.WSURL, "", "a third direct connection from the proxy's address")
}
