package turnserver_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/turnserver"
	"github.com/pion/logging"
	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
	"go.uber.org/goleak"
)

// TestMain makes a certificate for 127.0.0.1 that the process trusts as a
// root. pion's ICE agent dials turns: URLs with a TLS configuration of its
// own, checked against the system's roots only (ice v4: the URL's host as
// server name, no way to pass roots), so the relay-only WebRTC clients can
// trust a test certificate only through the system roots, which Go reads
// from SSL_CERT_FILE once, on first use.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "turnserver-test-")
	if err == nil {
		var certFile string
		if certFile, err = writeTrustedCert(dir); err == nil {
			err = os.Setenv(trustedCertEnv, certFile)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "trusted certificate:", err)
		os.Exit(1)
	}
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		os.RemoveAll(dir)
		os.Exit(code)
	}))
}

var testKey = turnserver.DeriveKey([]byte("turn-test-secret-0123456789abcdef"))

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// quietLogs silences the pion TURN client.
type quietLogs struct{}

func (quietLogs) NewLogger(scope string) logging.LeveledLogger {
	return logging.NewDefaultLeveledLoggerForScope(scope, logging.LogLevelDisabled, io.Discard)
}

// start runs a TURN server on loopback whose relays may reach peers only.
func start(t *testing.T, peers []netip.AddrPort, mod func(*turnserver.Config)) *turnserver.Server {
	t.Helper()
	cfg := turnserver.Config{Host: "127.0.0.1", Key: testKey, Peers: peers, Logger: discard()}
	if mod != nil {
		mod(&cfg)
	}
	s, err := turnserver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

// udpListener is a loopback UDP socket standing in for an SFU or another
// service.
func udpListener(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func addrPort(c *net.UDPConn) netip.AddrPort { return c.LocalAddr().(*net.UDPAddr).AddrPort() }

func TestCredentialsMatchTheTURNRESTScheme(t *testing.T) {
	// pion's reference implementation of the scheme, with the same key,
	// must produce the same password for the same username.
	user, pass, err := turn.GenerateLongTermTURNRESTCredentials(string(testKey), "p_0a1b2c3d", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	exp, id, err := turnserver.ParseUsername(user)
	if err != nil || id != "p_0a1b2c3d" {
		t.Fatalf("ParseUsername(%q) = %v, %q, %v", user, exp, id, err)
	}
	gotUser, gotPass := turnserver.Credentials(testKey, "p_0a1b2c3d", exp)
	if gotUser != user || gotPass != pass {
		t.Fatalf("Credentials = %q/%q, pion = %q/%q", gotUser, gotPass, user, pass)
	}
	if _, p, err := turnserver.Password(testKey, user, time.Now()); err != nil || p != pass {
		t.Fatalf("Password = %q, %v; want %q", p, err, pass)
	}
	if _, _, err := turnserver.Password(testKey, user, exp); !errors.Is(err, turnserver.ErrExpired) {
		t.Fatalf("at expiry: %v, want ErrExpired", err)
	}
	if k := turnserver.DeriveKey([]byte("another-secret-0123456789")); string(k) == string(testKey) {
		t.Fatal("different secrets derive the same key")
	}
}

// allocate sends a TURN Allocate over UDP, answering the 401 challenge with
// username and password, and returns the final error code (0 on success).
func allocate(t *testing.T, server *net.UDPAddr, username, password, realm string) int {
	t.Helper()
	c, err := net.DialUDP("udp4", nil, server)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	transport := stun.RawAttribute{Type: stun.AttrRequestedTransport, Value: []byte{17, 0, 0, 0}}
	first := roundTrip(t, c, stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodAllocate, stun.ClassRequest),
		transport, stun.Fingerprint))
	var code stun.ErrorCodeAttribute
	if err := code.GetFrom(first); err != nil || code.Code != stun.CodeUnauthorized {
		t.Fatalf("unauthenticated allocate: %v (%v), want 401", code.Code, err)
	}
	var nonce stun.Nonce
	var srvRealm stun.Realm
	if err := nonce.GetFrom(first); err != nil {
		t.Fatal(err)
	}
	if err := srvRealm.GetFrom(first); err != nil || srvRealm.String() != "hearth" {
		t.Fatalf("realm %q (%v), want hearth", srvRealm, err)
	}
	if realm == "" {
		realm = srvRealm.String()
	}
	second := roundTrip(t, c, stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodAllocate, stun.ClassRequest),
		transport, stun.NewUsername(username), stun.NewRealm(realm), nonce,
		stun.NewLongTermIntegrity(username, realm, password), stun.Fingerprint))
	if second.Type.Class == stun.ClassSuccessResponse {
		return 0
	}
	if err := code.GetFrom(second); err != nil {
		t.Fatalf("allocate answered %v without an error code", second.Type)
	}
	return int(code.Code)
}

