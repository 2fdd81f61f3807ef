package budget_test

import (
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestDeadline: a wait gets what it asks for, unless the test binary's
// -timeout comes first; then it ends before, leaving time to report.
func TestDeadline(t *testing.T) {
	before := time.Now()
	if got := budget.Deadline(t, time.Second); got.Before(before.Add(time.Second)) || got.After(time.Now().Add(time.Second)) {
		t.Errorf("a 1 s wait ends %v from now", got.Sub(before))
	}
	end, ok := t.Deadline()
	if !ok {
		t.Skip("run without -timeout")
	}
	if got := budget.Deadline(t, 1000*time.Hour); !got.Before(end) {
		t.Errorf("a long wait ends at %v, after the test binary's deadline %v", got, end)
	}
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	if dl, ok := ctx.Deadline(); !ok || dl.After(time.Now().Add(budget.Step)) {
		t.Errorf("context deadline %v (%v), want at most %v from now", dl, ok, budget.Step)
	}
}
