package admin_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/admin"
	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/room"
)

// A cohort for these tests meets weekly at 19:00 UTC for 90 minutes, six
// times, from about two weeks ago (so its records are within retention);
// the API's clock stands in its second session, an hour in.
func cohortTimes() (first, now time.Time) {
	d := time.Now().UTC().AddDate(0, 0, -14)
	first = time.Date(d.Year(), d.Month(), d.Day(), 19, 0, 0, 0, time.UTC)
	return first, first.AddDate(0, 0, 7).Add(time.Hour)
}

func startAt(t *testing.T, store membership.Store, now time.Time) *client {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/admin/", admin.NewHandler(admin.Config{Store: store, APIKey: apiKey, APISecret: apiSecret,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxBodyBytes: 64 << 10, Now: func() time.Time { return now }}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &client{t: t, srv: srv, user: apiKey, pass: apiSecret}
}

func cohortBody(first time.Time) string {
	return fmt.Sprintf(`{"name":"cohort","kind":"closed","capacity":8,
		"roster":[{"identity":"dr-lee","name":"Dr Lee","role":"facilitator"},{"identity":"rae","name":"Rae","role":"member"},
		          {"identity":"kim","name":"Kim","role":"member"}],
		"schedule":{"firstDate":%q,"startTime":"19:00","minutes":90,"repeat":"weekly","sessions":6,"timeZone":"UTC"},
		"agreement":{"text":"What is said here stays here.","contact":"Call 01632 960123."}}`, first.Format("2006-01-02"))
}

// testSeries: the schedule and the group agreement are set, shown, changed
// and removed with the room; bad ones are refused plainly; once the first
// session is over the roster is closed, and adding to it needs
// "overrideBy", which is recorded with the time.
func testSeries(t *testing.T, ns newStore) {
	store := ns(t)
	first, now := cohortTimes()
	c := startAt(t, store, now)
	r := c.expect("POST", "/admin/rooms", cohortBody(first), http.StatusCreated)
	sched, _ := r.body["schedule"].(map[string]any)
	agr, _ := r.body["agreement"].(map[string]any)
	next, _ := r.body["nextSession"].(map[string]any)
	if sched["timeZone"] != "UTC" || sched["sessions"] != 6.0 || agr["every"] != "series" || r.body["agreementVersion"] == "" ||
		r.body["rosterClosed"] != true || next["number"] != 2.0 {
		t.Fatalf("created = %s", r.raw)
	}
	cfg, err := store.GetRoom(context.Background(), "cohort")
	if err != nil || cfg.Schedule == nil || cfg.Schedule.FirstDate != first.Format("2006-01-02") || cfg.Agreement == nil {
		t.Fatalf("stored %+v, %v", cfg, err)
	}

	// Refused: bad schedules and agreements, unknown fields in them.
	for _, body := range []string{
		`{"schedule":{"firstDate":"soon","startTime":"19:00","minutes":90,"timeZone":"UTC"}}`,
		`{"schedule":{"firstDate":"2026-12-03","startTime":"19:00","minutes":90,"timeZone":"Local"}}`,
		`{"schedule":{"firstDate":"2026-12-03","startTime":"19:00","minutes":90,"timeZone":"UTC","weekday":"Thu"}}`,
		`{"schedule":"weekly"}`,
		`{"agreement":{"text":""}}`,
		`{"agreement":{"text":"ok","every":"always"}}`,
		`{"schedule":null,"agreement":{"text":"ok","every":"session"}}`,
	} {
		c.expectError("PATCH", "/admin/rooms/cohort", body, http.StatusBadRequest, "bad_request")
	}
	if got, _ := store.GetRoom(context.Background(), "cohort"); got.Schedule == nil || got.Agreement == nil {
		t.Fatal("a refused PATCH changed the room")
	}

	// The roster is closed: additions need an override; removals do not.
	c.expectError("PUT", "/admin/rooms/cohort/roster/sam", `{"name":"Sam","role":"member"}`, http.StatusConflict, "roster_closed")
	c.expectError("PATCH", "/admin/rooms/cohort", `{"roster":[{"identity":"dr-lee","role":"facilitator"},{"identity":"sam","role":"member"}]}`,
		http.StatusConflict, "roster_closed")
	c.expectError("PUT", "/admin/rooms/cohort/roster", `{"roster":[{"identity":"sam","role":"member"}]}`, http.StatusConflict, "roster_closed")
	c.expectError("PUT", "/admin/rooms/cohort/roster/sam", `{"role":"member","overrideBy":"\u202eevil"}`, http.StatusBadRequest, "bad_request")
	c.expect("PUT", "/admin/rooms/cohort/roster/kim", `{"name":"Kim","role":"observer"}`, http.StatusOK) // a role change
	c.expect("PUT", "/admin/rooms/cohort/roster/sam", `{"name":"Sam","role":"member","overrideBy":"Dr Lee"}`, http.StatusCreated)
	c.expect("PUT", "/admin/rooms/cohort/roster", `{"roster":[{"identity":"dr-lee","role":"facilitator"},{"identity":"sam","role":"member"},
		{"identity":"ash","role":"member"}],"overrideBy":"Dr Lee"}`, http.StatusOK)
	r = c.expect("GET", "/admin/rooms/cohort", "", http.StatusOK)
	ovr, _ := r.body["rosterOverrides"].([]any)
	if len(ovr) != 2 {
		t.Fatalf("overrides = %s", r.raw)
	}
	o := ovr[1].(map[string]any)
	if o["identity"] != "ash" || o["by"] != "Dr Lee" || o["at"] != now.Format(time.RFC3339) {
		t.Fatalf("override recorded as %v, want ash by Dr Lee at %s", o, now.Format(time.RFC3339))
	}

	// Changed and removed.
	r = c.expect("PATCH", "/admin/rooms/cohort", `{"agreement":{"text":"New text.","every":"session"}}`, http.StatusOK)
	if agr := r.body["agreement"].(map[string]any); agr["every"] != "session" || agr["contact"] != nil {
		t.Fatalf("agreement replaced as %s", r.raw)
	}
	r = c.expect("PATCH", "/admin/rooms/cohort", `{"agreement":null,"schedule":null}`, http.StatusOK)
	if r.body["schedule"] != nil || r.body["agreement"] != nil || r.body["rosterClosed"] != false || r.body["nextSession"] != nil {
		t.Fatalf("removed = %s", r.raw)
	}
	// Without a schedule the roster is open again.
	c.expect("PUT", "/admin/rooms/cohort/roster/late", `{"role":"member"}`, http.StatusCreated)
}

