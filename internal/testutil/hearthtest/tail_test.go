package hearthtest

import (
	"fmt"
	"strings"
	"testing"
)

// TestLogTail: the tail keeps the last lines, oldest first.
func TestLogTail(t *testing.T) {
	var l logTail
	for i := range logTailLines + 10 {
		fmt.Fprintf(&l, "line %d\n", i)
	}
	got := strings.Split(strings.TrimSuffix(l.String(), "\n"), "\n")
	if len(got) != logTailLines || got[0] != "line 10" || got[len(got)-1] != fmt.Sprintf("line %d", logTailLines+9) {
		t.Fatalf("tail of %d lines from %q to %q", len(got), got[0], got[len(got)-1])
	}
}
