// Package redistest runs a real redis-server for tests, on a free loopback
// port, with no persistence unless a test asks for it (StopSaving).
//
// If redis-server is not installed the test is skipped, except under
// CI=true, where it fails: CI must never silently skip the Redis runs.
// HEARTH_REDIS_SERVER may name the binary (default: redis-server on PATH).
package redistest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/testutil/budget"
)

const (
	startTimeout = budget.Step
	stopTimeout  = 5 * time.Second
	// dumpFile is where StopSaving leaves the data and launch reads it.
	dumpFile = "dump.rdb"
)

// Server is one redis-server process; Stop and Restart keep the same port,
// so clients configured with URL reconnect to it.
type Server struct {
	bin  string
	dir  string
	port int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when the current process has exited
	out  *syncBuffer
}

// Start launches redis-server on a free loopback port, waits until it
// answers PING, and registers a cleanup that stops it.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := os.Getenv("HEARTH_REDIS_SERVER")
	if bin == "" {
		bin = "redis-server"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redistest: %s not found (%v); CI=true requires a real Redis: install it (apt-get install redis-server) or set HEARTH_REDIS_SERVER", bin, err)
		}
		t.Skipf("redistest: %s not found; install it (e.g. apt-get install redis-server, brew install redis) to run the Redis tests", bin)
	}
	s := &Server{bin: path, dir: t.TempDir()}
	t.Cleanup(func() { s.Stop(t) })
	// A free port may be taken by someone else before redis binds it: retry
	// with a fresh one a few times.
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		if s.port, err = freePort(); err != nil {
			t.Fatalf("redistest: %v", err)
		}
		if lastErr = s.launch(); lastErr == nil {
			return s
		}
	}
	t.Fatalf("redistest: cannot start redis-server: %v", lastErr)
	return nil
}

// Addr is host:port of the server.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// URL is a redis:// URL for database db 0.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// Stop kills the server and waits for it; stopping a stopped server is a
// no-op. Its data is lost (no persistence).
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if err := s.stop(false); err != nil {
		t.Errorf("redistest: stop: %v", err)
	}
}

// StopSaving writes the server's data to disk and stops it, as a Redis
// with persistence does when shut down: the next Restart comes back with
// the data (keys with a lifetime keep counting it down meanwhile).
func (s *Server) StopSaving(t testing.TB) {
	t.Helper()
	if err := s.stop(true); err != nil {
		t.Fatalf("redistest: stop saving: %v", err)
	}
}

// Restart starts the server again on the same port and waits until it
// answers PING. It is empty unless the last stop was StopSaving.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	if err := s.stop(false); err != nil {
		t.Fatalf("redistest: stop: %v", err)
	}
	// The old socket may linger briefly; launch retries until the deadline.
	deadline := time.Now().Add(startTimeout)
	for {
		err := s.launch()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: restart on port %d: %v", s.port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) launch() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return fmt.Errorf("already running")
	}
	out := &syncBuffer{}
	cmd := exec.Command(s.bin,
		"--bind", "127.0.0.1",
		"--port", strconv.Itoa(s.port),
		"--save", "",
		"--appendonly", "no",
		"--daemonize", "no",
		"--dir", s.dir,
		"--dbfilename", dumpFile,
		"--logfile", "",
	)
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, so a signal to the test binary's group (^C)
	// does not race with our own shutdown.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	if err := waitPing(s.Addr(), done, time.Now().Add(startTimeout)); err != nil {
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("%w; output:\n%s", err, out.String())
	}
	s.cmd, s.done, s.out = cmd, done, out
	return nil
}

// stop ends the running server, if any. With save it has the server write
// its data to dumpFile first; without, the file is removed, so the next
// launch starts empty.
func (s *Server) stop(save bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	cmd, done := s.cmd, s.done
	s.cmd, s.done = nil, nil
	if save {
		if err := shutdownSave(s.Addr()); err != nil {
			_ = cmd.Process.Kill()
			<-done
			return err
		}
	} else {
		_ = cmd.Process.Signal(syscall.SIGTERM)
	}
	exited := false
	select {
	case <-done:
		exited = true
	case <-time.After(stopTimeout):
	}
	if !exited {
		_ = cmd.Process.Kill()
		select {
		case <-done:
		case <-time.After(stopTimeout):
			return fmt.Errorf("redis-server pid %d did not exit", cmd.Process.Pid)
		}
		if save {
			return fmt.Errorf("redis-server pid %d did not exit after SHUTDOWN SAVE", cmd.Process.Pid)
		}
	}
	if !save {
		if err := os.Remove(filepath.Join(s.dir, dumpFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove saved data: %w", err)
		}
	}
	return nil
}

// shutdownSave asks the server to save its data and exit. On success the
// server closes the connection without a reply.
func shutdownSave(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return fmt.Errorf("shutdown save: %w", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(stopTimeout))
	if _, err := c.Write([]byte("SHUTDOWN SAVE\r\n")); err != nil {
		return fmt.Errorf("shutdown save: %w", err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err == nil {
		return fmt.Errorf("shutdown save refused: %q", line)
	}
	return nil
}

// waitPing polls until the server answers +PONG, the process exits, or the
// deadline passes.
func waitPing(addr string, exited <-chan struct{}, deadline time.Time) error {
	for {
		select {
		case <-exited:
			return fmt.Errorf("redis-server exited during startup")
		default:
		}
		if err := ping(addr); err == nil {
			return nil
		} else if time.Now().After(deadline) {
			return fmt.Errorf("no PONG from %s before deadline: %w", addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("unexpected reply %q", line)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// syncBuffer collects process output for error messages.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