func roundTrip(t *testing.T, c *net.UDPConn, m *stun.Message) *stun.Message {
	t.Helper()
	if _, err := c.Write(m.Raw); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1500)
	for {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("no answer from the TURN server: %v", err)
		}
		resp := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
		if err := resp.Decode(); err != nil {
			t.Fatal(err)
		}
		if resp.TransactionID == m.TransactionID {
			return resp
		}
	}
}

func TestAuthRefusesBadAndExpiredCredentials(t *testing.T) {
	sfu := udpListener(t)
	s := start(t, []netip.AddrPort{addrPort(sfu)}, nil)
	user, pass := s.Credentials("p_0a1b2c3d")
	expUser, expPass := turnserver.Credentials(testKey, "p_0a1b2c3d", time.Now().Add(-time.Second))
	otherUser, otherPass := turnserver.Credentials(turnserver.DeriveKey([]byte("not-the-server-secret-000")), "p_0a1b2c3d", time.Now().Add(time.Hour))
	for _, tc := range []struct {
		name, user, pass, realm string
		want                    int
	}{
		{"valid", user, pass, "", 0},
		{"wrong password", user, pass + "x", "", 401},
		{"password of another user", strings.Replace(user, "p_0a1b2c3d", "p_ffffffff", 1), pass, "", 401},
		{"expired", expUser, expPass, "", 401},
		{"signed with another secret", otherUser, otherPass, "", 401},
		{"no expiry", "p_0a1b2c3d", pass, "", 401},
		{"other realm", user, pass, "elsewhere", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := allocate(t, s.UDPAddr(), tc.user, tc.pass, tc.realm); got != tc.want {
				t.Fatalf("allocate: code %d, want %d", got, tc.want)
			}
		})
	}
}

func TestAllocationQuota(t *testing.T) {
	sfu := udpListener(t)
	s := start(t, []netip.AddrPort{addrPort(sfu)}, func(c *turnserver.Config) { c.MaxAllocations = 1 })
	user, pass := s.Credentials("p_0a1b2c3d")
	if got := allocate(t, s.UDPAddr(), user, pass, ""); got != 0 {
		t.Fatalf("first allocation: code %d", got)
	}
	if got := allocate(t, s.UDPAddr(), user, pass, ""); got != int(stun.CodeAllocQuotaReached) {
		t.Fatalf("second allocation: code %d, want 486", got)
	}
	// Another participant has its own quota.
	user2, pass2 := s.Credentials("p_11111111")
	if got := allocate(t, s.UDPAddr(), user2, pass2, ""); got != 0 {
		t.Fatalf("other participant: code %d", got)
	}
}

// tlsServer runs a TURN server that also serves TLS, with a certificate
// for 127.0.0.1, and returns a pool trusting it.
func tlsServer(t *testing.T, peers []netip.AddrPort, mod func(*turnserver.Config)) (*turnserver.Server, *x509.CertPool) {
	t.Helper()
	cert, pool := certFor(t, nil, loopback)
	s := start(t, peers, func(c *turnserver.Config) {
		c.TLSCertificate, c.TLSAddr = cert, ":0"
		if mod != nil {
			mod(c)
		}
	})
	return s, pool
}

