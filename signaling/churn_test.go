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
	visit := func() {
		c := dial(t, srv, client.Options{Room: "churn", Name: "Visitor", Audio: true, Video: true})
		if err := c.Join(); err != nil {
			t.Fatal(err)
		}
		waitMedia(t, stay, 5, c)
		id := c.ID()
		c.Close()
		waitEmptied(t, stay, id)
		ping(t, stay)
	}
	// Warm up: the first arrival creates the room's session, and gives
	// Stay its spare sections. Visitors take the spares one by one, each
	// video section starting its reader as it is first used; when they run
	// out, the offer that adds a section lets the emptied ones be handed
	// on (Stay has answered an offer since it was told they carry nobody).
	// From then on visitors take sections that have carried before.
	for range 14 {
		visit()
	}

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
		visit()
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
