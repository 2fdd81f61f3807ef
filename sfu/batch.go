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
// Forwarding one packet to S subscribers costs S sendto system calls, and on
// a small machine those calls are most of the SFU's CPU. The socket the ICE
// mux writes to is therefore a udpBatcher: while a track's reader fans a
// packet out it holds the batcher corked, writes are copied into a queue, and
// the queue leaves in one sendmmsg when the fan-out ends (or fills a batch).
// Writes when nobody is forwarding (ICE, DTLS, RTCP) go straight out.
//
// Batching never delays a packet beyond the end of the fan-out that is in
// progress when it is written, and a stream's packets keep their order: one
// stream is only ever written by one goroutine, and the queue is FIFO.

const (
	// maxBatch is how many datagrams one sendmmsg carries; a group's
	// fan-out (7 to 11 subscribers) fits, with room for concurrent ones.
	maxBatch = 32
	// slotSize holds any SRTP packet the SFU forwards (the ICE mux's MTU is
	// 1500 on the wire side; larger writes bypass the queue).
	slotSize = 1500
	// maxBatches bounds the queues in existence (each is 48 KiB). A queue
	// is in flight while its sendmmsg runs, so this is also how many
	// fan-outs can send at once before further writes go out one by one.
	maxBatches = 4
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
	cur     *batch // nil while every batch is in flight: write directly
	free    []*batch
	batches int // allocated
	closed  bool
}

func newUDPBatcher(conn *net.UDPConn, stats *Stats) (*udpBatcher, error) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return nil, err
	}
	u := &udpBatcher{conn: conn, raw: raw, stats: stats}
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

// uncork ends a fan-out and sends what is queued, including what concurrent
// fan-outs queued: nothing waits for a later packet.
func (u *udpBatcher) uncork() {
	u.corks.Add(-1)
	u.mu.Lock()
	if u.cur == nil || u.cur.n == 0 {
		u.mu.Unlock()
		return
	}
	full := u.takeLocked()
	u.mu.Unlock()
	u.send(full)
}

// takeLocked swaps the current queue for an empty one and returns it.
func (u *udpBatcher) takeLocked() *batch {
	full := u.cur
	switch n := len(u.free); {
	case n > 0:
		u.cur = u.free[n-1]
		u.free = u.free[:n-1]
	case u.batches < maxBatches:
		u.cur = u.newBatchLocked()
	default:
		u.cur = nil
	}
	return full
}

func (u *udpBatcher) send(b *batch) {
	if err := u.sendBatch(b); err != nil && !errors.Is(err, net.ErrClosed) {
		u.stats.UDPWriteErrors.Add(1)
	}
	u.stats.UDPBatches.Add(1)
	u.stats.UDPBatchedPackets.Add(uint64(b.n))
	b.n = 0
	u.mu.Lock()
	if u.cur == nil {
		u.cur = b
	} else {
		u.free = append(u.free, b)
	}
	u.mu.Unlock()
}

// WriteToAddrPort queues p while corked, or sends it now.
func (u *udpBatcher) WriteToAddrPort(p []byte, addr netip.AddrPort) (int, error) {
	if u.corks.Load() == 0 || len(p) > slotSize || !batchable(addr) {
		return u.conn.WriteToUDPAddrPort(p, addr)
	}
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		return 0, net.ErrClosed
	}
	b := u.cur
	if b == nil {
		u.mu.Unlock()
		return u.conn.WriteToUDPAddrPort(p, addr)
	}
	i := b.n
	b.lens[i] = copy(b.data[i][:], p)
	b.addrs[i] = addr
	b.sys.set(i, len(p), addr)
	b.n++
	if b.n < maxBatch {
		u.mu.Unlock()
		return len(p), nil
	}
	full := u.takeLocked()
	u.mu.Unlock()
	u.send(full)
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
	u.mu.Unlock()
	return u.conn.Close()
}

func (u *udpBatcher) LocalAddr() net.Addr                { return u.conn.LocalAddr() }
func (u *udpBatcher) SetDeadline(t time.Time) error      { return u.conn.SetDeadline(t) }
func (u *udpBatcher) SetReadDeadline(t time.Time) error  { return u.conn.SetReadDeadline(t) }
func (u *udpBatcher) SetWriteDeadline(t time.Time) error { return u.conn.SetWriteDeadline(t) }
