package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/room"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// Re-executed as the hearth binary by the tests below.
	if os.Getenv("HEARTH_TEST_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// startBinary runs this test binary as "hearth serve" and returns the
// process and its base URL.
func startBinary(t *testing.T, args ...string) (*exec.Cmd, string) {
	t.Helper()
	return startBinaryEnv(t, os.Environ(), args...)
}

// startBinaryEnv is startBinary with the given environment.
func startBinaryEnv(t *testing.T, env []string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve", "-listen", "127.0.0.1:0", "-udp-port", "0"}, args...)...)
	cmd.Env = append(env, "HEARTH_TEST_RUN_MAIN=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	urlRE := regexp.MustCompile(`url=(https?://127\.0\.0\.1:\d+)`)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sent := false
		echo := os.Getenv("HEARTH_TEST_NODE_LOG") != "" // a node's log, to debug a test
		for sc.Scan() {
			if echo {
				fmt.Fprintln(os.Stderr, sc.Text())
			}
			if m := urlRE.FindStringSubmatch(sc.Text()); m != nil && !sent {
				found <- m[1]
				sent = true
			}
		}
		close(found)
	}()
	select {
	case u, ok := <-found:
		if !ok {
			t.Fatal("hearth exited before listening")
		}
		return cmd, u
	case <-time.After(20 * time.Second):
		t.Fatal("hearth did not report its address")
	}
	return nil, ""
}

// TestSignalShutdown: SIGTERM tells clients, closes their connections and
// exits within a few seconds.
func TestSignalShutdown(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd, base := startBinary(t)
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			ws := "ws" + strings.TrimPrefix(base, "http") + "/ws"
			var clients []*client.Client
			for _, name := range []string{"Ann", "Ben"} {
				c, err := client.Dial(ctx, nil, client.Options{URL: ws, Room: "evening", Name: name, Audio: true})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				if err := c.Join(); err != nil {
					t.Fatal(err)
				}
				if _, err := c.WaitMessage(ctx, "joined", nil); err != nil {
					t.Fatal(err)
				}
				clients = append(clients, c)
			}
			if err := clients[0].Wait(ctx, func() bool {
				s := clients[0].Stream(clients[1].ID(), "audio")
				return s != nil && s.Packets.Load() > 10
			}); err != nil {
				t.Fatalf("no media before shutdown: %v", err)
			}

			start := time.Now()
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			for _, c := range clients {
				m, err := c.WaitMessage(ctx, "bye", nil)
				if err != nil {
					t.Fatalf("client not told: %v", err)
				}
				if !bytes.Contains(m.Raw, []byte("server_shutdown")) {
					t.Errorf("bye %s, want reason server_shutdown", m.Raw)
				}
				if _, err := c.WaitMessage(ctx, "_closed", nil); err != nil {
					t.Fatalf("socket not closed: %v", err)
				}
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("hearth exited with %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("hearth did not exit within 5 s of the signal")
			}
			t.Logf("exited %v after %s", sig, time.Since(start).Round(time.Millisecond))
		})
	}
}

// TestToken: "hearth token" prints a token the server accepts and a join
// link that carries it in the fragment.
func TestToken(t *testing.T) {
	secret := "a-long-enough-secret-for-tests"
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"token", "-room", "tuesday", "-identity", "client-04", "-name", "Rae",
		"-role", "member", "-ttl", "2h", "-secret", secret, "-url", "https://hearth.example"}, &out, &errOut)
	if err != nil {
		t.Fatalf("token: %v (%s)", err, errOut.String())
	}
	m := regexp.MustCompile(`token: (\S+)\nlink:  (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("unexpected output %q", out.String())
	}
	claims, err := room.VerifyTokenFor([]byte(secret), m[1], "tuesday", time.Now())
	if err != nil {
		t.Fatalf("printed token does not verify: %v", err)
	}
	if claims.Identity != "client-04" || claims.Name != "Rae" || claims.Role != room.RoleMember {
		t.Errorf("claims %+v", claims)
	}
	if want := "https://hearth.example/r/tuesday#token=" + m[1]; m[2] != want {
		t.Errorf("link %q, want %q", m[2], want)
	}
	if err := run(context.Background(), []string{"token", "-room", "r", "-identity", "i", "-name", "n", "-role", "boss", "-secret", secret}, &out, &errOut); err == nil {
		t.Error("unknown role accepted")
	}
	if err := run(context.Background(), []string{"token", "-room", "r", "-identity", "i", "-name", "n"}, &out, &errOut); err == nil {
		t.Error("token without a secret accepted")
	}
}

// TestGCPercent: the server runs its collector at -gc-percent (10 unless
// told otherwise), or at GOGC when that is set and the flag is not, as
// its own metrics report.
func TestGCPercent(t *testing.T) {
	var base []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOGC=") && !strings.HasPrefix(kv, "HEARTH_GC_PERCENT=") {
			base = append(base, kv)
		}
	}
	for _, c := range []struct {
		name string
		env  []string
		args []string
		want float64
	}{
		{"default", nil, nil, 10},
		{"GOGC", []string{"GOGC=80"}, nil, 80},
		{"flag over GOGC", []string{"GOGC=80"}, []string{"-gc-percent", "30"}, 30},
		{"environment over GOGC", []string{"GOGC=80", "HEARTH_GC_PERCENT=40"}, nil, 40},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, url := startBinaryEnv(t, append(append([]string{}, base...), c.env...), c.args...)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			got, err := hearthtest.Metric(ctx, url+"/metrics", "go_gc_gogc_percent")
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("the collector runs at %g%%, want %g%%", got, c.want)
			}
		})
	}
}

// TestHelpExitsZero: asking any command for help prints its usage and
// exits with status 0, as scripts expect; a wrong flag still exits 1.
func TestHelpExitsZero(t *testing.T) {
	hearth := func(args ...string) (int, string) {
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = append(os.Environ(), "HEARTH_TEST_RUN_MAIN=1")
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("hearth %v: %v", args, err)
		}
		return cmd.ProcessState.ExitCode(), string(out)
	}
	for _, args := range [][]string{
		{"-h"}, {"--help"}, {"help"}, {"serve", "-h"}, {"serve", "--help"}, {"token", "-h"}, {"token", "--help"},
		{"load", "-help"}, {"load", "--help"}, {"room", "--help"}, {"room", "-h"}, {"room", "list", "--help"},
	} {
		code, out := hearth(args...)
		if code != 0 {
			t.Errorf("hearth %s: exit status %d, want 0; output:\n%s", strings.Join(args, " "), code, out)
		}
		if !strings.Contains(strings.ToLower(out), "usage") {
			t.Errorf("hearth %s printed no usage:\n%s", strings.Join(args, " "), out)
		}
	}
	if code, out := hearth("token", "-no-such-flag"); code != 1 {
		t.Errorf("hearth token -no-such-flag: exit status %d, want 1; output:\n%s", code, out)
	}
}
