package sfu

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/pion/stun/v4"
	"go.uber.org/goleak"
)

// newTestMux is a mux over two sockets sharing a loopback port, as the
// engine opens one per core.
func newTestMux(t *testing.T) (*udpMux, *Stats) {
	t.Helper()
	socks, err := listenMedia(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}, 2)
	if err != nil {
		t.Fatal(err)
	}
	stats := &Stats{}
	shards := make([]*udpBatcher, len(socks))
	for i, sock := range socks {
		_ = sock.SetReadBuffer(4 << 20) // as the engine's
		if shards[i], err = newUDPBatcher(sock, stats); err != nil {
			t.Fatal(err)
		}
	}
	return newUDPMux(shards, slog.New(slog.DiscardHandler), stats), stats
}

func bindingRequest(t *testing.T, username string) []byte {
	t.Helper()
	m, err := stun.Build(stun.BindingRequest, stun.TransactionID, stun.NewUsername(username))
	if err != nil {
		t.Fatal(err)
	}
	return m.Raw
}

type readResult struct {
	b    []byte
	from netip.AddrPort
	err  error
}

func readAsync(h *muxHandle) chan readResult {
	ch := make(chan readResult, 1)
	go func() {
		buf := make([]byte, 2000)
		n, from, err := h.ReadFromAddrPort(buf)
		ch <- readResult{buf[:n], from, err}
	}()
	return ch
}

func wait(t *testing.T, ch chan readResult) readResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(2 * time.Second):
		t.Fatal("read timed out")
		return readResult{}
	}
}

// TestMuxRouting: a STUN request finds its agent by ufrag; once the agent
// writes to the peer, everything from the peer's address goes to it; other
// traffic from unknown addresses is dropped.
func TestMuxRouting(t *testing.T) {
	defer goleak.VerifyNone(t)
	m, stats := newTestMux(t)
	defer m.Close()
	conn, err := m.GetConn("srvA", m.local)
	if err != nil {
		t.Fatal(err)
	}
	a := conn.(*muxHandle)
	other, err := m.GetConn("srvB", m.local)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.GetConn("srvA", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 9}); err == nil {
		t.Fatal("GetConn accepted an address the mux does not listen on")
	}

	peer := loopbackUDP(t)
	dst := net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(m.local.Port)))
	// Not STUN, unknown source: dropped.
	if _, err := peer.WriteTo([]byte{0x80, 111, 0, 1}, dst); err != nil {
		t.Fatal(err)
	}
	req := bindingRequest(t, "srvA:cli1")
	got := readAsync(a)
	if _, err := peer.WriteTo(req, dst); err != nil {
		t.Fatal(err)
	}
	r := wait(t, got)
	if r.err != nil || string(r.b) != string(req) || r.from != addrOf(peer) {
		t.Fatalf("STUN routed wrong: %v from %v", r.err, r.from)
	}
	if stats.MuxDropped.Load() != 1 {
		t.Errorf("dropped %d, want 1 (the stray RTP)", stats.MuxDropped.Load())
	}
	// The agent answers; the peer's address is now its own.
	if _, err := a.WriteToAddrPort([]byte("response"), addrOf(peer)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	_ = peer.SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, _, err := peer.ReadFrom(buf); err != nil || string(buf[:n]) != "response" {
		t.Fatalf("peer got %q, %v", buf[:n], err)
	}
	got = readAsync(a)
	if _, err := peer.WriteTo([]byte{0x80, 111, 0, 2}, dst); err != nil {
		t.Fatal(err)
	}
	if r := wait(t, got); r.err != nil || len(r.b) != 4 {
		t.Fatalf("media from a known address: %v %v", r.b, r.err)
	}

	// Closing the last handle ends reads and routes.
	blocked := readAsync(a)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if r := wait(t, blocked); r.err == nil {
		t.Fatal("read on a closed handle returned no error")
	}
	if _, err := a.WriteToAddrPort([]byte("x"), addrOf(peer)); err != io.ErrClosedPipe {
		t.Fatalf("write after close: %v", err)
	}
	m.addrMu.RLock()
	routes := len(m.byAddr)
	m.addrMu.RUnlock()
	if routes != 0 {
		t.Fatalf("%d routes left after close", routes)
	}
	_ = other.Close()
}