// client is a pion TURN client of user over transport: "udp", "tcp" or
// "tls" (trusting pool).
func client(t *testing.T, s *turnserver.Server, transport string, pool *x509.CertPool, user string) *turn.Client {
	t.Helper()
	username, password := s.Credentials(user)
	return clientAs(t, s, transport, pool, username, password)
}

// clientAs is client with the credentials given; Listen has started it.
func clientAs(t *testing.T, s *turnserver.Server, transport string, pool *x509.CertPool, username, password string) *turn.Client {
	t.Helper()
	cfg := &turn.ClientConfig{Username: username, Password: password, Realm: s.Realm(),
		LoggerFactory: quietLogs{}}
	switch transport {
	case "udp":
		conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		cfg.Conn = conn
		cfg.STUNServerAddr, cfg.TURNServerAddr = s.UDPAddr().String(), s.UDPAddr().String()
	case "tcp":
		conn, err := net.Dial("tcp4", s.TCPAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		cfg.Conn = turn.NewSTUNConn(conn)
		cfg.STUNServerAddr, cfg.TURNServerAddr = s.TCPAddr().String(), s.TCPAddr().String()
	case "tls":
		conn, err := tls.Dial("tcp4", s.TLSAddr().String(), &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Conn = turn.NewSTUNConn(conn)
		cfg.STUNServerAddr, cfg.TURNServerAddr = s.TLSAddr().String(), s.TLSAddr().String()
	default:
		t.Fatalf("transport %q", transport)
	}
	c, err := turn.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		cfg.Conn.Close()
	})
	return c
}

func TestRelayReachesOnlyTheSFU(t *testing.T) {
	for _, transport := range []string{"udp", "tcp", "tls"} {
		t.Run(transport, func(t *testing.T) {
			sfu := udpListener(t)
			other := udpListener(t) // another service on the same address
			s, pool := tlsServer(t, []netip.AddrPort{addrPort(sfu)}, nil)
			c := client(t, s, transport, pool, "p_0a1b2c3d")
			relay, err := c.Allocate()
			if err != nil {
				t.Fatalf("allocate: %v", err)
			}
			defer relay.Close()
			if ip := relay.LocalAddr().(*net.UDPAddr).IP; !ip.IsLoopback() {
				t.Fatalf("relay address %v is not on loopback", ip)
			}

			// A private address (never contacted: the server refuses the
			// permission) and a public one are both refused.
			for _, ip := range []string{"10.1.2.3", "192.0.2.1"} {
				if err := c.CreatePermission(&net.UDPAddr{IP: net.ParseIP(ip), Port: 9}); err == nil {
					t.Fatalf("permission to %s granted", ip)
				}
			}
			// Same IP as the SFU, another port: the permission exists (TURN
			// permissions are per IP) but the datagram is dropped.
			if _, err := relay.WriteTo([]byte("to-other"), other.LocalAddr()); err != nil {
				t.Fatalf("write to other: %v", err)
			}
			if _, err := relay.WriteTo([]byte("to-sfu"), sfu.LocalAddr()); err != nil {
				t.Fatalf("write to sfu: %v", err)
			}
			buf := make([]byte, 100)
			_ = sfu.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, from, err := sfu.ReadFromUDP(buf)
			if err != nil || string(buf[:n]) != "to-sfu" {
				t.Fatalf("the SFU got %q, %v", buf[:n], err)
			}
			// The server handles one client's requests in order and loopback
			// delivers at once, so had the first datagram been relayed it
			// would be queued already (a read with a deadline already past
			// does not look at the queue, hence the short one).
			_ = other.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			if n, _, err := other.ReadFromUDP(buf); err == nil {
				t.Fatalf("a service other than the SFU got %q through the relay", buf[:n])
			}
			if s.Dropped() == 0 {
				t.Fatal("the dropped datagram was not counted")
			}

			// Inbound: datagrams from other ports of the SFU's address are
			// dropped too; the SFU's own reach the client.
			if _, err := other.WriteToUDP([]byte("from-other"), from); err != nil {
				t.Fatal(err)
			}
			if _, err := sfu.WriteToUDP([]byte("from-sfu"), from); err != nil {
				t.Fatal(err)
			}
			_ = relay.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, src, err := relay.ReadFrom(buf)
			if err != nil || string(buf[:n]) != "from-sfu" || src.String() != sfu.LocalAddr().String() {
				t.Fatalf("client got %q from %v (%v), want from-sfu from the SFU", buf[:n], src, err)
			}
		})
	}
}

