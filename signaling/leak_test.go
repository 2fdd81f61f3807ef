package signaling_test

import (
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/pion/webrtc/v4"
)

type usage struct {
	goroutines int
	fds        int
	heap       uint64
}

func measure(t *testing.T) usage {
	t.Helper()
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("counting file descriptors: %v", err)
	}
	return usage{goroutines: serverGoroutines(), fds: len(fds), heap: ms.HeapAlloc}
}

// serverGoroutines counts the goroutines of this process but the host
// client's: its readers, two for each section that has carried something
// to it, and pion's wait for the first packet on each of its sections not
// yet used. The host's spare sections come into use as visitors come and
// go, more of them when visitors overlap; that is the client's, bounded
// by its sections, not the server's. (No visitor is left when this is
// called, and the host publishes nothing, so no receiver of the server's
// waits for a first packet.)
func serverGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if !strings.Contains(g, "hearth/internal/client.") && !strings.Contains(g, "(*PeerConnection).startReceiver") {
			count++
		}
	}
	return count
}

// TestChurn: 1,000 join/leave cycles (each negotiating a peer connection
// with the server) leave goroutines, file descriptors and heap where they
// started.
func TestChurn(t *testing.T) {
	if testing.Short() {
		t.Skip("long churn run")
	}
	srv := hearthtest.Start(t, hearthtest.Options{})
	// The host publishes nothing, so visitors only negotiate: a visitor
	// closing while pion starts a receiver trips a race inside pion's
	// client side, which is not what this test is about.
	host := dial(t, srv, client.Options{Room: "churn-1000", Name: "Host"})
	if err := host.Join(); err != nil {
		t.Fatal(err)
	}
	api, err := client.NewAPI()
	if err != nil {
		t.Fatal(err)
	}
	// Half the visitors connect fully before leaving; the other half leave
	// with the server's offer unanswered. (Visitors that vanish in the
	// middle of ICE are covered against a separate server process in
	// cmd/hearth, because pion's client side can leak in that case and
	// would be counted here.)
	cycle := func(connect bool) error {
		ctx, cancel := budget.Context(t, budget.Step)
		defer cancel()
		c, err := client.Dial(ctx, api, client.Options{URL: srv.WSURL, Room: "churn-1000", Name: "Visitor", Audio: true})
		if err != nil {
			return err
		}
		defer c.Close()
		c.Hold(!connect)
		if err := c.Join(); err != nil {
			return err
		}
		if _, err = c.WaitMessage(ctx, "offer", nil); err != nil || !connect {
			return err
		}
		return c.Wait(ctx, func() bool { return c.PC().ConnectionState() == webrtc.PeerConnectionStateConnected })
	}
	// churn runs n cycles on four workers at once.
	const workers, total = 4, 1000
	churn := func(n int) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range n / workers {
					if err := cycle(i%2 == 0); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("cycle: %v", err)
		}
	}
	// Warm up pools, the room's session and the host's sections, as many
	// at once as the run below: visitors take the host's spares (a section
	// emptied waits for the host to answer an offer), and the host's
	// client starts reading each the first time it carries something.
	churn(120)
	before := measure(t)
	churn(total)

	// The server settles asynchronously (peer connections close in the
	// background); wait for the counts to come back, with a deadline. The
	// heap's bound leaves room for the host client's own record of what
	// it received (every message, kept for WaitMessage, and a counter per
	// stream: about 5 KiB a cycle, all of the growth when heap profiles
	// before and after are compared); the server's part comes back.
	deadline := budget.Deadline(t, budget.Step)
	var after usage
	for {
		after = measure(t)
		ok := after.goroutines <= before.goroutines+2 && after.fds <= before.fds+2 &&
			after.heap <= before.heap+8<<20
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %d cycles: goroutines %d→%d, fds %d→%d, heap %d→%d KiB",
				total, before.goroutines, after.goroutines, before.fds, after.fds, before.heap>>10, after.heap>>10)
		}
		time.Sleep(200 * time.Millisecond) // polling interval, not a pass condition
	}
	t.Logf("after %d cycles: goroutines %d→%d, fds %d→%d, heap %d→%d KiB",
		total, before.goroutines, after.goroutines, before.fds, after.fds, before.heap>>10, after.heap>>10)
	// The session itself still works.
	late := joinPeer(t, srv, "churn-1000", "Late")
	waitMedia(t, host, 10, late)
}
