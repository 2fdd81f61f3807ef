package turnserver_test

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/turnserver"
	"github.com/pion/stun/v4"
)

// TestTLSHost: turns: URLs name the host the certificate covers, which is
// checked when the server starts rather than by each client that fails.
func TestTLSHost(t *testing.T) {
	peers := []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:7882")}
	for _, tc := range []struct {
		name     string
		dns      []string
		ips      []net.IP
		host     string
		want     string // host in the turns: URL; "" for a refusal
		contains string // in the refusal
	}{
		{name: "first DNS name, wildcards aside", dns: []string{"*.example.org", "hearth.example.org", "turn.example.org"}, want: "hearth.example.org"},
		{name: "named host under a wildcard", dns: []string{"*.example.org"}, host: "turn.example.org", want: "turn.example.org"},
		{name: "IP certificate", ips: []net.IP{loopback}, want: "127.0.0.1"},
		{name: "named host not covered", dns: []string{"hearth.example.org"}, host: "turn.example.net", contains: "does not cover turn.example.net"},
		{name: "no name, IP not covered", dns: []string{"*.example.org"}, ips: []net.IP{net.IPv4(192, 0, 2, 1)}, contains: "does not cover 127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cert, _ := certFor(t, tc.dns, tc.ips...)
			s, err := turnserver.New(turnserver.Config{Host: "127.0.0.1", Key: testKey, Peers: peers, Logger: discard(),
				TLSCertificate: cert, TLSAddr: ":0", TLSHost: tc.host})
			if tc.want == "" {
				if err == nil {
					s.Close()
					t.Fatal("accepted")
				}
				if !strings.Contains(err.Error(), tc.contains) {
					t.Fatalf("error %q does not say %q", err, tc.contains)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			urls := s.URLs()
			if want := fmt.Sprintf("turns:%s:%d?transport=tcp", tc.want, s.TLSAddr().Port); urls[len(urls)-1] != want {
				t.Fatalf("URLs = %q, want the last %q", urls, want)
			}
		})
	}
	t.Run("empty certificate", func(t *testing.T) {
		if s, err := turnserver.New(turnserver.Config{Host: "127.0.0.1", Key: testKey, Peers: peers, Logger: discard(),
			TLSCertificate: &tls.Certificate{}, TLSAddr: ":0"}); err == nil {
			s.Close()
			t.Fatal("accepted")
		}
	})
}

// TestTLSCredentials: over TLS as over UDP, credentials are the
// participant's own, short-lived and checked.
func TestTLSCredentials(t *testing.T) {
	sfu := udpListener(t)
	s, pool := tlsServer(t, []netip.AddrPort{addrPort(sfu)}, nil)
	user, pass := s.Credentials("p_0a1b2c3d")
	expUser, expPass := turnserver.Credentials(testKey, "p_0a1b2c3d", time.Now().Add(-time.Second))
	otherUser, otherPass := turnserver.Credentials(turnserver.DeriveKey([]byte("not-the-server-secret-000")), "p_0a1b2c3d", time.Now().Add(time.Hour))
	for _, tc := range []struct {
		name, user, pass string
		ok               bool
	}{
		{"valid", user, pass, true},
		{"wrong password", user, pass + "x", false},
		{"expired", expUser, expPass, false},
		{"signed with another secret", otherUser, otherPass, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := clientAs(t, s, "tls", pool, tc.user, tc.pass)
			relay, err := c.Allocate()
			if err == nil {
				relay.Close()
			}
			if tc.ok && err != nil {
				t.Fatalf("allocate: %v", err)
			}
			if !tc.ok && (err == nil || !strings.Contains(err.Error(), "401")) {
				t.Fatalf("allocate: %v, want 401", err)
			}
		})
	}
}

// TestQuotaAcrossTransports: a participant's allocations count against one
// quota whether made over UDP, TCP or TLS.
func TestQuotaAcrossTransports(t *testing.T) {
	sfu := udpListener(t)
	s, pool := tlsServer(t, []netip.AddrPort{addrPort(sfu)}, func(c *turnserver.Config) { c.MaxAllocations = 2 })
	for _, transport := range []string{"udp", "tcp"} {
		relay, err := client(t, s, transport, pool, "p_0a1b2c3d").Allocate()
		if err != nil {
			t.Fatalf("allocate over %s: %v", transport, err)
		}
		t.Cleanup(func() { relay.Close() })
	}
	if relay, err := client(t, s, "tls", pool, "p_0a1b2c3d").Allocate(); err == nil || !strings.Contains(err.Error(), "486") {
		if err == nil {
			relay.Close()
		}
		t.Fatalf("third allocation over TLS: %v, want 486", err)
	}
	relay, err := client(t, s, "tls", pool, "p_11111111").Allocate()
	if err != nil {
		t.Fatalf("another participant over TLS: %v", err)
	}
	relay.Close()
}

// TestTLSPortSpeaksTLSOnly: TURN in the clear on the TLS port gets no
// answer, and the connection is closed.
func TestTLSPortSpeaksTLSOnly(t *testing.T) {
	sfu := udpListener(t)
	s, _ := tlsServer(t, []netip.AddrPort{addrPort(sfu)}, nil)
	conn, err := net.Dial("tcp4", s.TLSAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodAllocate, stun.ClassRequest),
		stun.RawAttribute{Type: stun.AttrRequestedTransport, Value: []byte{17, 0, 0, 0}}, stun.Fingerprint)
	if _, err := conn.Write(req.Raw); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(bufio.NewReader(conn))
	if stun.IsMessage(b) {
		t.Fatalf("the TLS port answered TURN in the clear: % x", b)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the connection stayed open: %v", err)
	}
}
