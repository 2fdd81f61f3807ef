package sfu

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtp"
	"github.com/pion/stun/v4"
)

// udpMux is the engine's ICE UDP mux: every peer connection's ICE agent gets
// a conn from it, all over the one media socket. It stands in for pion's
// UDPMuxDefault, which queues every received datagram in an 8 KiB buffer
// (70 KiB a participant at the packet rates of a group) and takes several
// atomics and a lock per datagram written.
//
// Routing follows pion's: a datagram goes to the conn that last wrote to its
// source address; from an unknown address, a STUN request is routed by the
// local ufrag in its USERNAME, and anything else is dropped.
//
// Lifecycle: newUDPMux starts the reader goroutines (one per core); Close
// stops them, closes every conn and the socket.
type udpMux struct {
	sock *udpBatcher // the first socket; the one written to
	// shards are the sockets sharing the port (the first among them),
	// each with its reader.
	shards []*udpBatcher
	local  *net.UDPAddr
	log    *slog.Logger
	stats  *Stats

	mu      sync.Mutex
	byUfrag map[string]*muxConn
	// guards are the peers' ingress guards by local ufrag (ingress.go),
	// set before their ICE agents ask for a conn or after.
	guards map[string]*ingress
	closed bool

	addrMu sync.RWMutex
	byAddr map[netip.AddrPort]*muxConn

	pool    sync.Pool // *muxPacket
	readers sync.WaitGroup
}

var _ ice.UDPMux = (*udpMux)(nil)

const (
	// muxPacketSize is the largest datagram routed: pion reads no more
	// (its receive MTU) and logs a warning for each larger one, and WebRTC
	// peers keep under the path MTU.
	muxPacketSize = 1500
	// muxQueue bounds what waits for one agent; a stalled agent loses
	// packets instead of growing the server's memory.
	muxQueue = 256
	// muxAddrs bounds the addresses one agent is routed datagrams from:
	// a client's candidates (Peer bounds those) and the addresses its
	// connectivity checks come from. Each costs a route here and, in the
	// agent, a peer-reflexive candidate checked from then on.
	muxAddrs = 128
)

type muxPacket struct {
	next *muxPacket
	from netip.AddrPort
	n    int
	buf  []byte
}

func newUDPMux(shards []*udpBatcher, log *slog.Logger, stats *Stats) *udpMux {
	sock := shards[0]
	m := &udpMux{
		sock: sock, shards: shards, local: sock.LocalAddr().(*net.UDPAddr), log: log, stats: stats,
		byUfrag: map[string]*muxConn{}, byAddr: map[netip.AddrPort]*muxConn{}, guards: map[string]*ingress{},
	}
	m.pool.New = func() any { return &muxPacket{buf: make([]byte, muxPacketSize)} }
	// One reader per socket, and a socket per core (engine.go): audio on
	// the fast path is fanned out by the reader that took it off its
	// socket, so one reader would hold the server's audio to one core.
	for _, sh := range shards {
		m.readers.Add(1)
		go func() {
			defer m.readers.Done()
			m.readLoop(sh)
		}()
	}
	return m
}

// GetConn implements ice.UDPMux. Each call returns a handle to the ufrag's
// conn; the conn lives until its last handle is closed.
func (m *udpMux) GetConn(ufrag string, addr net.Addr) (net.PacketConn, error) {
	if ua, ok := addr.(*net.UDPAddr); !ok || !ua.IP.Equal(m.local.IP) || ua.Port != m.local.Port {
		return nil, fmt.Errorf("sfu: mux: no listener on %v", addr)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, io.ErrClosedPipe
	}
	c := m.byUfrag[ufrag]
	if c == nil {
		c = &muxConn{mux: m, ufrag: ufrag, notify: make(chan struct{}, 1), closed: make(chan struct{})}
		c.guard.Store(m.guards[ufrag])
		m.byUfrag[ufrag] = c
	}
	c.refs++
	return &muxHandle{muxConn: c, done: make(chan struct{})}, nil
}

// RemoveConnByUfrag implements ice.UDPMux.
func (m *udpMux) RemoveConnByUfrag(ufrag string) {
	m.mu.Lock()
	c := m.byUfrag[ufrag]
	delete(m.byUfrag, ufrag)
	m.mu.Unlock()
	if c != nil {
		c.shut()
	}
}

// GetListenAddresses implements ice.UDPMux.
func (m *udpMux) GetListenAddresses() []net.Addr { return []net.Addr{m.local} }

// Close implements ice.UDPMux.
func (m *udpMux) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	conns := m.byUfrag
	m.byUfrag = map[string]*muxConn{}
	m.mu.Unlock()
	for _, c := range conns {
		c.shut()
	}
	var err error
	for _, sh := range m.shards {
		if cerr := sh.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	m.readers.Wait()
	return err
}

