package netsim

import (
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/hearth-rtc/hearth/internal/testutil/budget"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// sink is a UDP socket that records each datagram's sequence number and
// how long it took, from the send time written in it.
type sink struct {
	conn *net.UDPConn
	got  chan arrival
}

type arrival struct {
	seq   uint32
	delay time.Duration
}

func newSink(t *testing.T) *sink {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadBuffer(4 << 20)
	s := &sink{conn: conn, got: make(chan arrival, 1<<16)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		b := make([]byte, 2048)
		for {
			n, err := conn.Read(b)
			if err != nil {
				return
			}
			if n >= 12 {
				sent := time.Unix(0, int64(binary.BigEndian.Uint64(b[4:12])))
				s.got <- arrival{seq: binary.BigEndian.Uint32(b), delay: time.Since(sent)}
			}
		}
	}()
	t.Cleanup(func() { conn.Close(); <-done })
	return s
}

func (s *sink) addr() netip.AddrPort { return s.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// send sends datagrams numbered from..to-1 to the relay, each stamped
// with its send time, a millisecond apart.
func send(t *testing.T, c *net.UDPConn, from, to uint32) {
	b := make([]byte, 200)
	for i := from; i < to; i++ {
		binary.BigEndian.PutUint32(b, i)
		binary.BigEndian.PutUint64(b[4:], uint64(time.Now().UnixNano()))
		if _, err := c.Write(b); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
}

// collect takes arrivals until the one numbered last.
func (s *sink) collect(t *testing.T, last uint32) []arrival {
	var out []arrival
	timeout := time.After(budget.Timeout(t, budget.Step))
	for {
		select {
		case a := <-s.got:
			out = append(out, a)
			if a.seq == last {
				return out
			}
		case <-timeout:
			t.Fatalf("datagram %d never arrived (%d did)", last, len(out))
		}
	}
}

// TestRelayLossAndDelay measures the relay: 3 % loss, 40 ms delay and up
// to 20 ms jitter one way. Of 2,000 datagrams about 60 are lost (the
// generator is seeded, so the count is the same each run); none arrives
// sooner than the delay, none overtakes another. An outage (loss 1) lets
// nothing through, and the relay carries on afterwards.
func TestRelayLossAndDelay(t *testing.T) {
	dst := newSink(t)
	imp := Impairment{Loss: 0.03, Delay: 40 * time.Millisecond, Jitter: 20 * time.Millisecond}
	r := NewRelay(t, RelayConfig{Listen: netip.MustParseAddrPort("127.0.0.1:0"), Target: dst.addr(), Up: imp, Seed: 1})
	c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(r.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	const n = 2000
	send(t, c, 0, n)
	// The last datagram may be one of those lost: a marker follows.
	r.Set(Impairment{}, Impairment{})
	send(t, c, n, n+1)
	got := dst.collect(t, n)
	got = got[:len(got)-1]

	_, up := r.Stats()
	lost := n - len(got)
	t.Logf("lost %d of %d (%.1f %%); relay counted %+v", lost, n, 100*float64(lost)/n, up)
	if lost < n*2/100 || lost > n*4/100 {
		t.Errorf("lost %d of %d datagrams, want about 3 %%", lost, n)
	}
	if up.Lost != uint64(lost) || up.Overflow != 0 {
		t.Errorf("relay counted %+v, but %d were lost", up, lost)
	}
	delays := make([]time.Duration, len(got))
	for i, a := range got {
		delays[i] = a.delay
		if a.delay < imp.Delay {
			t.Errorf("datagram %d arrived after %v, sooner than the delay %v", a.seq, a.delay, imp.Delay)
		}
		if i > 0 && a.seq <= got[i-1].seq {
			t.Errorf("datagram %d arrived after %d", a.seq, got[i-1].seq)
		}
	}
	slices.Sort(delays)
	t.Logf("one-way delay: min %v, median %v, 99th percentile %v (set: %v plus up to %v)",
		delays[0], delays[len(delays)/2], delays[len(delays)*99/100], imp.Delay, imp.Jitter)
	if spread := delays[len(delays)*9/10] - delays[len(delays)/10]; spread < imp.Jitter/4 {
		t.Errorf("delays spread over %v between the 10th and 90th percentiles, want jitter", spread)
	}

	// An outage: nothing passes, then everything again.
	r.Set(Impairment{}, Impairment{Loss: 1})
	send(t, c, n+1, n+101)
	r.Set(Impairment{}, Impairment{})
	send(t, c, n+101, n+102)
	if after := dst.collect(t, n+101); len(after) != 1 {
		t.Errorf("%d datagrams passed during the outage", len(after)-1)
	}
}

// TestRelayBothWays: a client's datagrams reach the target from a socket
// of the relay, and the target's answers come back to the client from the
// relay's address, delayed the other way.
func TestRelayBothWays(t *testing.T) {
	echo, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		b := make([]byte, 2048)
		for {
			n, from, err := echo.ReadFromUDPAddrPort(b)
			if err != nil {
				return
			}
			_, _ = echo.WriteToUDPAddrPort(b[:n], from)
		}
	}()
	defer func() { echo.Close(); <-done }()
	down := Impairment{Delay: 30 * time.Millisecond}
	r := NewRelay(t, RelayConfig{Listen: netip.MustParseAddrPort("127.0.0.1:0"),
		Target: echo.LocalAddr().(*net.UDPAddr).AddrPort(), Down: down})
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	if _, err := c.WriteToUDPAddrPort([]byte("hello"), r.Addr()); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(budget.Timeout(t, budget.Step)))
	b := make([]byte, 64)
	n, from, err := c.ReadFromUDPAddrPort(b)
	if err != nil {
		t.Fatal(err)
	}
	if string(b[:n]) != "hello" || from != r.Addr() {
		t.Errorf("got %q from %v, want hello from the relay %v", b[:n], from, r.Addr())
	}
	if d := time.Since(start); d < down.Delay {
		t.Errorf("the answer came after %v, sooner than the delay %v", d, down.Delay)
	}
}

// TestForward: bytes go both ways through a forwarded TCP connection.
func TestForward(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.Copy(c, c)
	}()
	addr := Forward(t, netip.MustParseAddrPort("127.0.0.1:0"), ln.Addr().(*net.TCPAddr).AddrPort())
	c, err := net.Dial("tcp4", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	_ = c.SetReadDeadline(time.Now().Add(budget.Timeout(t, budget.Step)))
	if _, err := io.ReadFull(c, b); err != nil || string(b) != "ping" {
		t.Errorf("read %q, %v; want the echo", b, err)
	}
	c.Close()
	<-done
}
