package netsim

import (
	"bufio"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestHelperEcho is not a test: run inside a namespace by TestLimit, it
// echoes UDP on $NETSIM_ECHO until killed.
func TestHelperEcho(t *testing.T) {
	addr := os.Getenv("NETSIM_ECHO")
	if addr == "" {
		t.Skip("a helper process of TestLimit")
	}
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("ready\n")
	b := make([]byte, 2048)
	for {
		n, from, err := conn.ReadFromUDPAddrPort(b)
		if err != nil {
			return
		}
		_, _ = conn.WriteToUDPAddrPort(b[:n], from)
	}
}

// TestLimit: a process inside the namespace is reached at the guest
// address, and with the link into it limited to 1 Mbit/s, datagrams sent
// at 3 Mbit/s come back at no more than the limit allows (its rate over
// the time, plus the bucket and the queue); the rest are dropped. The
// namespace is gone after the test.
func TestLimit(t *testing.T) {
	var name string
	t.Run("limited", func(t *testing.T) {
		n := New(t)
		name = n.Name
		const rate = 1_000_000
		n.Limit(t, rate, 0)

		echo := netip.AddrPortFrom(n.Guest, 40000)
		cmd := exec.Command("ip", "netns", "exec", n.Name, os.Args[0], "-test.run=^TestHelperEcho$")
		cmd.Env = append(os.Environ(), "NETSIM_ECHO="+echo.String())
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
		if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || strings.TrimSpace(line) != "ready" {
			t.Fatalf("helper: %q, %v", line, err)
		}

		c, err := net.DialUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(n.Host, 0)), net.UDPAddrFromAddrPort(echo))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		got := make(chan int, 1)
		go func() {
			total := 0
			b := make([]byte, 2048)
			for {
				_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
				k, err := c.Read(b)
				if err != nil {
					got <- total
					return
				}
				total += k
			}
		}()
		// 3 Mbit/s for 2 s: 1,000-byte datagrams, 375 a second.
		start := time.Now()
		payload := make([]byte, 1000)
		sent := 0
		for i := 0; time.Since(start) < 2*time.Second; i++ {
			if _, err := c.Write(payload); err == nil {
				sent += len(payload)
			}
			if wait := time.Duration(i+1) * time.Second / 375; wait > time.Since(start) {
				time.Sleep(wait - time.Since(start))
			}
		}
		elapsed := time.Since(start)
		received := <-got
		allowed := int(float64(rate)/8*elapsed.Seconds()) + 16<<10 + 16<<10 + 2000
		t.Logf("sent %d bytes in %v, %d came back (%.2f Mbit/s); the limit allows %d",
			sent, elapsed.Round(time.Millisecond), received, float64(received)*8/elapsed.Seconds()/1e6, allowed)
		if received == 0 {
			t.Fatal("nothing came back from inside the namespace")
		}
		if received > allowed {
			t.Errorf("%d bytes passed a 1 Mbit/s link in %v, more than the %d it allows", received, elapsed, allowed)
		}
		if received >= sent {
			t.Errorf("everything passed (%d bytes): the limit did nothing", received)
		}
	})
	if name == "" {
		return
	}
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), name) {
		t.Errorf("namespace %s left after the test: %s", name, out)
	}
}