// readLoop reads one of the port's sockets until it closes.
func (m *udpMux) readLoop(sock *udpBatcher) {
	buf := make([]byte, 64<<10)
	var pkt rtp.Packet // the fast path's scratch
	var scratch ingressScratch
	for {
		n, from, err := sock.ReadFromAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			m.log.Warn("media socket read failed; media stops", "err", err)
			return
		}
		if n > muxPacketSize {
			m.stats.MuxDropped.Add(1)
			continue
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		m.addrMu.RLock()
		c := m.byAddr[from]
		m.addrMu.RUnlock()
		if c == nil {
			c = m.byStun(buf[:n])
		}
		if c == nil {
			m.stats.MuxDropped.Add(1)
			continue
		}
		if f := c.fast.Load(); f != nil && f.receive(buf[:n], time.Now().UnixNano(), &pkt, m.stats, sock) {
			continue
		}
		if g := c.guard.Load(); g != nil && !g.admit(buf[:n], &scratch) {
			continue
		}
		c.push(m, buf[:n], from)
	}
}

// attach hands datagrams for the ICE agent with local ufrag to f's receive
// fast path first.
func (m *udpMux) attach(ufrag string, f *peerFast) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c := m.byUfrag[ufrag]; c != nil {
		c.fast.Store(f)
	}
}

// guard has the socket's readers check what arrives for the ICE agent
// with local ufrag against g, from now on and for conns made later.
func (m *udpMux) guard(ufrag string, g *ingress) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.guards[ufrag] = g
	if c := m.byUfrag[ufrag]; c != nil {
		c.guard.Store(g)
	}
}

// unguard forgets g's registration under ufrag.
func (m *udpMux) unguard(ufrag string, g *ingress) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.guards[ufrag] == g {
		delete(m.guards, ufrag)
	}
}

// byStun finds the conn a STUN message from an unknown address is for, if
// that conn may take one more address.
func (m *udpMux) byStun(b []byte) *muxConn {
	if !stun.IsMessage(b) {
		return nil
	}
	user, ok := stunUsername(b)
	if !ok {
		return nil
	}
	// USERNAME is "<receiver's ufrag>:<sender's ufrag>".
	for i := range len(user) {
		if user[i] == ':' {
			user = user[:i]
			break
		}
	}
	m.mu.Lock()
	c := m.byUfrag[string(user)]
	m.mu.Unlock()
	if c != nil && c.full() {
		return nil
	}
	return c
}

// full reports whether c has its share of addresses.
func (c *muxConn) full() bool {
	c.mux.addrMu.RLock()
	defer c.mux.addrMu.RUnlock()
	return len(c.addrs) >= muxAddrs
}

// stunUsername finds the USERNAME attribute of a STUN message without
// decoding the rest (RFC 8489 §14: 4-byte aligned type-length-value).
func stunUsername(b []byte) ([]byte, bool) {
	const header = 20
	if len(b) < header {
		return nil, false
	}
	end := min(header+int(binary.BigEndian.Uint16(b[2:4])), len(b))
	for i := header; i+4 <= end; {
		typ := binary.BigEndian.Uint16(b[i:])
		l := int(binary.BigEndian.Uint16(b[i+2:]))
		if i+4+l > end {
			return nil, false
		}
		if typ == uint16(stun.AttrUsername) {
			return b[i+4 : i+4+l], true
		}
		i += 4 + (l+3)&^3
	}
	return nil, false
}

// register routes datagrams from addr to c (the last conn to write to an
// address owns it, as in pion's mux).
//
// Every forwarded packet passes here, from many goroutines: the common case
// (the conn's last address again) is one atomic load, not a shared lock.
func (m *udpMux) register(c *muxConn, addr netip.AddrPort) {
	if last := c.lastAddr.Load(); last != nil && *last == addr {
		return
	}
	m.addrMu.Lock()
	defer m.addrMu.Unlock()
	if c.isShut() {
		return
	}
	if owner := m.byAddr[addr]; owner != c {
		if len(c.addrs) >= muxAddrs {
			return // the write goes out; what comes back is not routed
		}
		if owner != nil {
			owner.lastAddr.Store(nil)
		}
		m.byAddr[addr] = c
		c.addrs = append(c.addrs, addr)
	}
	c.lastAddr.Store(&addr)
}