// TestMuxSharedHandles: several handles share a conn, which closes with the
// last; RemoveConnByUfrag closes it for all.
func TestMuxSharedHandles(t *testing.T) {
	defer goleak.VerifyNone(t)
	m, _ := newTestMux(t)
	defer m.Close()
	h1, _ := m.GetConn("u", m.local)
	h2, _ := m.GetConn("u", m.local)
	if h1.(*muxHandle).muxConn != h2.(*muxHandle).muxConn {
		t.Fatal("two handles for one ufrag do not share a conn")
	}
	_ = h1.Close()
	_ = h1.Close() // twice is fine
	if h2.(*muxHandle).isShut() {
		t.Fatal("conn closed while a handle remains")
	}
	pending := readAsync(h2.(*muxHandle))
	m.RemoveConnByUfrag("u")
	if r := wait(t, pending); r.err == nil {
		t.Fatal("RemoveConnByUfrag did not end the read")
	}
	_ = h2.Close()
	// The mux's close ends its reader, and GetConn fails after it.
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.GetConn("v", m.local); err == nil {
		t.Fatal("GetConn on a closed mux succeeded")
	}
}

func TestStunUsername(t *testing.T) {
	req := bindingRequest(t, "abcd:efgh")
	u, ok := stunUsername(req)
	if !ok || string(u) != "abcd:efgh" {
		t.Fatalf("got %q %v", u, ok)
	}
	if _, ok := stunUsername(req[:22]); ok {
		t.Fatal("truncated message parsed")
	}
}

// TestMuxShards: with the port shared by several sockets, each client's
// datagrams still reach its own agent, all of them and in the order sent,
// whichever socket the kernel hands them to.
func TestMuxShards(t *testing.T) {
	defer goleak.VerifyNone(t)
	m, _ := newTestMux(t)
	defer m.Close()
	if len(m.shards) != 2 {
		t.Fatalf("%d sockets, want 2", len(m.shards))
	}
	dst := net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(m.local.Port)))
	const clients, count = 8, 30
	type client struct {
		h    *muxHandle
		sock *net.UDPConn
	}
	cs := make([]client, clients)
	for i := range cs {
		ufrag := fmt.Sprint("srv", i)
		conn, err := m.GetConn(ufrag, m.local)
		if err != nil {
			t.Fatal(err)
		}
		cs[i] = client{h: conn.(*muxHandle), sock: loopbackUDP(t)}
		got := readAsync(cs[i].h)
		if _, err := cs[i].sock.WriteTo(bindingRequest(t, ufrag+":cli"), dst); err != nil {
			t.Fatal(err)
		}
		if r := wait(t, got); r.err != nil || r.from != addrOf(cs[i].sock) {
			t.Fatalf("client %d: STUN not routed: %v", i, r.err)
		}
		// The agent answers, which routes the address to it.
		if _, err := cs[i].h.WriteToAddrPort([]byte("ok"), addrOf(cs[i].sock)); err != nil {
			t.Fatal(err)
		}
	}
	// 240 datagrams at once: inside even default socket buffers.
	for seq := range count {
		for _, c := range cs {
			if _, err := c.sock.WriteTo([]byte{0x80, 111, 0, byte(seq)}, dst); err != nil {
				t.Fatal(err)
			}
		}
	}
	buf := make([]byte, 100)
	for i, c := range cs {
		for seq := range count {
			done := make(chan error, 1)
			go func() {
				n, _, err := c.h.ReadFromAddrPort(buf)
				if err == nil && (n != 4 || buf[3] != byte(seq)) {
					err = fmt.Errorf("got %x, want sequence %d", buf[:n], seq)
				}
				done <- err
			}()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("client %d: %v", i, err)
				}
			case <-time.After(2 * time.Second):
				t.Fatalf("client %d: datagram %d never arrived", i, seq)
			}
		}
	}
	for _, c := range cs {
		_ = c.h.Close()
	}
}

