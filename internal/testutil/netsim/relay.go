package netsim

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// RelayConfig describes a Relay.
type RelayConfig struct {
	// Listen is where clients send, e.g. the Net's Host address with the
	// server's media port (so that the server's announced candidate,
	// rewritten to Host, names the relay).
	Listen netip.AddrPort
	// Target is the server's media socket.
	Target netip.AddrPort
	// Down impairs what goes from the server to clients, Up the other way.
	Down, Up Impairment
	// Seed makes the losses and jitter of a run repeatable.
	Seed uint64
}

// maxFlows bounds the clients (source addresses) one relay serves.
const maxFlows = 16

// Relay is an impairment stage in a UDP path: each client (source
// address) that sends to Listen gets a socket of its own towards Target,
// and each datagram either way goes through that direction's Impairment.
// The server sees each client as the relay's socket for it, as it would
// see a client behind a NAT.
//
// Lifecycle: NewRelay (serving; stopped and waited for by t.Cleanup) →
// Set, Stats any number of times.
type Relay struct {
	conn     *net.UDPConn
	target   *net.UDPAddr
	down, up *link
	cancel   context.CancelFunc
	wg       sync.WaitGroup

	mu     sync.Mutex
	flows  map[netip.AddrPort]*net.UDPConn
	closed bool
}

// NewRelay starts a relay; it stops when the test ends.
func NewRelay(t testing.TB, cfg RelayConfig) *Relay {
	t.Helper()
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(cfg.Listen))
	if err != nil {
		t.Fatalf("netsim: relay: %v", err)
	}
	_ = conn.SetReadBuffer(4 << 20)
	_ = conn.SetWriteBuffer(4 << 20)
	ctx, cancel := context.WithCancel(context.Background())
	r := &Relay{conn: conn, target: net.UDPAddrFromAddrPort(cfg.Target), cancel: cancel,
		down: newLink(cfg.Down, cfg.Seed), up: newLink(cfg.Up, cfg.Seed+1),
		flows: map[netip.AddrPort]*net.UDPConn{}}
	r.wg.Go(func() { r.down.run(ctx) })
	r.wg.Go(func() { r.up.run(ctx) })
	r.wg.Go(r.readClients)
	t.Cleanup(r.close)
	return r
}

// Addr is where clients send.
func (r *Relay) Addr() netip.AddrPort { return r.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// Set changes both directions' impairments for what arrives from now on.
func (r *Relay) Set(down, up Impairment) {
	r.down.set(down)
	r.up.set(up)
}

// Stats returns what each direction has done so far.
func (r *Relay) Stats() (down, up LinkStats) { return r.down.stats(), r.up.stats() }

func (r *Relay) close() {
	r.cancel()
	r.conn.Close()
	r.mu.Lock()
	r.closed = true
	for _, f := range r.flows {
		f.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

// readClients reads what clients send until the socket closes.
func (r *Relay) readClients() {
	for {
		b := make([]byte, 1600)
		n, from, err := r.conn.ReadFromUDPAddrPort(b)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		f := r.flow(from)
		if f == nil {
			continue
		}
		r.up.push(b[:n], time.Now(), func(p []byte) { _, _ = f.Write(p) })
	}
}

// flow returns the socket towards the target for client from, making it
// and its reader the first time; nil past maxFlows or after close.
func (r *Relay) flow(from netip.AddrPort) *net.UDPConn {
	r.mu.Lock()
	defer r.mu.Unlock()
	if f := r.flows[from]; f != nil {
		return f
	}
	if r.closed || len(r.flows) >= maxFlows {
		return nil
	}
	f, err := net.DialUDP("udp4", nil, r.target)
	if err != nil {
		return nil
	}
	_ = f.SetReadBuffer(4 << 20)
	r.flows[from] = f
	r.wg.Go(func() { r.readServer(f, from) })
	return f
}

// readServer reads what the target sends to one client until its socket
// closes.
func (r *Relay) readServer(f *net.UDPConn, to netip.AddrPort) {
	for {
		b := make([]byte, 1600)
		n, err := f.Read(b)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // ICMP unreachable while the target is not up yet
		}
		r.down.push(b[:n], time.Now(), func(p []byte) { _, _ = r.conn.WriteToUDPAddrPort(p, to) })
	}
}

// Forward accepts TCP connections on listen (port 0 picks one) and joins
// each to a connection to target, as they are: for a page and its
// websocket served on loopback to reach a browser in the namespace. It
// returns the address it listens on; everything stops when the test ends.
func Forward(t testing.TB, listen, target netip.AddrPort) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp4", listen.String())
	if err != nil {
		t.Fatalf("netsim: forward: %v", err)
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		conns  = map[net.Conn]struct{}{}
		closed bool
	)
	track := func(c net.Conn, add bool) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case add && closed:
			c.Close()
		case add:
			conns[c] = struct{}{}
		default:
			delete(conns, c)
		}
	}
	wg.Go(func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp4", target.String())
			if err != nil {
				in.Close()
				continue
			}
			track(in, true)
			track(out, true)
			pipe := func(dst, src net.Conn) {
				_, _ = io.Copy(dst, src)
				dst.Close()
				src.Close()
				track(dst, false)
				track(src, false)
			}
			wg.Go(func() { pipe(out, in) })
			wg.Go(func() { pipe(in, out) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		closed = true
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().(*net.TCPAddr).AddrPort()
}
