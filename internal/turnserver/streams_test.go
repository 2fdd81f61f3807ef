package turnserver_test

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/turnserver"
)

// closedByServer waits until the server closes c (a read ends with EOF or
// a reset), within the step budget.
func closedByServer(t *testing.T, c net.Conn, what string) {
	t.Helper()
	_ = c.SetReadDeadline(budget.Deadline(t, budget.Step))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("%s: the server kept the connection open", what)
	}
}

func dialTCP(t *testing.T, addr net.Addr) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp4", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestUnallocatedConnectionsClose: a TCP or TLS connection that makes no
// allocation is closed after the timeout; one that holds an allocation
// stays and carries relayed packets.
func TestUnallocatedConnectionsClose(t *testing.T) {
	sfu := udpListener(t)
	s, pool := tlsServer(t, []netip.AddrPort{addrPort(sfu)}, func(c *turnserver.Config) {
		c.UnallocatedTimeout = 200 * time.Millisecond
	})
	c := client(t, s, "tcp", pool, "p_0a1b2c3d")
	relay, err := c.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()

	closedByServer(t, dialTCP(t, s.TCPAddr()), "idle TCP")
	tc := tls.Client(dialTCP(t, s.TLSAddr()), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	closedByServer(t, tc, "idle TLS")

	// The allocated connection outlived them (and their timeout).
	if _, err := relay.WriteTo([]byte("still here"), sfu.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	_ = sfu.SetReadDeadline(budget.Deadline(t, budget.Step))
	if n, _, err := sfu.ReadFromUDP(buf); err != nil || string(buf[:n]) != "still here" {
		t.Fatalf("the SFU got %q, %v through the allocated connection", buf[:n], err)
	}
}

// TestMaxUnallocated: beyond the bound, connections without an allocation
// are closed at once; those holding one do not count.
func TestMaxUnallocated(t *testing.T) {
	sfu := udpListener(t)
	s, pool := tlsServer(t, []netip.AddrPort{addrPort(sfu)}, func(c *turnserver.Config) {
		c.MaxUnallocated, c.UnallocatedTimeout = 2, time.Hour
	})
	// idle connects over TLS and stops there: once the handshake is over,
	// the server has taken the connection.
	idle := func() net.Conn {
		c := tls.Client(dialTCP(t, s.TLSAddr()), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})
		if err := c.Handshake(); err != nil {
			t.Fatal(err)
		}
		return c
	}
	first := idle()
	relay, err := client(t, s, "tcp", pool, "p_0a1b2c3d").Allocate()
	if err != nil {
		t.Fatalf("allocate beside one idle connection: %v", err)
	}
	defer relay.Close()
	idle()
	closedByServer(t, dialTCP(t, s.TCPAddr()), "a third idle connection")

	// Once the server has seen an idle connection go, another may come.
	first.Close()
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	var last error
	if err := waitFor(ctx, func() bool {
		var relay2 net.PacketConn
		if relay2, last = client(t, s, "tcp", pool, "p_11111111").Allocate(); last == nil {
			relay2.Close()
		}
		return last == nil
	}); err != nil {
		t.Fatalf("allocate after an idle connection closed: %v", last)
	}
}

// TestCloseClosesConnections: Close ends the TCP and TLS connections too,
// not only the listeners.
func TestCloseClosesConnections(t *testing.T) {
	sfu := udpListener(t)
	cert, _ := certFor(t, nil, loopback)
	s, err := turnserver.New(turnserver.Config{Host: "127.0.0.1", Key: testKey, Peers: []netip.AddrPort{addrPort(sfu)},
		Logger: discard(), TLSCertificate: cert, TLSAddr: ":0"})
	if err != nil {
		t.Fatal(err)
	}
	tcp, tlsConn := dialTCP(t, s.TCPAddr()), dialTCP(t, s.TLSAddr())
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	closedByServer(t, tcp, "TCP")
	closedByServer(t, tlsConn, "TLS")
}
