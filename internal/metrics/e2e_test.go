package metrics_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestMetricsMoveWithMedia: a real server's /metrics counts the room, its
// participants and tracks, the join messages and their latency, and its
// forwarding counters grow while media flows.
func TestMetricsMoveWithMedia(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	var clients []*client.Client
	for _, name := range []string{"Ann", "Ben"} {
		c, err := client.Dial(ctx, nil, client.Options{URL: srv.WSURL, Room: "metrics", Name: name, Audio: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		if err := c.Join(); err != nil {
			t.Fatal(err)
		}
		if _, err := c.WaitMessage(ctx, "joined", nil); err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	for i, c := range clients {
		other := clients[1-i]
		if err := c.Wait(ctx, func() bool {
			s := c.Stream(other.ID(), "audio")
			return s != nil && s.Packets.Load() >= 10
		}); err != nil {
			t.Fatalf("no media between the peers: %v", err)
		}
	}

	first := get(t, srv.URL+"/metrics")
	for series, want := range map[string]float64{
		`hearth_rooms`: 1,
		`hearth_participants{role="member",state="active"}`: 2,
		`hearth_sfu_tracks`:                                    2,
		`hearth_sfu_peer_connections`:                          2,
		`hearth_ws_messages_received_total{type="join"}`:       2,
		`hearth_join_duration_seconds_count{outcome="joined"}`: 2,
	} {
		if got := value(t, first, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	fwd := value(t, first, "hearth_sfu_forwarded_packets_total")
	if fwd < 20 {
		t.Errorf("forwarded %v packets, want at least 20", fwd)
	}
	if v := value(t, first, "hearth_ws_messages_received_total{type=\"answer\"}"); v < 2 {
		t.Errorf("answers counted: %v, want at least 2", v)
	}
	// Audio to these peers takes the fast path, which also sends their
	// sender reports.
	if v := value(t, first, "hearth_sfu_fast_forwarded_packets_total"); v < fwd/2 {
		t.Errorf("fast path forwarded %v of %v packets", v, fwd)
	}
	for _, c := range clients {
		if err := c.Wait(ctx, func() bool { return c.SenderReports.Load() > 0 }); err != nil {
			t.Errorf("%s got no sender report for its audio", c.ID())
		}
	}
	// Audio flows at 50 packets/s each way: the counters must move.
	deadline := budget.Deadline(t, budget.Step)
	for {
		later := get(t, srv.URL+"/metrics")
		if value(t, later, "hearth_sfu_forwarded_packets_total") >= fwd+20 &&
			value(t, later, "hearth_sfu_received_packets_total") > 0 &&
			value(t, later, "hearth_sfu_forwarded_bytes_total") > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("forwarding counters did not move while media flowed")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(b)
}

func value(t *testing.T, body, series string) float64 {
	t.Helper()
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("%s: %v", series, err)
			}
			return f
		}
	}
	t.Fatalf("%s not in /metrics", series)
	return 0
}
