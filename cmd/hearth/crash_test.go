package main

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/redistest"
	"github.com/hearth-rtc/hearth/membership/redisstore"
)

// TestCrashedNodeLeavesPresence: a Redis-backed hearth process killed
// without a goodbye loses its participants from the presence set within the
// 15 s the product promises (TTL 10 s, heartbeat 3 s).
func TestCrashedNodeLeavesPresence(t *testing.T) {
	rs := redistest.Start(t)
	cmd, base := startBinary(t, "-redis", rs.URL(), "-secret", "a-long-enough-secret-for-tests")
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	ws := "ws" + strings.TrimPrefix(base, "http") + "/ws"
	var ids []string
	var clients []*client.Client
	for _, name := range []string{"Ann", "Ben"} {
		c, err := client.Dial(ctx, nil, client.Options{URL: ws, Room: "drop-in", Name: name, Audio: true})
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
		ids = append(ids, c.ID())
		clients = append(clients, c)
	}
	// Media flows with the Redis store too.
	if err := clients[1].Wait(ctx, func() bool {
		s := clients[1].Stream(ids[0], "audio")
		return s != nil && s.Packets.Load() > 10
	}); err != nil {
		t.Fatalf("no media: %v", err)
	}

	store, err := redisstore.New(redisstore.Options{URL: rs.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	sess, err := store.Session(ctx, "drop-in")
	if err != nil {
		t.Fatal(err)
	}
	if len(sess.Participants) != 2 {
		t.Fatalf("presence before the crash: %d participants, want 2", len(sess.Participants))
	}

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	_ = cmd.Wait()
	deadline, stop := context.WithDeadline(ctx, killed.Add(15*time.Second))
	defer stop()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		sess, err := store.Session(deadline, "drop-in")
		if err == nil && len(sess.Participants) == 0 {
			t.Logf("presence empty %s after the crash", time.Since(killed).Round(100*time.Millisecond))
			return
		}
		select {
		case <-deadline.Done():
			t.Fatalf("participants of the crashed process still present after 15 s: %+v (err %v)", sess.Participants, err)
		case <-tick.C:
		}
	}
}
