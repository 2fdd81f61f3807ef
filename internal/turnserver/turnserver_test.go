package turnserver_test

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/turnserver"
	"github.com/pion/logging"
	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

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

// client is a pion TURN client over UDP or TCP.
func client(t *testing.T, s *turnserver.Server, tcp bool, user string) *turn.Client {
	t.Helper()
	username, password := s.Credentials(user)
	cfg := &turn.ClientConfig{Username: username, Password: password, Realm: s.Realm(),
		LoggerFactory: quietLogs{}}
	if tcp {
		conn, err := net.Dial("tcp4", s.TCPAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		cfg.Conn = turn.NewSTUNConn(conn)
		cfg.STUNServerAddr, cfg.TURNServerAddr = s.TCPAddr().String(), s.TCPAddr().String()
	} else {
		conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		cfg.Conn = conn
		cfg.STUNServerAddr, cfg.TURNServerAddr = s.UDPAddr().String(), s.UDPAddr().String()
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
	for _, tcp := range []bool{false, true} {
		name := "udp"
		if tcp {
			name = "tcp"
		}
		t.Run(name, func(t *testing.T) {
			sfu := udpListener(t)
			other := udpListener(t) // another service on the same address
			s := start(t, []netip.AddrPort{addrPort(sfu)}, nil)
			c := client(t, s, tcp, "p_0a1b2c3d")
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
	s := start(t, []netip.AddrPort{addrPort(sfu)}, nil)
	c := client(t, s, true, "p_0a1b2c3d")
	if alloc, err := c.AllocateTCP(); err == nil {
		alloc.Close()
		t.Fatal("a TCP relay (RFC 6062) was allocated")
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

func TestURLs(t *testing.T) {
	sfu := udpListener(t)
	s := start(t, []netip.AddrPort{addrPort(sfu)}, nil)
	urls := s.URLs()
	if len(urls) != 2 || !strings.HasPrefix(urls[0], "turn:127.0.0.1:") || !strings.HasSuffix(urls[0], "?transport=udp") ||
		!strings.HasSuffix(urls[1], "?transport=tcp") {
		t.Fatalf("URLs = %q", urls)
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
