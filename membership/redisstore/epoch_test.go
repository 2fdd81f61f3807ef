package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/testutil/redistest"
	"github.com/hearth-rtc/hearth/room"
)

// TestEpoch: the epoch stays while Redis keeps its data, is unavailable
// while Redis is down, and changes once Redis comes back empty; every
// store on the same Redis agrees on it.
func TestEpoch(t *testing.T) {
	srv := redistest.Start(t)
	a := open(t, srv.URL(), "epoch:", time.Minute)
	b := open(t, srv.URL(), "epoch:", time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e1, err := a.Epoch(ctx)
	if err != nil || e1 == "" {
		t.Fatalf("epoch: %q, %v", e1, err)
	}
	if again, err := a.Epoch(ctx); err != nil || again != e1 {
		t.Fatalf("epoch changed without a loss: %q then %q (%v)", e1, again, err)
	}
	if other, err := b.Epoch(ctx); err != nil || other != e1 {
		t.Fatalf("two stores disagree: %q and %q (%v)", e1, other, err)
	}
	other := open(t, srv.URL(), "elsewhere:", time.Minute)
	if e, err := other.Epoch(ctx); err != nil || e == e1 {
		t.Fatalf("another prefix shares the epoch: %q (%v)", e, err)
	}

	srv.Stop(t)
	if _, err := a.Epoch(ctx); !errors.Is(err, room.ErrUnavailable) {
		t.Fatalf("epoch while Redis is down: %v", err)
	}
	srv.Restart(t)
	e2, err := b.Epoch(ctx)
	if err != nil || e2 == e1 {
		t.Fatalf("epoch after Redis lost its data: %q (was %q), %v", e2, e1, err)
	}
	if again, err := a.Epoch(ctx); err != nil || again != e2 {
		t.Fatalf("stores disagree after the loss: %q and %q (%v)", e2, again, err)
	}
}
