package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/sfu"
	"github.com/hearth-rtc/hearth/signaling"
)

// TestExposition: every series is served under its name, counters read the
// SFU's atomics at scrape time, and two registries do not share state.
func TestExposition(t *testing.T) {
	m := New()
	other := New()
	m.SFU.PacketsForwarded.Add(42)
	m.SFU.PacketsDropped[sfu.DropGate].Add(3)
	m.SFU.Tracks.Add(2)
	m.SFU.NACKsSent.Add(1)
	m.SFU.Retransmitted.Add(5)
	m.MessageReceived("join")
	m.MessageReceived("join")
	m.ErrorSent("bad_json")
	m.Join(signaling.JoinJoined, 20*time.Millisecond)
	m.WatchSignaling(func() signaling.Stats {
		return signaling.Stats{Rooms: 1, Participants: map[signaling.ParticipantKey]int{
			{Role: "member", State: "active"}:      3,
			{Role: "observer", State: "waiting"}:   1,
			{Role: "facilitator", State: "active"}: 1,
		}}
	})
	body := scrape(t, m)
	for series, want := range map[string]string{
		`hearth_sfu_forwarded_packets_total`:                               "42",
		`hearth_sfu_dropped_packets_total{reason="gate"}`:                  "3",
		`hearth_sfu_dropped_packets_total{reason="keyframe"}`:              "0",
		`hearth_sfu_tracks`:                                                "2",
		`hearth_sfu_nacks_total{direction="sent"}`:                         "1",
		`hearth_sfu_retransmitted_packets_total`:                           "5",
		`hearth_sfu_keyframe_requests_total`:                               "0",
		`hearth_ws_messages_received_total{type="join"}`:                   "2",
		`hearth_ws_errors_sent_total{code="bad_json"}`:                     "1",
		`hearth_join_duration_seconds_count{outcome="joined"}`:             "1",
		`hearth_join_duration_seconds_bucket{outcome="joined",le="0.025"}`: "1",
		`hearth_rooms`: "1",
		`hearth_participants{role="member",state="active"}`:    "3",
		`hearth_participants{role="observer",state="waiting"}`: "1",
		`hearth_participants{role="member",state="waiting"}`:   "0",
	} {
		if got, ok := seriesValue(body, series); !ok || got != want {
			t.Errorf("%s = %q (present %v), want %s", series, got, ok, want)
		}
	}
	for _, name := range []string{"process_cpu_seconds_total", "go_goroutines"} {
		if !strings.Contains(body, "\n"+name+" ") {
			t.Errorf("%s missing", name)
		}
	}
	if v, _ := seriesValue(scrape(t, other), "hearth_sfu_forwarded_packets_total"); v != "0" {
		t.Errorf("a second registry sees %s forwarded packets, want 0", v)
	}
}

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /metrics: %d", rec.Code)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

// seriesValue finds "series value" in an exposition.
func seriesValue(body, series string) (string, bool) {
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}