// muxConn is one ICE agent's view of the socket: a queue of what arrived
// for it, and writes that register the destination as its own.
type muxConn struct {
	mux   *udpMux
	ufrag string
	refs  int // handles, under mux.mu

	mu         sync.Mutex
	head, tail *muxPacket
	queued     int
	notify     chan struct{} // a packet arrived (capacity 1)
	closed     chan struct{}
	shutOnce   sync.Once

	addrs    []netip.AddrPort // under mux.addrMu
	lastAddr atomic.Pointer[netip.AddrPort]

	// fast, once the peer's keys are known, takes its media off pion's
	// path (fastrecv.go).
	fast atomic.Pointer[peerFast]
	// guard, once the peer has set a description, drops what arrives on
	// SSRCs not negotiated for it (ingress.go).
	guard atomic.Pointer[ingress]
}

// push queues b, of at most muxPacketSize bytes, for the agent.
func (c *muxConn) push(m *udpMux, b []byte, from netip.AddrPort) {
	p := m.pool.Get().(*muxPacket)
	p.n = copy(p.buf, b)
	p.from = from
	c.mu.Lock()
	if c.queued >= muxQueue || c.isShut() {
		c.mu.Unlock()
		m.release(p)
		m.stats.MuxDropped.Add(1)
		return
	}
	if c.tail != nil {
		c.tail.next = p
	} else {
		c.head = p
	}
	c.tail = p
	c.queued++
	c.mu.Unlock()
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

func (m *udpMux) release(p *muxPacket) {
	p.next, p.n = nil, 0
	m.pool.Put(p)
}

func (c *muxConn) isShut() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

// shut closes the conn for every handle and drops its routes and queue.
func (c *muxConn) shut() {
	c.shutOnce.Do(func() {
		m := c.mux
		m.addrMu.Lock()
		close(c.closed)
		for _, a := range c.addrs {
			if m.byAddr[a] == c {
				delete(m.byAddr, a)
			}
		}
		c.addrs = nil
		m.addrMu.Unlock()
		c.mu.Lock()
		p := c.head
		c.head, c.tail, c.queued = nil, nil, 0
		c.mu.Unlock()
		for p != nil {
			next := p.next
			m.release(p)
			p = next
		}
	})
}

// muxHandle is what GetConn returns: closing it releases one reference and
// ends reads made through it.
type muxHandle struct {
	*muxConn
	done      chan struct{}
	closeOnce sync.Once
}

// ReadFromAddrPort waits for the next datagram for this agent.
func (h *muxHandle) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	c := h.muxConn
	for {
		c.mu.Lock()
		if p := c.head; p != nil {
			c.head = p.next
			if c.head == nil {
				c.tail = nil
			}
			c.queued--
			c.mu.Unlock()
			if len(b) < p.n {
				c.mux.release(p)
				return 0, netip.AddrPort{}, io.ErrShortBuffer
			}
			n, from := copy(b, p.buf[:p.n]), p.from
			c.mux.release(p)
			return n, from, nil
		}
		c.mu.Unlock()
		select {
		case <-c.notify:
		case <-c.closed:
			return 0, netip.AddrPort{}, net.ErrClosed
		case <-h.done:
			return 0, netip.AddrPort{}, net.ErrClosed
		}
	}
}

// ReadFrom implements net.PacketConn.
func (h *muxHandle) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := h.ReadFromAddrPort(b)
	if err != nil {
		return 0, nil, err
	}
	return n, net.UDPAddrFromAddrPort(from), nil
}

// WriteToAddrPort sends b to addr and routes addr's datagrams here.
func (h *muxHandle) WriteToAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	select {
	case <-h.done:
		return 0, io.ErrClosedPipe
	case <-h.closed:
		return 0, io.ErrClosedPipe
	default:
	}
	addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	h.mux.register(h.muxConn, addr)
	return h.mux.sock.WriteToAddrPort(b, addr)
}

// WriteTo implements net.PacketConn.
func (h *muxHandle) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, fmt.Errorf("sfu: mux: not a UDP address: %v", addr)
	}
	return h.WriteToAddrPort(b, ua.AddrPort())
}

// Close releases this handle; the conn closes with its last handle.
func (h *muxHandle) Close() error {
	h.closeOnce.Do(func() {
		close(h.done)
		m := h.mux
		m.mu.Lock()
		h.refs--
		last := h.refs == 0
		if last && m.byUfrag[h.ufrag] == h.muxConn {
			delete(m.byUfrag, h.ufrag)
		}
		m.mu.Unlock()
		if last {
			h.shut()
		}
	})
	return nil
}

func (h *muxHandle) LocalAddr() net.Addr { return h.mux.local }

// Deadlines are not used by ICE on mux conns; like pion's, they are no-ops.
func (h *muxHandle) SetDeadline(time.Time) error      { return nil }
func (h *muxHandle) SetReadDeadline(time.Time) error  { return nil }
func (h *muxHandle) SetWriteDeadline(time.Time) error { return nil }
