package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os/exec"
	"syscall"
	"time"
)

// Child is a process the load tool started: a Hearth server or a relay, run
// apart from the generator so that its CPU and memory can be read alone.
//
// Lifecycle: StartChild → Stop (always; it waits for the process).
type Child struct {
	PID  int
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// StartChild starts name with args; its output goes to out (nil discards).
func StartChild(name string, args []string, out io.Writer) (*Child, error) {
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("load: start %s: %w", name, err)
	}
	c := &Child{PID: cmd.Process.Pid, cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// Exited reports whether the process has ended.
func (c *Child) Exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Stop asks the process to end (SIGTERM), kills it after grace, and waits.
func (c *Child) Stop(grace time.Duration) error {
	if c.Exited() {
		return nil
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(grace):
		_ = c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("load: %s did not stop within %s; killed", c.cmd.Path, grace)
	}
	var ee *exec.ExitError
	if errors.As(c.err, &ee) && ee.ExitCode() == -1 {
		return nil // ended by our signal
	}
	return c.err
}

// FreePorts returns a free loopback TCP port and a free UDP port. Another
// process could take them before they are used; the window is short.
func FreePorts() (tcp, udp int, err error) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, 0, fmt.Errorf("load: free port: %w", err)
	}
	tcp = l.Addr().(*net.TCPAddr).Port
	l.Close()
	u, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return 0, 0, fmt.Errorf("load: free port: %w", err)
	}
	udp = u.LocalAddr().(*net.UDPAddr).Port
	u.Close()
	return tcp, udp, nil
}

// WaitHTTP polls url until it answers 200, the child exits, or ctx ends.
func WaitHTTP(ctx context.Context, url string, c *Child) error {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if c != nil && c.Exited() {
			return fmt.Errorf("load: the server exited before it was ready: %v", c.err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("load: waiting for %s: %w", url, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// WaitRelay polls a relay until it reports its counters.
func WaitRelay(ctx context.Context, addr string, c *Child) error {
	for {
		ap, err := netip.ParseAddrPort(addr)
		if err != nil {
			return err
		}
		if _, _, err := relayStats(ap); err == nil {
			return nil
		}
		if c != nil && c.Exited() {
			return fmt.Errorf("load: the relay exited before it was ready: %v", c.err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("load: waiting for the relay: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
