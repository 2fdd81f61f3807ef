package sfu

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func loopbackUDP(t testing.TB) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func addrOf(c *net.UDPConn) netip.AddrPort { return c.LocalAddr().(*net.UDPAddr).AddrPort() }

// TestBatcherDeliversInOrder: writes made while corked arrive, complete and
// in order, once uncorked, across several full batches; uncorked writes
// leave at once.
func TestBatcherDeliversInOrder(t *testing.T) {
	defer goleak.VerifyNone(t)
	stats := &Stats{}
	u, err := newUDPBatcher(loopbackUDP(t), stats)
	if err != nil {
		t.Fatal(err)
	}
	rx := loopbackUDP(t)
	_ = rx.SetReadBuffer(1 << 20)
	dst := addrOf(rx)

	const n = 3*maxBatch + 5
	u.cork()
	for i := range n {
		p := make([]byte, 100+i)
		binary.BigEndian.PutUint32(p, uint32(i))
		if _, err := u.WriteToAddrPort(p, dst); err != nil {
			t.Fatal(err)
		}
	}
	u.uncork()
	buf := make([]byte, 2000)
	for i := range n {
		_ = rx.SetReadDeadline(time.Now().Add(2 * time.Second))
		m, _, err := rx.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if got := binary.BigEndian.Uint32(buf); got != uint32(i) || m != 100+i {
			t.Fatalf("packet %d: got number %d, %d bytes", i, got, m)
		}
	}
	if b := stats.UDPBatches.Load(); b != 4 {
		t.Errorf("%d batches, want 4 (3 full, 1 at uncork)", b)
	}

	// Not corked: straight out, nothing queued.
	if _, err := u.WriteToAddrPort([]byte("now"), dst); err != nil {
		t.Fatal(err)
	}
	_ = rx.SetReadDeadline(time.Now().Add(2 * time.Second))
	m, _, err := rx.ReadFromUDPAddrPort(buf)
	if err != nil || !bytes.Equal(buf[:m], []byte("now")) {
		t.Fatalf("uncorked write: %q, %v", buf[:m], err)
	}
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestBatcherBoundsQueues: with every batch in flight, writes go straight
// out rather than allocating more queues.
func TestBatcherBoundsQueues(t *testing.T) {
	u, err := newUDPBatcher(loopbackUDP(t), &Stats{})
	if err != nil {
		t.Fatal(err)
	}
	rx := loopbackUDP(t)
	var held []*batch
	u.mu.Lock()
	for u.cur != nil {
		held = append(held, u.takeLocked())
	}
	u.mu.Unlock()
	if len(held) != maxBatches {
		t.Fatalf("took %d batches, want %d", len(held), maxBatches)
	}
	u.cork()
	if _, err := u.WriteToAddrPort([]byte("direct"), addrOf(rx)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	_ = rx.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, _, err := rx.ReadFromUDPAddrPort(buf); err != nil {
		t.Fatalf("write with every batch in flight did not go out: %v", err)
	}
	for _, b := range held {
		u.send(b)
	}
	u.uncork()
	if u.cur == nil || u.batches != maxBatches {
		t.Fatalf("batches not recycled: cur=%v, %d allocated", u.cur != nil, u.batches)
	}
}

// TestBatcherAllocatesNothing: a corked fan-out and its flush allocate
// nothing once warm.
func TestBatcherAllocatesNothing(t *testing.T) {
	u, err := newUDPBatcher(loopbackUDP(t), &Stats{})
	if err != nil {
		t.Fatal(err)
	}
	rx := loopbackUDP(t)
	_ = rx.SetReadBuffer(4 << 20)
	dst := addrOf(rx)
	p := make([]byte, 120)
	allocs := testing.AllocsPerRun(200, func() {
		u.cork()
		for range 11 {
			_, _ = u.WriteToAddrPort(p, dst)
		}
		u.uncork()
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per fan-out, want 0", allocs)
	}
}
