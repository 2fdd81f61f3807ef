package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/admin"
	"github.com/hearth-rtc/hearth/internal/testutil/redistest"
	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/membership/redisstore"
	"github.com/hearth-rtc/hearth/room"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	apiKey    = "ops-key"
	apiSecret = "ops-secret-value"
)

type newStore func(t *testing.T) membership.Store

func TestAdminMemStore(t *testing.T) {
	run(t, func(t *testing.T) membership.Store {
		s := membership.NewMemStore(membership.MemStoreOptions{})
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func TestAdminRedisStore(t *testing.T) {
	srv := redistest.Start(t)
	var n atomic.Int64
	run(t, func(t *testing.T) membership.Store {
		s, err := redisstore.New(redisstore.Options{URL: srv.URL(), Prefix: fmt.Sprintf("admin%d:", n.Add(1))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func run(t *testing.T, ns newStore) {
	for name, fn := range map[string]func(*testing.T, newStore){
		"Auth":         testAuth,
		"CRUD":         testCRUD,
		"Patch":        testPatch,
		"Roster":       testRoster,
		"BadRequests":  testBadRequests,
		"Routing":      testRouting,
		"Session":      testSession,
		"Unavailable":  testUnavailable,
		"PrefixOption": testPrefixOption,
		"Series":       testSeries,
		"Attendance":   testAttendance,
		"Display":      testDisplayAndShareEnd,
		"PeerLed":      testPeerLed,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, ns)
		})
	}
}

type client struct {
	t    *testing.T
	srv  *httptest.Server
	user string
	pass string
}

func start(t *testing.T, store membership.Store) *client {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/admin/", admin.NewHandler(admin.Config{Store: store, APIKey: apiKey, APISecret: apiSecret,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxBodyBytes: 64 << 10}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &client{t: t, srv: srv, user: apiKey, pass: apiSecret}
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (c *client) do(method, path, body string) response {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.srv.URL+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.user != "" || c.pass != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	res, err := c.srv.Client().Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := response{status: res.StatusCode, header: res.Header, raw: string(raw)}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			c.t.Fatalf("%s %s: body is not a JSON object: %q", method, path, raw)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			c.t.Fatalf("Content-Type = %q", ct)
		}
	}
	return out
}

func (c *client) expect(method, path, body string, status int) response {
	c.t.Helper()
	r := c.do(method, path, body)
	if r.status != status {
		c.t.Fatalf("%s %s = %d %s, want %d", method, path, r.status, r.raw, status)
	}
	return r
}

// expectError checks status and the error envelope's code.
func (c *client) expectError(method, path, body string, status int, code string) response {
	c.t.Helper()
	r := c.expect(method, path, body, status)
	e, _ := r.body["error"].(map[string]any)
	if e == nil || e["code"] != code || e["message"] == "" || e["message"] == nil {
		c.t.Fatalf("%s %s: error body %s, want code %q", method, path, r.raw, code)
	}
	return r
}

func testAuth(t *testing.T, ns newStore) {
	c := start(t, ns(t))
	for _, creds := range [][2]string{{"", ""}, {apiKey, ""}, {apiKey, "wrong"}, {"wrong", apiSecret}, {apiSecret, apiKey}, {apiKey, apiSecret + "x"}} {
		c.user, c.pass = creds[0], creds[1]
		r := c.expectError("GET", "/admin/rooms", "", http.StatusUnauthorized, "unauthorized")
		if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic ") {
			t.Fatalf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
		}
	}
	// Refused before anything is read or written.
	c.user, c.pass = "x", "y"
	c.expectError("POST", "/admin/rooms", `{"name":"r","kind":"open"}`, http.StatusUnauthorized, "unauthorized")
	c.user, c.pass = apiKey, apiSecret
	c.expect("GET", "/admin/rooms/r", "", http.StatusNotFound)

	// Without configured credentials, nothing is served.
	h := admin.NewHandler(admin.Config{Store: ns(t), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/admin/rooms", nil)
	req.SetBasicAuth("", "")
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"disabled"`) {
		t.Fatalf("unconfigured handler: %d %s", rec.Code, rec.Body)
	}
}

func testCRUD(t *testing.T, ns newStore) {
	store := ns(t)
	c := start(t, store)
	if r := c.expect("GET", "/admin/rooms", "", http.StatusOK); r.raw == "" || len(r.body["rooms"].([]any)) != 0 {
		t.Fatalf("empty list = %s", r.raw)
	}
	r := c.expect("POST", "/admin/rooms", `{"name":"tuesday-grief","kind":"closed","capacity":12,"passcode":"1234",
		"lockBehavior":"refuse","membersJoinMuted":true,
		"roster":[{"identity":"dr-lee","name":"Dr Lee","role":"facilitator"},{"identity":"client-04","name":"Rae","role":"member"}]}`,
		http.StatusCreated)
	if r.header.Get("Location") != "/admin/rooms/tuesday-grief" {
		t.Fatalf("Location = %q", r.header.Get("Location"))
	}
	if r.body["hasPasscode"] != true || r.body["capacity"] != 12.0 || r.body["kind"] != "closed" ||
		r.body["lockBehavior"] != "refuse" || r.body["membersJoinMuted"] != true || len(r.body["roster"].([]any)) != 2 {
		t.Fatalf("created = %s", r.raw)
	}
	if strings.Contains(r.raw, "1234") || strings.Contains(r.raw, "$2") || strings.Contains(strings.ToLower(r.raw), "hash") {
		t.Fatalf("passcode or its hash leaked: %s", r.raw)
	}
	// Stored as a hash that checks.
	cfg, err := store.GetRoom(context.Background(), "tuesday-grief")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.PasscodeHash == "1234" || !cfg.CheckPasscode("1234") {
		t.Fatalf("passcode not stored as a hash: %q", cfg.PasscodeHash)
	}

	c.expectError("POST", "/admin/rooms", `{"name":"tuesday-grief","kind":"open"}`, http.StatusConflict, "exists")
	d := c.expect("POST", "/admin/rooms", `{"name":"drop-in","kind":"open"}`, http.StatusCreated)
	if d.body["capacity"] != float64(room.DefaultCapacity) || d.body["lockBehavior"] != "waiting" || d.body["hasPasscode"] != false {
		t.Fatalf("defaults = %s", d.raw)
	}

	g := c.expect("GET", "/admin/rooms/tuesday-grief", "", http.StatusOK)
	if g.body["name"] != "tuesday-grief" || g.body["createdAt"] == "" {
		t.Fatalf("get = %s", g.raw)
	}
	l := c.expect("GET", "/admin/rooms", "", http.StatusOK)
	rooms := l.body["rooms"].([]any)
	if len(rooms) != 2 || rooms[0].(map[string]any)["name"] != "drop-in" || rooms[1].(map[string]any)["name"] != "tuesday-grief" {
		t.Fatalf("list = %s", l.raw)
	}

	if r := c.expect("DELETE", "/admin/rooms/drop-in", "", http.StatusNoContent); r.raw != "" {
		t.Fatalf("delete body = %q", r.raw)
	}
	c.expectError("DELETE", "/admin/rooms/drop-in", "", http.StatusNotFound, "not_found")
	c.expectError("GET", "/admin/rooms/drop-in", "", http.StatusNotFound, "not_found")
}

func testPatch(t *testing.T, ns newStore) {
	store := ns(t)
	c := start(t, store)
	c.expect("POST", "/admin/rooms", `{"name":"r","kind":"open","passcode":"secret"}`, http.StatusCreated)

	r := c.expect("PATCH", "/admin/rooms/r", `{"capacity":5,"knock":true}`, http.StatusOK)
	if r.body["capacity"] != 5.0 || r.body["knock"] != true || r.body["hasPasscode"] != true || r.body["kind"] != "open" {
		t.Fatalf("patched = %s", r.raw)
	}
	cfg, _ := store.GetRoom(context.Background(), "r")
	if !cfg.CheckPasscode("secret") {
		t.Fatal("absent passcode field changed the passcode")
	}
	c.expect("PATCH", "/admin/rooms/r", `{"passcode":"new one"}`, http.StatusOK)
	cfg, _ = store.GetRoom(context.Background(), "r")
	if !cfg.CheckPasscode("new one") || cfg.CheckPasscode("secret") {
		t.Fatal("passcode not changed")
	}
	r = c.expect("PATCH", "/admin/rooms/r", `{"passcode":"","kind":"closed","name":"r"}`, http.StatusOK)
	if r.body["hasPasscode"] != false || r.body["kind"] != "closed" {
		t.Fatalf("patched = %s", r.raw)
	}
	c.expectError("PATCH", "/admin/rooms/r", `{"name":"other"}`, http.StatusBadRequest, "bad_request")
	c.expectError("PATCH", "/admin/rooms/r", `{"capacity":0}`, http.StatusBadRequest, "bad_request")
	c.expectError("PATCH", "/admin/rooms/r", `{"capacity":100000}`, http.StatusBadRequest, "bad_request")
	c.expectError("PATCH", "/admin/rooms/r", `{"kind":"secret"}`, http.StatusBadRequest, "bad_request")
	c.expectError("PATCH", "/admin/rooms/missing", `{"knock":true}`, http.StatusNotFound, "not_found")
	// Refused patches change nothing.
	r = c.expect("GET", "/admin/rooms/r", "", http.StatusOK)
	if r.body["capacity"] != 5.0 || r.body["kind"] != "closed" {
		t.Fatalf("after refused patches = %s", r.raw)
	}
}

func testRoster(t *testing.T, ns newStore) {
	c := start(t, ns(t))
	c.expect("POST", "/admin/rooms", `{"name":"cohort","kind":"closed"}`, http.StatusCreated)
	if r := c.expect("GET", "/admin/rooms/cohort/roster", "", http.StatusOK); len(r.body["roster"].([]any)) != 0 {
		t.Fatalf("empty roster = %s", r.raw)
	}
	r := c.expect("PUT", "/admin/rooms/cohort/roster",
		`{"roster":[{"identity":"dr-lee","name":"Dr Lee","role":"facilitator"},{"identity":"a@b.org","role":"member"}]}`, http.StatusOK)
	if len(r.body["roster"].([]any)) != 2 {
		t.Fatalf("put roster = %s", r.raw)
	}
	r = c.expect("PUT", "/admin/rooms/cohort/roster/client%2F07", `{"name":"Kim","role":"observer"}`, http.StatusCreated)
	if r.body["identity"] != "client/07" || r.body["role"] != "observer" {
		t.Fatalf("put entry = %s", r.raw)
	}
	c.expect("PUT", "/admin/rooms/cohort/roster/client%2F07", `{"name":"Kim","role":"member","identity":"client/07"}`, http.StatusOK)
	c.expectError("PUT", "/admin/rooms/cohort/roster/x", `{"role":"boss"}`, http.StatusBadRequest, "bad_request")
	c.expectError("PUT", "/admin/rooms/cohort/roster/x", `{"role":"member","identity":"y"}`, http.StatusBadRequest, "bad_request")
	c.expectError("PUT", "/admin/rooms/cohort/roster/has%20space", `{"role":"member"}`, http.StatusBadRequest, "bad_request")
	c.expectError("PUT", "/admin/rooms/nope/roster/x", `{"role":"member"}`, http.StatusNotFound, "not_found")

	r = c.expect("GET", "/admin/rooms/cohort/roster", "", http.StatusOK)
	var got []string
	for _, e := range r.body["roster"].([]any) {
		m := e.(map[string]any)
		got = append(got, fmt.Sprintf("%s=%s", m["identity"], m["role"]))
	}
	if strings.Join(got, " ") != "dr-lee=facilitator a@b.org=member client/07=member" {
		t.Fatalf("roster = %v", got)
	}

	c.expect("DELETE", "/admin/rooms/cohort/roster/a@b.org", "", http.StatusNoContent)
	c.expectError("DELETE", "/admin/rooms/cohort/roster/a@b.org", "", http.StatusNotFound, "not_found")
	r = c.expect("GET", "/admin/rooms/cohort", "", http.StatusOK)
	if len(r.body["roster"].([]any)) != 2 {
		t.Fatalf("after delete = %s", r.raw)
	}
	c.expectError("PUT", "/admin/rooms/cohort/roster",
		`{"roster":[{"identity":"a","role":"member"},{"identity":"a","role":"observer"}]}`, http.StatusBadRequest, "bad_request")
	c.expectError("PUT", "/admin/rooms/cohort/roster", `{}`, http.StatusBadRequest, "bad_request")
}

func testBadRequests(t *testing.T, ns newStore) {
	c := start(t, ns(t))
	c.expectError("POST", "/admin/rooms", `{"name":"r"`, http.StatusBadRequest, "bad_request")
	c.expectError("POST", "/admin/rooms", `[]`, http.StatusBadRequest, "bad_request")
	c.expectError("POST", "/admin/rooms", `{"name":"r","kind":"open"} {}`, http.StatusBadRequest, "bad_request")
	c.expectError("POST", "/admin/rooms", `{"name":"r","kind":"open","capactiy":3}`, http.StatusBadRequest, "bad_request")
	c.expectError("POST", "/admin/rooms", `{"name":"r","kind":"open","passcodeHash":"$2a$10$x"}`, http.StatusBadRequest, "bad_request")
	c.expectError("POST", "/admin/rooms", `{"kind":"open"}`, http.StatusBadRequest, "bad_request")
	c.expectError("POST", "/admin/rooms", `{"name":"r"}`, http.StatusBadRequest, "bad_request")
	c.expectError("POST", "/admin/rooms", `{"name":"a b","kind":"open"}`, http.StatusBadRequest, "bad_request")
	c.expectError("POST", "/admin/rooms", `{"name":"r","kind":"open","capacity":-1}`, http.StatusBadRequest, "bad_request")
	c.expectError("POST", "/admin/rooms", `{"name":"r","kind":"open","passcode":"`+strings.Repeat("p", 100)+`"}`, http.StatusBadRequest, "bad_request")
	c.expectError("POST", "/admin/rooms", ``, http.StatusBadRequest, "bad_request")

	big := `{"name":"r","kind":"closed","roster":[` + strings.Repeat(`{"identity":"someone","role":"member"},`, 3000) + `{}]}`
	c.expectError("POST", "/admin/rooms", big, http.StatusRequestEntityTooLarge, "too_large")

	req, _ := http.NewRequest("POST", c.srv.URL+"/admin/rooms", strings.NewReader(`name=r`))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(apiKey, apiSecret)
	res, err := c.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("form body: %d", res.StatusCode)
	}
	// Nothing was created by any of it.
	if r := c.expect("GET", "/admin/rooms", "", http.StatusOK); len(r.body["rooms"].([]any)) != 0 {
		t.Fatalf("bad requests created rooms: %s", r.raw)
	}
}

func testRouting(t *testing.T, ns newStore) {
	c := start(t, ns(t))
	r := c.expectError("PUT", "/admin/rooms", `{}`, http.StatusMethodNotAllowed, "method_not_allowed")
	if r.header.Get("Allow") != "GET, POST" {
		t.Fatalf("Allow = %q", r.header.Get("Allow"))
	}
	c.expectError("POST", "/admin/rooms/r", `{}`, http.StatusMethodNotAllowed, "method_not_allowed")
	c.expectError("DELETE", "/admin/rooms/r/roster", ``, http.StatusMethodNotAllowed, "method_not_allowed")
	c.expectError("GET", "/admin/rooms/r/roster/x", ``, http.StatusMethodNotAllowed, "method_not_allowed")
	c.expectError("POST", "/admin/rooms/r/session", `{}`, http.StatusMethodNotAllowed, "method_not_allowed")
	c.expectError("GET", "/admin/", "", http.StatusNotFound, "not_found")
	c.expectError("GET", "/admin/users", "", http.StatusNotFound, "not_found")
	c.expectError("GET", "/admin/rooms/r/other", "", http.StatusNotFound, "not_found")
	c.expectError("GET", "/admin/rooms/r/roster/x/y", "", http.StatusNotFound, "not_found")
	c.expectError("GET", "/admin/rooms/bad%20name", "", http.StatusBadRequest, "bad_request")
	c.expect("GET", "/admin/rooms/", "", http.StatusOK) // trailing slash tolerated
}

func testSession(t *testing.T, ns newStore) {
	store := ns(t)
	c := start(t, store)
	r := c.expect("GET", "/admin/rooms/live/session", "", http.StatusOK)
	if r.body["locked"] != false || len(r.body["participants"].([]any)) != 0 {
		t.Fatalf("empty session = %s", r.raw)
	}
	_, err := store.AddPresence(context.Background(), room.Participant{ID: "p_1", Room: "live", Identity: "ann", Name: "Ann",
		Role: room.RoleMember, Node: "n1", State: room.StateWaiting, Reason: room.WaitKnock, JoinedAt: time.Now()}, 0)
	if err != nil {
		t.Fatal(err)
	}
	r = c.expect("GET", "/admin/rooms/live/session", "", http.StatusOK)
	ps := r.body["participants"].([]any)
	if len(ps) != 1 || ps[0].(map[string]any)["state"] != "waiting" || ps[0].(map[string]any)["identity"] != "ann" {
		t.Fatalf("session = %s", r.raw)
	}
}

func testUnavailable(t *testing.T, ns newStore) {
	store := ns(t)
	c := start(t, store)
	_ = store.Close()
	c.expectError("GET", "/admin/rooms", "", http.StatusServiceUnavailable, "unavailable")
	c.expectError("POST", "/admin/rooms", `{"name":"r","kind":"open"}`, http.StatusServiceUnavailable, "unavailable")
}

func testPrefixOption(t *testing.T, ns newStore) {
	h := admin.NewHandler(admin.Config{Store: ns(t), APIKey: apiKey, APISecret: apiSecret, Prefix: "/ops/",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/ops/rooms", nil)
	req.SetBasicAuth(apiKey, apiSecret)
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /ops/rooms = %d %s", rec.Code, rec.Body)
	}
}