// testAttendance: attendance by session, as JSON and as CSV, one session
// or all; names that a spreadsheet would run as formulas are made plain.
func testAttendance(t *testing.T, ns newStore) {
	store := ns(t)
	first, now := cohortTimes()
	c := startAt(t, store, now)
	c.expect("POST", "/admin/rooms", cohortBody(first), http.StatusCreated)
	ctx := context.Background()
	rec := func(id, identity, name string, role room.Role, joined, left time.Duration) {
		t.Helper()
		if err := store.RecordJoin(ctx, "cohort", room.PresenceRecord{ID: id, Identity: identity, Name: name, Role: role,
			JoinedAt: first.Add(joined)}); err != nil {
			t.Fatal(err)
		}
		if left != 0 {
			if err := store.RecordLeave(ctx, "cohort", id, first.Add(left)); err != nil {
				t.Fatal(err)
			}
		}
	}
	week := 7 * 24 * time.Hour
	rec("p_1", "dr-lee", "Dr Lee", room.RoleFacilitator, -20*time.Minute, 95*time.Minute)
	rec("p_2", "rae", "=HYPERLINK(\"x\")", room.RoleMember, -10*time.Minute, 90*time.Minute)
	rec("p_4", "anon-9", "=2+3", room.RoleMember, 0, 30*time.Minute)
	rec("p_3", "dr-lee", "Dr Lee", room.RoleFacilitator, week-25*time.Minute, 0)
	if _, err := store.AddPresence(ctx, room.Participant{ID: "p_3", Room: "cohort", Identity: "dr-lee", Name: "Dr Lee",
		Role: room.RoleFacilitator, Node: "n1", State: room.StateActive, JoinedAt: first.Add(week - 25*time.Minute)}, 0); err != nil {
		t.Fatal(err)
	}
	if err := store.RecordAcceptance(ctx, "cohort", room.Acceptance{Identity: "rae", Version: "v", At: first.Add(-11 * time.Minute)}); err != nil {
		t.Fatal(err)
	}

	r := c.expect("GET", "/admin/rooms/cohort/attendance", "", http.StatusOK)
	sessions, _ := r.body["sessions"].([]any)
	if r.body["room"] != "cohort" || r.body["timeZone"] != "UTC" || len(sessions) != 2 {
		t.Fatalf("attendance = %s", r.raw)
	}
	s1 := sessions[0].(map[string]any)
	rows := s1["rows"].([]any)
	if s1["number"] != 1.0 || s1["key"] != "1" || len(rows) != 4 {
		t.Fatalf("session 1 = %v", s1)
	}
	rae := rows[1].(map[string]any)
	if rae["identity"] != "rae" || rae["name"] != "Rae" || rae["attended"] != true || rae["minutes"] != 100.0 ||
		rae["agreementAcceptedAt"] != first.Add(-11*time.Minute).Format(time.RFC3339) {
		t.Fatalf("rae in session 1 = %v", rae)
	}
	if kim := rows[2].(map[string]any); kim["attended"] != false || kim["minutes"] != 0.0 {
		t.Fatalf("kim in session 1 = %v", kim)
	}
	r = c.expect("GET", "/admin/rooms/cohort/attendance?session=2", "", http.StatusOK)
	sessions, _ = r.body["sessions"].([]any)
	if len(sessions) != 1 {
		t.Fatalf("session 2 = %s", r.raw)
	}
	lee := sessions[0].(map[string]any)["rows"].([]any)[0].(map[string]any)
	if lee["present"] != true || lee["minutes"] != 85.0 {
		t.Fatalf("dr-lee, present in session 2 = %v", lee)
	}

	// CSV.
	res, raw := c.raw("GET", "/admin/rooms/cohort/attendance?format=csv")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(res.Header.Get("Content-Disposition"), `filename="cohort-attendance.csv"`) {
		t.Fatalf("CSV answer: %d %v", res.StatusCode, res.Header)
	}
	lines, err := csv.NewReader(strings.NewReader(raw)).ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse: %v\n%s", err, raw)
	}
	if len(lines) != 1+4+3 || strings.Join(lines[0], ",") != "session,session_start,identity,name,role,on_roster,attended,present,first_joined,last_left,minutes,stays,agreement_accepted_at" {
		t.Fatalf("CSV:\n%s", raw)
	}
	if l := lines[2]; l[0] != "1" || l[2] != "rae" || l[6] != "true" || l[10] != "100" || l[8] != first.Add(-10*time.Minute).Format(time.RFC3339) {
		t.Fatalf("rae's line: %v", l)
	}
	// A name chosen as a formula stays text.
	if l := lines[4]; l[2] != "anon-9" || l[3] != "'=2+3" || l[5] != "false" {
		t.Fatalf("a formula for a name: %v", l)
	}
	_, raw = c.raw("GET", "/admin/rooms/cohort/attendance?format=csv&session=1")
	if lines, _ := csv.NewReader(strings.NewReader(raw)).ReadAll(); len(lines) != 5 {
		t.Fatalf("CSV of session 1:\n%s", raw)
	}
	if got := admin.PlainForTest("=HYPERLINK(\"x\")"); got != "'=HYPERLINK(\"x\")" {
		t.Fatalf("plain = %q", got)
	}
	for _, s := range []string{"+1", "-1", "@SUM(A1)", "\tx", "\rx"} {
		if got := admin.PlainForTest(s); got != "'"+s {
			t.Errorf("plain(%q) = %q", s, got)
		}
	}
	if got := admin.PlainForTest("Rae"); got != "Rae" {
		t.Errorf("plain(Rae) = %q", got)
	}

	c.expectError("GET", "/admin/rooms/cohort/attendance?session=9", "", http.StatusNotFound, "not_found")
	c.expectError("GET", "/admin/rooms/cohort/attendance?session="+strings.Repeat("x", 500), "", http.StatusNotFound, "not_found")
	c.expectError("GET", "/admin/rooms/cohort/attendance?format=xml", "", http.StatusBadRequest, "bad_request")
	c.expectError("GET", "/admin/rooms/nobody/attendance", "", http.StatusNotFound, "not_found")
	c.expectError("POST", "/admin/rooms/cohort/attendance", "{}", http.StatusMethodNotAllowed, "method_not_allowed")
}

// raw does a GET and returns the answer and its body as text.
func (c *client) raw(method, path string) (*http.Response, string) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.srv.URL+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	req.SetBasicAuth(c.user, c.pass)
	res, err := c.srv.Client().Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}
