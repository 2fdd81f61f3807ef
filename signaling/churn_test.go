package signaling_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
)

// TestDepartedParticipantsLeaveNothing: participants that join, exchange
// media and leave leave no goroutines behind in the server (the test's own
// clients are closed and waited for, so the count is the server's).
func TestDepartedParticipantsLeaveNothing(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	stay := joinPeer(t, srv, "churn", "Stay")
	// Warm up: the first arrival creates the room's session.
	first := joinPeer(t, srv, "churn", "Warm")
	waitMedia(t, stay, 5, first)
	id := first.ID()
	first.Close()
	// Each visitor's sections are handed to the next once Stay has seen
	// them emptied (answered, and the server has the answer: a ping's
	// pong follows it); a visitor who came sooner would get new ones, each
	// video section with its reader, for as long as Stay stays.
	waitNegotiated(t, stay, id)
	ping(t, stay)

	settle := func() int {
		ctx, cancel := budget.Context(t, budget.Step)
		defer cancel()
		prev := -1
		for {
			n := runtime.NumGoroutine()
			if n == prev {
				return n
			}
			prev = n
			select {
			case <-ctx.Done():
				return n
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	base := settle()
	for range 10 {
		c := dial(t, srv, client.Options{Room: "churn", Name: "Visitor", Audio: true, Video: true})
		if err := c.Join(); err != nil {
			t.Fatal(err)
		}
		waitMedia(t, stay, 5, c)
		id := c.ID()
		c.Close()
		waitNegotiated(t, stay, id)
		ping(t, stay)
	}
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	for runtime.NumGoroutine() > base {
		select {
		case <-ctx.Done():
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("goroutines: %d after churn, %d before\n%s", runtime.NumGoroutine(), base, buf[:n])
		case <-time.After(50 * time.Millisecond):
		}
	}
}
