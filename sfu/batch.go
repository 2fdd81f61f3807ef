package sfu

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Write batching on the media socket.
//
// Forwarding one packet to S subscribers costs S datagrams, and on a small
// machine their system calls are most of the SFU's CPU. The socket the ICE
// mux writes to is therefore a udpBatcher: while a track's reader fans a
// packet out it holds the batcher corked, writes are copied into a queue,
// and when the fan-out ends the queue leaves in one sendmmsg.
//
// At most one goroutine sends at a time. A fan-out that ends while another
// goroutine is sending leaves its queue to that sender, which drains every
// queue ready before it stops; so readers do not pile up in the kernel on
// the same socket (each holding an OS thread), batches grow with load, and
// nobody waits for a send in progress. Writes made when no fan-out is under
// way (ICE, DTLS, RTCP) go straight out.
//
// A queued packet leaves when its fan-out ends, after the sends ahead of it;
// under load, when a sender has drained its share (maxDrain), by the end of
// the next fan-out. One stream's packets keep their order: one goroutine
// writes a stream, and the queues leave in order.

const (
	// maxBatch is how many datagrams one sendmmsg carries.
	maxBatch = 64
	// slotSize holds any SRTP packet the SFU forwards (the wire MTU is
	// 1500; larger writes bypass the queue).
	slotSize = 1500
	// maxBatches bounds the queues (96 KiB each). When every one is full
	// or in flight, writers wait for one, as a blocking sendto would.
	maxBatches = 8
	// maxDrain bounds how many queues one sender sends before handing the
	// job back, so that its own track is not held up for long.
	maxDrain = 4
)

// batch is one queue of datagrams and, on Linux, the sendmmsg headers that
// point into it. Batches are recycled; the send path allocates nothing.
type batch struct {
	n     int
	lens  [maxBatch]int
	addrs [maxBatch]netip.AddrPort
	data  [maxBatch][slotSize]byte
	sys   sysBatch
}

// udpBatcher wraps the media socket for the ICE mux. It implements
// net.PacketConn and the mux's allocation-free AddrPort methods.
//
// Lifecycle: newUDPBatcher → shared by the mux and every forwarder → Close
// (by the mux, when the engine closes).
type udpBatcher struct {
	conn  *net.UDPConn
	raw   syscall.RawConn
	stats *Stats

	corks atomic.Int32

	mu      sync.Mutex
	cur     *batch   // being filled; nil when none is free
	ready   []*batch // full or finished, waiting to be sent, oldest first
	free    []*batch
	batches int  // allocated
	sending bool // a goroutine is draining ready
	closed  bool
	// freed is signalled when a sent queue is free again, for writers
	// that found every queue full (they wait rather than overtake them).
	freed sync.Cond
}

func newUDPBatcher(conn *net.UDPConn, stats *Stats) (*udpBatcher, error) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return nil, err
	}
	u := &udpBatcher{conn: conn, raw: raw, stats: stats,
		ready: make([]*batch, 0, maxBatches), free: make([]*batch, 0, maxBatches)}
	u.freed.L = &u.mu
	u.cur = u.newBatchLocked()
	return u, nil
}

func (u *udpBatcher) newBatchLocked() *batch {
	u.batches++
	b := &batch{}
	b.sys.init(b)
	return b
}

// cork starts a fan-out: writes are queued until the matching uncork.
func (u *udpBatcher) cork() { u.corks.Add(1) }

// uncork ends a fan-out: what is queued is sent now, by this goroutine or by
// the one already sending.
func (u *udpBatcher) uncork() {
	u.corks.Add(-1)
	u.mu.Lock()
	if u.cur != nil && u.cur.n > 0 {
		u.ready = append(u.ready, u.cur)
		u.cur = u.takeFreeLocked()
	}
	u.drainLocked()
	u.mu.Unlock()
}

// drainLocked sends ready queues unless someone else is; it is called and
// returns with u.mu held, and releases it while sending.
func (u *udpBatcher) drainLocked() {
	if u.sending {
		return
	}
	u.sending = true
	for i := 0; i < maxDrain && len(u.ready) > 0; i++ {
		b := u.ready[0]
		copy(u.ready, u.ready[1:])
		u.ready = u.ready[:len(u.ready)-1]
		u.mu.Unlock()
		u.send(b)
		u.mu.Lock()
		b.n = 0
		if u.cur == nil {
			u.cur = b
		} else {
			u.free = append(u.free, b)
		}
		u.freed.Broadcast()
	}
	u.sending = false
}

// takeFreeLocked returns an empty queue, or nil if none can be had.
func (u *udpBatcher) takeFreeLocked() *batch {
	if n := len(u.free); n > 0 {
		b := u.free[n-1]
		u.free = u.free[:n-1]
		return b
	}
	if u.batches < maxBatches {
		return u.newBatchLocked()
	}
	return nil
}

func (u *udpBatcher) send(b *batch) {
	if err := u.sendBatch(b); err != nil && !errors.Is(err, net.ErrClosed) {
		u.stats.UDPWriteErrors.Add(1)
	}
	u.stats.UDPBatches.Add(1)
	u.stats.UDPBatchedPackets.Add(uint64(b.n))
}

// WriteToAddrPort queues p while corked, or sends it now.
func (u *udpBatcher) WriteToAddrPort(p []byte, addr netip.AddrPort) (int, error) {
	if u.corks.Load() == 0 || len(p) > slotSize || !batchable(addr) {
		return u.conn.WriteToUDPAddrPort(p, addr)
	}
	u.mu.Lock()
	// Every queue full or in flight: help send, or wait for a queue. A
	// direct write here would overtake this stream's queued packets.
	for u.cur == nil && !u.closed {
		if !u.sending && len(u.ready) > 0 {
			u.drainLocked()
		} else {
			u.freed.Wait()
		}
	}
	if u.closed {
		u.mu.Unlock()
		return 0, net.ErrClosed
	}
	b := u.cur
	i := b.n
	b.lens[i] = copy(b.data[i][:], p)
	b.addrs[i] = addr
	b.sys.set(i, len(p), addr)
	b.n++
	if b.n == maxBatch {
		u.ready = append(u.ready, b)
		u.cur = u.takeFreeLocked()
		u.drainLocked()
	}
	u.mu.Unlock()
	return len(p), nil
}

// ReadFromAddrPort reads one datagram.
func (u *udpBatcher) ReadFromAddrPort(p []byte) (int, netip.AddrPort, error) {
	return u.conn.ReadFromUDPAddrPort(p)
}

// ReadFrom implements net.PacketConn.
func (u *udpBatcher) ReadFrom(p []byte) (int, net.Addr, error) { return u.conn.ReadFrom(p) }

// WriteTo implements net.PacketConn.
func (u *udpBatcher) WriteTo(p []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return u.conn.WriteTo(p, addr)
	}
	return u.WriteToAddrPort(p, ua.AddrPort())
}

// Close closes the socket; anything still queued is dropped.
func (u *udpBatcher) Close() error {
	u.mu.Lock()
	u.closed = true
	u.freed.Broadcast()
	u.mu.Unlock()
	return u.conn.Close()
}

func (u *udpBatcher) LocalAddr() net.Addr                { return u.conn.LocalAddr() }
func (u *udpBatcher) SetDeadline(t time.Time) error      { return u.conn.SetDeadline(t) }
func (u *udpBatcher) SetReadDeadline(t time.Time) error  { return u.conn.SetReadDeadline(t) }
func (u *udpBatcher) SetWriteDeadline(t time.Time) error { return u.conn.SetWriteDeadline(t) }
