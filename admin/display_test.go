package admin_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/hearth-rtc/hearth/room"
)

// testDisplayAndShareEnd: a room's display name is made from its name until
// one is set, is trimmed, refused with a plain sentence when it is not one
// line of plain text, and restored to the default with ""; the end of a
// timed share is stop by default and may be finish.
func testDisplayAndShareEnd(t *testing.T, ns newStore) {
	store := ns(t)
	c := start(t, store)
	r := c.expect("POST", "/admin/rooms", `{"name":"thursday-circle","kind":"open"}`, http.StatusCreated)
	if r.body["displayName"] != "Thursday circle" || r.body["shareEnd"] != "stop" {
		t.Fatalf("created = %s, want the display name made from the name and shareEnd stop", r.raw)
	}
	r = c.expect("PATCH", "/admin/rooms/thursday-circle", `{"displayName":"  Thursday evening circle ","shareEnd":"finish"}`, http.StatusOK)
	if r.body["displayName"] != "Thursday evening circle" || r.body["shareEnd"] != "finish" {
		t.Fatalf("patched = %s", r.raw)
	}
	cfg, err := store.GetRoom(context.Background(), "thursday-circle")
	if err != nil || cfg.DisplayName != "Thursday evening circle" || cfg.ShareEnd != room.ShareEndFinish {
		t.Fatalf("stored %+v, %v", cfg, err)
	}
	long := strings.Repeat("é", room.MaxNameLen+1)
	for _, body := range []string{
		`{"displayName":"two\nlines"}`, `{"displayName":"` + long + `"}`, `{"displayName":"\u202eevil"}`,
		`{"displayName":5}`, `{"shareEnd":"later"}`,
	} {
		r := c.expectError("PATCH", "/admin/rooms/thursday-circle", body, http.StatusBadRequest, "bad_request")
		if msg := r.body["error"].(map[string]any)["message"].(string); strings.Contains(msg, long) || strings.Contains(msg, "room.") {
			t.Errorf("%s: message %q echoes the input or names internals", body, msg)
		}
	}
	r = c.expect("GET", "/admin/rooms/thursday-circle", "", http.StatusOK)
	if r.body["displayName"] != "Thursday evening circle" || r.body["shareEnd"] != "finish" {
		t.Fatalf("refused patches changed the room: %s", r.raw)
	}
	r = c.expect("PATCH", "/admin/rooms/thursday-circle", `{"displayName":""}`, http.StatusOK)
	if r.body["displayName"] != "Thursday circle" {
		t.Fatalf("display name cleared = %s, want the default again", r.raw)
	}
	r = c.expect("POST", "/admin/rooms", `{"name":"cohort","kind":"closed","displayName":"Tuesday anxiety group","shareEnd":"finish"}`, http.StatusCreated)
	if r.body["displayName"] != "Tuesday anxiety group" || r.body["shareEnd"] != "finish" {
		t.Fatalf("created with both = %s", r.raw)
	}
}
