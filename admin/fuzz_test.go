package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/hearth-rtc/hearth/admin"
	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/room"
)

// FuzzRoomInput sends arbitrary bodies to room creation and to a PATCH of
// an existing room. The API answers every one with JSON and a 2xx or 4xx
// status, never a server error; refusals carry the code their status
// documents and change nothing; what it accepts is stored as a valid
// configuration, shown back the same by GET, and a PATCH never renames.
func FuzzRoomInput(f *testing.F) {
	for _, s := range []string{
		`{"name":"tuesday-anxiety","kind":"closed","capacity":10,"roster":[{"identity":"dr-lee","name":"Dr Lee","role":"facilitator"}]}`,
		`{"name":"r","kind":"open"}`, `{"name":"r","kind":"open","passcode":"sesame"}`, `{"name":"r","kind":"open","passcode":""}`,
		`{"kind":"closed"}`, `{"name":"r"}`, `{"name":"bad name","kind":"open"}`, `{"name":"r","kind":"secret"}`,
		`{"name":"r","kind":"open","capacity":0}`, `{"name":"r","kind":"open","capacity":-1}`, `{"name":"r","kind":"open","capacity":1e9}`,
		`{"name":"r","kind":"open","capacity":"10"}`, `{"name":"r","kind":"open","capcity":10}`, `{"name":"r","kind":"open"} {}`,
		`{"name":"r","kind":"open","roster":[{"identity":"a","role":"member"},{"identity":"a","role":"member"}]}`,
		`{"name":"r","kind":"open","roster":[{"identity":"a b","role":"king"}]}`, `{"name":"base"}`, `{"name":"other"}`,
		`{"lockBehavior":"refuse","knock":true,"membersJoinMuted":true}`, `{"lockBehavior":"maybe"}`, `null`, `[]`, ``, `{`,
		`{"schedule":{"firstDate":"2026-12-03","startTime":"19:00","minutes":90,"repeat":"weekly","sessions":10,"timeZone":"Europe/London"},"agreement":{"text":"Confidential.","contact":"Call us."}}`,
		`{"schedule":null,"agreement":null}`, `{"schedule":{"firstDate":"2026-12-03","timeZone":"../etc"}}`, `{"schedule":[]}`,
		`{"agreement":{"text":"a","every":"session"}}`, `{"agreement":{"text":"\u202e"}}`, `{"agreement":"text"}`,
		`{"overrideBy":"Dr Lee","roster":[{"identity":"new","role":"member"}]}`, `{"rosterOverrides":[]}`,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.Fuzz(func(t *testing.T, body []byte, patch bool) {
		store := membership.NewMemStore(membership.MemStoreOptions{})
		defer store.Close()
		h := admin.NewHandler(admin.Config{Store: store, APIKey: apiKey, APISecret: apiSecret, Logger: log, MaxBodyBytes: 4 << 10})
		ctx := context.Background()
		base, err := store.CreateRoom(ctx, room.RoomConfig{Name: "base", Kind: room.KindClosed, Capacity: 4,
			Roster: []room.RosterEntry{{Identity: "fac", Role: room.RoleFacilitator}}})
		if err != nil {
			t.Fatal(err)
		}
		method, path, ok := http.MethodPost, "/admin/rooms", map[int]bool{http.StatusCreated: true}
		if patch {
			method, path, ok = http.MethodPatch, "/admin/rooms/base", map[int]bool{http.StatusOK: true}
		}
		status, resp := fuzzCall(t, h, method, path, body)
		codes := map[int]string{http.StatusBadRequest: "bad_request", http.StatusConflict: "exists",
			http.StatusRequestEntityTooLarge: "too_large"}
		if !ok[status] {
			var e struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			if err := json.Unmarshal(resp, &e); err != nil || codes[status] == "" || e.Error.Code != codes[status] || e.Error.Message == "" {
				t.Fatalf("%s %s %q: %d %s", method, path, body, status, resp)
			}
			// Nothing changed.
			rooms, err := store.ListRooms(ctx)
			if err != nil || len(rooms) != 1 || !reflect.DeepEqual(rooms[0], base) {
				t.Fatalf("refused %q, yet the store holds %+v (%v)", body, rooms, err)
			}
			return
		}
		var view map[string]any
		if err := json.Unmarshal(resp, &view); err != nil {
			t.Fatalf("%s %q: %d with %s", method, body, status, resp)
		}
		name, _ := view["name"].(string)
		if patch && name != "base" {
			t.Fatalf("PATCH of base %q renamed it to %q", body, name)
		}
		stored, err := store.GetRoom(ctx, name)
		if err != nil {
			t.Fatalf("accepted %q but %q is not stored: %v", body, name, err)
		}
		if err := stored.Validate(); err != nil {
			t.Fatalf("accepted %q and stored an invalid configuration %+v: %v", body, stored, err)
		}
		if _, has := view["passcodeHash"]; has || view["hasPasscode"] != stored.HasPasscode() {
			t.Fatalf("view %s does not match the stored passcode state", resp)
		}
		gs, got := fuzzCall(t, h, http.MethodGet, "/admin/rooms/"+name, nil)
		var again map[string]any
		if gs != http.StatusOK || json.Unmarshal(got, &again) != nil || !reflect.DeepEqual(view, again) {
			t.Fatalf("GET after %s %q: %d %s, want %s", method, body, gs, got, resp)
		}
	})
}

func fuzzCall(t *testing.T, h http.Handler, method, path string, body []byte) (int, []byte) {
	t.Helper()
	r := httptest.NewRequest(method, path, bytes.NewReader(body))
	r.SetBasicAuth(apiKey, apiSecret)
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, w.Body.Bytes()
}
