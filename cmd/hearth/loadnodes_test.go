package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/load"
)

// TestLoadSpawnNodes: hearth load -spawn-nodes starts a redis-server and
// two nodes, spreads each room's participants over both, and reports each
// node's share (who joined through it, the rooms it owns, its CPU), the
// joins through a room's owner apart from those relayed, and a wave.
func TestLoadSpawnNodes(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil && os.Getenv("HEARTH_REDIS_SERVER") == "" {
		t.Skip("redis-server not found; install it (apt-get install redis-server) to run the cluster tests")
	}
	// The nodes are this test binary, run as hearth.
	t.Setenv("HEARTH_TEST_RUN_MAIN", "1")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errs bytes.Buffer
	err := loadCmd(ctx, []string{"-spawn-nodes", "2", "-rooms", "2", "-size", "3", "-join-rate", "50",
		"-duration", "2s", "-warmup", "300ms", "-settle", "30s", "-wave", "6", "-wave-within", "500ms", "-json"}, &out, &errs)
	if err != nil {
		t.Fatalf("load: %v\n%s", err, errs.String())
	}
	var rep load.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, out.String())
	}
	if len(rep.Results) != 1 {
		t.Fatalf("%d results", len(rep.Results))
	}
	res := rep.Results[0]
	if res.Participants != 12 || res.Failed != 0 || !res.Settled {
		t.Fatalf("%d joined, %d failed, settled %v", res.Participants, res.Failed, res.Settled)
	}
	if res.Wave == nil || res.Wave.Participants != 6 || res.Wave.Failed != 0 {
		t.Fatalf("wave: %+v", res.Wave)
	}
	if len(res.Nodes) != 2 {
		t.Fatalf("%d nodes reported, want 2", len(res.Nodes))
	}
	joined, owned := 0, 0
	for _, n := range res.Nodes {
		joined += n.Joined
		owned += n.Owned
		if n.ID == "" || n.Joined == 0 || n.CPUCores <= 0 || n.WaveCPUSeconds <= 0 {
			t.Errorf("node %+v: no share or no CPU read", n)
		}
	}
	if joined != 12 || owned != 4 {
		t.Errorf("%d joined through the nodes and %d rooms owned, want 12 and 4", joined, owned)
	}
	// Each room's members come through both nodes: some joins reach the
	// owner, others are relayed to it.
	if res.JoinAnswerOwner.N+res.JoinAnswerRelayed.N != 12 || res.JoinAnswerOwner.N == 0 || res.JoinAnswerRelayed.N == 0 {
		t.Errorf("%d joins through the owner, %d relayed, want both, 12 in all", res.JoinAnswerOwner.N, res.JoinAnswerRelayed.N)
	}
	if res.ServerCPUCores <= 0 || res.ServerForwardedPerSec <= 0 {
		t.Errorf("the nodes' CPU (%.2f) or forwarded count (%.0f) was not read", res.ServerCPUCores, res.ServerForwardedPerSec)
	}
}