func TestTCPRelaysAreRefused(t *testing.T) {
	sfu := udpListener(t)
	s, pool := tlsServer(t, []netip.AddrPort{addrPort(sfu)}, nil)
	for _, transport := range []string{"tcp", "tls"} {
		c := client(t, s, transport, pool, "p_0a1b2c3d")
		if alloc, err := c.AllocateTCP(); err == nil {
			alloc.Close()
			t.Fatalf("a TCP relay (RFC 6062) was allocated over %s", transport)
		}
	}
}

func TestConfigChecks(t *testing.T) {
	peers := []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:7882")}
	for _, tc := range []struct {
		name string
		cfg  turnserver.Config
	}{
		{"short key", turnserver.Config{Host: "127.0.0.1", Key: []byte("short"), Peers: peers}},
		{"no peers", turnserver.Config{Host: "127.0.0.1", Key: testKey}},
		{"unspecified without public ip", turnserver.Config{Host: "0.0.0.0", Key: testKey, Peers: peers}},
		{"host name", turnserver.Config{Host: "localhost", Key: testKey, Peers: peers}},
		{"bad range", turnserver.Config{Host: "127.0.0.1", Key: testKey, Peers: peers, RelayMinPort: 50000, RelayMaxPort: 40000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Logger = discard()
			if s, err := turnserver.New(tc.cfg); err == nil {
				s.Close()
				t.Fatal("accepted")
			}
		})
	}
}

// TestURLs: UDP, then TCP, then TLS (named as the certificate names the
// server), so that clients fall back in that order.
func TestURLs(t *testing.T) {
	sfu := udpListener(t)
	s := start(t, []netip.AddrPort{addrPort(sfu)}, nil)
	want := []string{
		fmt.Sprintf("turn:127.0.0.1:%d?transport=udp", s.UDPAddr().Port),
		fmt.Sprintf("turn:127.0.0.1:%d?transport=tcp", s.TCPAddr().Port),
	}
	if got := s.URLs(); !slices.Equal(got, want) || s.TLSAddr() != nil {
		t.Fatalf("URLs = %q, want %q", got, want)
	}
	ts, _ := tlsServer(t, []netip.AddrPort{addrPort(sfu)}, nil)
	want = []string{
		fmt.Sprintf("turn:127.0.0.1:%d?transport=udp", ts.UDPAddr().Port),
		fmt.Sprintf("turn:127.0.0.1:%d?transport=tcp", ts.TCPAddr().Port),
		fmt.Sprintf("turns:127.0.0.1:%d?transport=tcp", ts.TLSAddr().Port),
	}
	if got := ts.URLs(); !slices.Equal(got, want) {
		t.Fatalf("URLs = %q, want %q", got, want)
	}
}

func TestMediaEndpoints(t *testing.T) {
	got, err := turnserver.MediaEndpoints(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 7882}, []string{"203.0.113.7"})
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.AddrPort{netip.MustParseAddrPort("203.0.113.7:7882"), netip.MustParseAddrPort("127.0.0.1:7882")}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("MediaEndpoints = %v, want %v", got, want)
	}
	all, err := turnserver.MediaEndpoints(&net.UDPAddr{IP: net.IPv4zero, Port: 7882}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range all {
		if a.Addr().IsLoopback() || a.Port() != 7882 || !a.Addr().Is4() {
			t.Fatalf("unspecified bind: endpoint %v", a)
		}
	}
	if _, err := turnserver.MediaEndpoints(&net.UDPAddr{Port: 1}, []string{"nope"}); err == nil {
		t.Fatal("bad public IP accepted")
	}
}
