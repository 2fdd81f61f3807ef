package sfu

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"sync"
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

// TestBatcherBoundsQueues: with every queue in flight, a corked writer
// waits for one to come back rather than allocate more or overtake them.
func TestBatcherBoundsQueues(t *testing.T) {
	u, err := newUDPBatcher(loopbackUDP(t), &Stats{})
	if err != nil {
		t.Fatal(err)
	}
	rx := loopbackUDP(t)
	u.mu.Lock()
	held := []*batch{u.cur}
	u.cur = nil
	for b := u.takeFreeLocked(); b != nil; b = u.takeFreeLocked() {
		held = append(held, b)
	}
	u.sending = true // as if another goroutine were sending them
	u.mu.Unlock()
	if len(held) != maxBatches {
		t.Fatalf("took %d batches, want %d", len(held), maxBatches)
	}
	wrote := make(chan error, 1)
	u.cork()
	go func() {
		_, err := u.WriteToAddrPort([]byte("waited"), addrOf(rx))
		wrote <- err
	}()
	select {
	case err := <-wrote:
		t.Fatalf("write did not wait for a queue: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	u.mu.Lock()
	u.sending = false
	u.cur, u.free = held[0], append(u.free, held[1:]...)
	u.freed.Broadcast()
	u.mu.Unlock()
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	u.uncork()
	buf := make([]byte, 100)
	_ = rx.SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, _, err := rx.ReadFromUDPAddrPort(buf); err != nil || string(buf[:n]) != "waited" {
		t.Fatalf("queued write not sent: %q %v", buf[:n], err)
	}
	if u.batches != maxBatches || u.sending {
		t.Fatalf("%d batches allocated (want %d), sending %v", u.batches, maxBatches, u.sending)
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

// TestBatcherConcurrentFanouts: fan-outs from many goroutines at once lose
// nothing and keep each stream in order, with one sender at a time.
func TestBatcherConcurrentFanouts(t *testing.T) {
	u, err := newUDPBatcher(loopbackUDP(t), &Stats{})
	if err != nil {
		t.Fatal(err)
	}
	const writers, fanouts, subs = 8, 200, 5
	var sinks []*net.UDPConn
	for range subs {
		c := loopbackUDP(t)
		_ = c.SetReadBuffer(4 << 20)
		sinks = append(sinks, c)
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := make([]byte, 8)
			for i := range fanouts {
				binary.BigEndian.PutUint32(p, uint32(w))
				binary.BigEndian.PutUint32(p[4:], uint32(i))
				u.cork()
				for _, s := range sinks {
					if _, err := u.WriteToAddrPort(p, addrOf(s)); err != nil {
						t.Error(err)
					}
				}
				u.uncork()
			}
		}()
	}
	wg.Wait()
	// Whatever a last sender left behind goes with one more fan-out.
	u.cork()
	u.uncork()
	buf := make([]byte, 100)
	for si, s := range sinks {
		next := make([]uint32, writers)
		for range writers * fanouts {
			_ = s.SetReadDeadline(time.Now().Add(2 * time.Second))
			if _, _, err := s.ReadFromUDPAddrPort(buf); err != nil {
				t.Fatalf("sink %d: %v after %v", si, err, next)
			}
			w, i := binary.BigEndian.Uint32(buf), binary.BigEndian.Uint32(buf[4:])
			if i != next[w] {
				t.Fatalf("sink %d: writer %d packet %d arrived when %d was due", si, w, i, next[w])
			}
			next[w]++
		}
	}
}
