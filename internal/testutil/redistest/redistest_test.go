package redistest

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestStartStopRestart(t *testing.T) {
	s := Start(t)
	if err := ping(s.Addr()); err != nil {
		t.Fatalf("ping after Start: %v", err)
	}
	addr := s.Addr()
	s.Stop(t)
	if err := ping(addr); err == nil {
		t.Fatal("ping succeeded after Stop")
	}
	s.Stop(t) // idempotent
	s.Restart(t)
	if s.Addr() != addr {
		t.Fatalf("Restart moved from %s to %s", addr, s.Addr())
	}
	if err := ping(addr); err != nil {
		t.Fatalf("ping after Restart: %v", err)
	}
	if !strings.HasPrefix(s.URL(), "redis://127.0.0.1:") {
		t.Fatalf("URL = %q", s.URL())
	}
}

// TestStopSaving: data survives StopSaving and Restart, and is gone after
// Stop and Restart.
func TestStopSaving(t *testing.T) {
	s := Start(t)
	if got := command(t, s.Addr(), "SET kept yes"); got != "+OK" {
		t.Fatalf("SET: %q", got)
	}
	s.StopSaving(t)
	if err := ping(s.Addr()); err == nil {
		t.Fatal("ping succeeded after StopSaving")
	}
	s.Restart(t)
	if got := command(t, s.Addr(), "EXISTS kept"); got != ":1" {
		t.Fatalf("after StopSaving and Restart, EXISTS = %q", got)
	}
	s.Stop(t)
	s.Restart(t)
	if got := command(t, s.Addr(), "EXISTS kept"); got != ":0" {
		t.Fatalf("after Stop and Restart, EXISTS = %q", got)
	}
}

// command sends one inline command and returns the first line of the reply.
func command(t *testing.T, addr, cmd string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte(cmd + "\r\n")); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(line, "\r\n")
}

// TestMissingServer runs the helper test in a child process with a
// redis-server that does not exist, with and without CI=true.
func TestMissingServer(t *testing.T) {
	if os.Getenv("REDISTEST_CHILD") == "1" {
		Start(t)
		t.Fatal("Start returned without a server")
	}
	run := func(ci string) (string, error) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMissingServer$", "-test.v")
		cmd.Env = append(os.Environ(), "REDISTEST_CHILD=1", "HEARTH_REDIS_SERVER=/nonexistent/redis-server", "CI="+ci)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("true")
	if err == nil || !strings.Contains(out, "CI=true requires a real Redis") {
		t.Errorf("under CI=true: err=%v, output:\n%s", err, out)
	}
	out, err = run("")
	if err != nil || !strings.Contains(out, "--- SKIP") || !strings.Contains(out, "install it") {
		t.Errorf("without CI: err=%v, output:\n%s", err, out)
	}
}
