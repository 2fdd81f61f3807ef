package admin_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/hearth-rtc/hearth/room"
)

// testPeerLed: a room's peerLed setting and its schedule's rota are set,
// shown and changed; bad ones are refused plainly.
func testPeerLed(t *testing.T, ns newStore) {
	store := ns(t)
	first, now := cohortTimes()
	c := startAt(t, store, now)
	r := c.expect("POST", "/admin/rooms", cohortBody(first), http.StatusCreated)
	if r.body["peerLed"] != "nobody" {
		t.Fatalf("default peerLed: %s", r.raw)
	}
	r = c.expect("PATCH", "/admin/rooms/cohort", `{"peerLed":"members","schedule":{"firstDate":"`+first.Format("2006-01-02")+
		`","startTime":"19:00","minutes":90,"repeat":"weekly","sessions":6,"timeZone":"UTC","rota":["rae","kim",""]}}`, http.StatusOK)
	sched, _ := r.body["schedule"].(map[string]any)
	if r.body["peerLed"] != "members" || len(sched["rota"].([]any)) != 3 {
		t.Fatalf("patched: %s", r.raw)
	}
	cfg, err := store.GetRoom(context.Background(), "cohort")
	if err != nil || cfg.PeerLed != room.PeerLedMembers || !slices.Equal(cfg.Schedule.Rota, []string{"rae", "kim", ""}) {
		t.Fatalf("stored %+v %+v, %v", cfg.PeerLed, cfg.Schedule, err)
	}
	for _, body := range []string{
		`{"peerLed":"everyone"}`,
		`{"peerLed":true}`,
		`{"schedule":{"firstDate":"2026-12-03","startTime":"19:00","minutes":90,"timeZone":"UTC","rota":["two words"]}}`,
		`{"schedule":{"firstDate":"2026-12-03","startTime":"19:00","minutes":90,"timeZone":"UTC","rota":"rae"}}`,
	} {
		c.expectError("PATCH", "/admin/rooms/cohort", body, http.StatusBadRequest, "bad_request")
	}
	c.expect("PATCH", "/admin/rooms/cohort", `{"peerLed":"nobody"}`, http.StatusOK)
	if cfg, _ := store.GetRoom(context.Background(), "cohort"); cfg.PeerLed != room.PeerLedNobody || len(cfg.Schedule.Rota) != 3 {
		t.Fatalf("after peerLed nobody: %+v", cfg)
	}
}