// TestMuxBounds: a datagram larger than pion reads is dropped and
// counted; an agent is routed datagrams from a bounded number of
// addresses, and connectivity checks from more find no agent.
func TestMuxBounds(t *testing.T) {
	defer goleak.VerifyNone(t)
	m, stats := newTestMux(t)
	defer m.Close()
	conn, err := m.GetConn("many", m.local)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	h := conn.(*muxHandle)
	c := h.muxConn

	peer := loopbackUDP(t)
	if _, err := h.WriteToAddrPort([]byte("ok"), addrOf(peer)); err != nil {
		t.Fatal(err)
	}
	dst := net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(m.local.Port)))
	got := readAsync(h)
	for _, n := range []int{muxPacketSize + 1, muxPacketSize} {
		if _, err := peer.WriteTo(make([]byte, n), dst); err != nil {
			t.Fatal(err)
		}
	}
	if r := wait(t, got); r.err != nil || len(r.b) != muxPacketSize {
		t.Fatalf("read %d bytes, %v; want the datagram of %d", len(r.b), r.err, muxPacketSize)
	}
	if n := stats.MuxDropped.Load(); n != 1 {
		t.Errorf("%d dropped, want 1", n)
	}

	req := bindingRequest(t, "many:cli")
	for i := 1; i <= muxAddrs; i++ { // the peer's address is the first
		if i < muxAddrs && m.byStun(req) != c {
			t.Fatalf("with %d addresses, a check found no agent", i)
		}
		m.register(c, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(10000+i)))
	}
	m.addrMu.RLock()
	routes := len(m.byAddr)
	m.addrMu.RUnlock()
	if routes != muxAddrs || len(c.addrs) != muxAddrs {
		t.Fatalf("%d routes, %d addresses; want %d", routes, len(c.addrs), muxAddrs)
	}
	if m.byStun(req) != nil {
		t.Fatal("a check from one address too many found its agent")
	}
}

// TestMuxGuard: what arrives for an agent passes its peer's guard, set
// before the agent asks for its conn or after.
func TestMuxGuard(t *testing.T) {
	defer goleak.VerifyNone(t)
	m, stats := newTestMux(t)
	defer m.Close()
	dst := net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(m.local.Port)))
	for _, before := range []bool{true, false} {
		ufrag := fmt.Sprint("guard-", before)
		g := newIngress(slog.New(slog.DiscardHandler), stats, &keyCapture{})
		g.set("", desc("", "audio 0 sendonly ssrc:11"))
		if before {
			m.guard(ufrag, g)
		}
		conn, err := m.GetConn(ufrag, m.local)
		if err != nil {
			t.Fatal(err)
		}
		h := conn.(*muxHandle)
		if !before {
			m.guard(ufrag, g)
		}
		peer := loopbackUDP(t)
		if _, err := h.WriteToAddrPort([]byte("ok"), addrOf(peer)); err != nil {
			t.Fatal(err)
		}
		dropped := stats.IngressDropped[IngressUnknownSSRC].Load()
		got := readAsync(h)
		for _, b := range [][]byte{rtpOn(99), rtpOn(11)} {
			if _, err := peer.WriteTo(b, dst); err != nil {
				t.Fatal(err)
			}
		}
		if r := wait(t, got); r.err != nil || !slices.Equal(r.b, rtpOn(11)) {
			t.Fatalf("guard set before %v: read %x, %v; want the packet on the announced SSRC", before, r.b, r.err)
		}
		if stats.IngressDropped[IngressUnknownSSRC].Load() != dropped+1 {
			t.Errorf("guard set before %v: the drop was not counted", before)
		}
		m.unguard(ufrag, g)
		_ = h.Close()
	}
	m.mu.Lock()
	left := len(m.guards)
	m.mu.Unlock()
	if left != 0 {
		t.Errorf("%d guards left", left)
	}
}
