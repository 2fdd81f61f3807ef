package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/internal/testutil/redistest"
	"github.com/hearth-rtc/hearth/room"
)

// TestRoomCommand drives the admin API through "hearth room".
func TestRoomCommand(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{APIKey: "ops", APISecret: "ops-secret-0123456789"})
	ctx := context.Background()
	auth := []string{"-server", srv.URL, "-api-key", "ops", "-api-secret", "ops-secret-0123456789"}
	call := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(ctx, append(append([]string{"room"}, args...), auth...), &out, &errOut)
		return out.String() + errOut.String(), err
	}

	if out, err := call("create", "tuesday-anxiety", "-kind", "closed", "-capacity", "10", "-passcode", "calm-water",
		"-roster", "dr-lee:facilitator:Dr Lee,client-04:member:Rae"); err != nil {
		t.Fatalf("create: %v\n%s", err, out)
	}
	cfg, err := srv.App.Store().GetRoom(ctx, "tuesday-anxiety")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Kind != room.KindClosed || cfg.Capacity != 10 || len(cfg.Roster) != 2 || !cfg.CheckPasscode("calm-water") {
		t.Errorf("stored config %+v", cfg)
	}
	if e, ok := cfg.RosterEntry("dr-lee"); !ok || e.Role != room.RoleFacilitator || e.Name != "Dr Lee" {
		t.Errorf("roster entry %+v", e)
	}

	if out, err := call("update", "tuesday-anxiety", "-capacity", "12", "-knock=true"); err != nil {
		t.Fatalf("update: %v\n%s", err, out)
	}
	out, err := call("get", "tuesday-anxiety")
	if err != nil || !strings.Contains(out, `"capacity": 12`) || !strings.Contains(out, `"knock": true`) {
		t.Fatalf("get after update: %v\n%s", err, out)
	}
	if strings.Contains(out, "calm-water") || strings.Contains(out, "passcodeHash") {
		t.Error("the passcode leaks through the API")
	}
	if !strings.Contains(out, `"displayName": "Tuesday anxiety"`) || !strings.Contains(out, `"shareEnd": "stop"`) {
		t.Errorf("get: want the display name made from the name and shareEnd stop\n%s", out)
	}
	if out, err := call("update", "tuesday-anxiety", "-display-name", "Tuesday anxiety group", "-share-end", "finish"); err != nil ||
		!strings.Contains(out, `"displayName": "Tuesday anxiety group"`) || !strings.Contains(out, `"shareEnd": "finish"`) {
		t.Fatalf("update the display name and the share end: %v\n%s", err, out)
	}
	if out, err := call("update", "tuesday-anxiety", "-display-name", "-"); err != nil || !strings.Contains(out, `"displayName": "Tuesday anxiety"`) {
		t.Fatalf("restore the display name: %v\n%s", err, out)
	}
	if out, err := call("update", "tuesday-anxiety", "-share-end", "never"); err == nil || !strings.Contains(err.Error(), "bad_request") {
		t.Fatalf("a share end that is neither stop nor finish: %v\n%s", err, out)
	}
	if out, err := call("list"); err != nil || !strings.Contains(out, "tuesday-anxiety") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if out, err := call("delete", "tuesday-anxiety"); err != nil {
		t.Fatalf("delete: %v\n%s", err, out)
	}
	if _, err := call("get", "tuesday-anxiety"); err == nil || !strings.Contains(err.Error(), "not_found") {
		t.Errorf("get after delete: %v, want not_found", err)
	}

	// Wrong credentials are refused.
	var o, e bytes.Buffer
	err = run(ctx, []string{"room", "list", "-server", srv.URL, "-api-key", "ops", "-api-secret", "guess"}, &o, &e)
	if err == nil {
		t.Error("wrong API secret accepted")
	}
}

// TestRoomSeriesCommand drives a closed cohort through "hearth room" on a
// server keeping membership in a real redis-server: the schedule and the
// agreement are set and removed, the closed roster takes an addition only
// with -override-by, and attendance comes out as JSON and as CSV.
func TestRoomSeriesCommand(t *testing.T) {
	rds := redistest.Start(t)
	srv := hearthtest.Start(t, hearthtest.Options{APIKey: "ops", APISecret: "ops-secret-0123456789", RedisURL: rds.URL()})
	ctx := context.Background()
	auth := []string{"-server", srv.URL, "-api-key", "ops", "-api-secret", "ops-secret-0123456789"}
	call := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(ctx, append(append([]string{"room"}, args...), auth...), &out, &errOut)
		return out.String() + errOut.String(), err
	}
	d := time.Now().UTC().AddDate(0, 0, -14)
	first := time.Date(d.Year(), d.Month(), d.Day(), 19, 0, 0, 0, time.UTC)
	agreement := filepath.Join(t.TempDir(), "agreement.txt")
	if err := os.WriteFile(agreement, []byte("What is said here stays here.\nNo recording.\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	if out, err := call("create", "cohort", "-kind", "closed", "-roster", "dr-lee:facilitator:Dr Lee,rae:member:Rae,kim:member:Kim",
		"-schedule", "first="+first.Format("2006-01-02")+",start=19:00,minutes=90,repeat=weekly,sessions=10,tz=Europe/London,rota=rae;kim;-",
		"-peer-led", "members",
		"-agreement-file", agreement, "-agreement-every", "session", "-agreement-contact", "Call 01632 960123"); err != nil {
		t.Fatalf("create: %v\n%s", err, out)
	}
	cfg, err := srv.App.Store().GetRoom(ctx, "cohort")
	if err != nil {
		t.Fatal(err)
	}
	want := room.Schedule{FirstDate: first.Format("2006-01-02"), StartTime: "19:00", Minutes: 90, Repeat: room.RepeatWeekly,
		Sessions: 10, TimeZone: "Europe/London", Rota: []string{"rae", "kim", ""}}
	if cfg.Schedule == nil || !reflect.DeepEqual(*cfg.Schedule, want) || cfg.PeerLed != room.PeerLedMembers {
		t.Fatalf("stored schedule %+v, peerLed %q", cfg.Schedule, cfg.PeerLed)
	}
	if a := cfg.Agreement; a == nil || a.Text != "What is said here stays here.\nNo recording." || a.Every != room.AcceptEverySession ||
		a.Contact != "Call 01632 960123" {
		t.Fatalf("stored agreement %+v", cfg.Agreement)
	}
	if out, err := call("get", "cohort"); err != nil || !strings.Contains(out, `"rosterClosed": true`) {
		t.Fatalf("get: %v\n%s", err, out)
	}

	// The roster closed with the first session: an addition needs an override.
	roster := "dr-lee:facilitator:Dr Lee,rae:member:Rae,kim:member:Kim,sam:member:Sam"
	if out, err := call("update", "cohort", "-roster", roster); err == nil || !strings.Contains(err.Error(), "roster_closed") {
		t.Fatalf("addition without override: %v\n%s", err, out)
	}
	if out, err := call("update", "cohort", "-roster", roster, "-override-by", "Dr Lee"); err != nil {
		t.Fatalf("addition with override: %v\n%s", err, out)
	}
	cfg, _ = srv.App.Store().GetRoom(ctx, "cohort")
	if len(cfg.RosterOverrides) != 1 || cfg.RosterOverrides[0].Identity != "sam" || cfg.RosterOverrides[0].By != "Dr Lee" ||
		time.Since(cfg.RosterOverrides[0].At) > time.Hour {
		t.Fatalf("override recorded as %+v", cfg.RosterOverrides)
	}

	// Attendance of session 1: Dr Lee and Rae came, Kim did not.
	store := srv.App.Store()
	for _, r := range []room.PresenceRecord{
		{ID: "p_1", Identity: "dr-lee", Name: "Dr Lee", Role: room.RoleFacilitator, JoinedAt: first.Add(-20 * time.Minute)},
		{ID: "p_2", Identity: "rae", Name: "Rae", Role: room.RoleMember, JoinedAt: first.Add(-5 * time.Minute)},
	} {
		if err := store.RecordJoin(ctx, "cohort", r); err != nil {
			t.Fatal(err)
		}
		if err := store.RecordLeave(ctx, "cohort", r.ID, first.Add(90*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	out, err := call("attendance", "cohort", "-session", "1")
	if err != nil || !strings.Contains(out, `"timeZone": "Europe/London"`) || !strings.Contains(out, `"minutes": 95`) ||
		strings.Count(out, `"attended": false`) != 1 {
		t.Fatalf("attendance: %v\n%s", err, out)
	}
	out, err = call("attendance", "cohort", "--session", "1", "--csv")
	if err != nil {
		t.Fatalf("attendance as CSV: %v\n%s", err, out)
	}
	lines, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(lines) != 4 || lines[0][0] != "session" {
		t.Fatalf("CSV (%v):\n%s", err, out)
	}
	if l := lines[2]; l[2] != "rae" || l[6] != "true" || l[10] != "95" {
		t.Fatalf("rae's line %v", l)
	}
	if l := lines[3]; l[2] != "kim" || l[6] != "false" || l[10] != "0" {
		t.Fatalf("kim's line %v", l)
	}
	if _, err := call("attendance", "cohort", "-session", "99"); err == nil || !strings.Contains(err.Error(), "not_found") {
		t.Fatalf("attendance of a session that has not happened: %v", err)
	}

	// Removed, and bad flags said plainly before anything is sent.
	if out, err := call("update", "cohort", "-schedule", "-", "-agreement-file", "-"); err != nil {
		t.Fatalf("remove: %v\n%s", err, out)
	}
	cfg, _ = srv.App.Store().GetRoom(ctx, "cohort")
	if cfg.Schedule != nil || cfg.Agreement != nil {
		t.Fatalf("not removed: %+v", cfg)
	}
	for _, args := range [][]string{
		{"update", "cohort", "-schedule", "first=2026-12-03,day=thursday"},
		{"update", "cohort", "-schedule", "minutes=ninety"},
		{"update", "cohort", "-agreement-every", "session"},
		{"update", "cohort", "-agreement-file", filepath.Join(t.TempDir(), "missing.txt")},
	} {
		if _, err := call(args...); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	if _, err := call("update", "cohort", "-schedule", "first=2026-12-03,start=19:00,minutes=90,tz=Local"); err == nil ||
		!strings.Contains(err.Error(), "bad_request") {
		t.Errorf("a schedule in the server's local zone: %v", err)
	}
}

// TestAttendanceDaysFlag: a retention of no days, or of more than ten
// years, stops the server before it starts, naming the flag.
func TestAttendanceDaysFlag(t *testing.T) {
	for _, v := range []string{"0", "-1", "3651"} {
		err := serve(context.Background(), []string{"-listen", "127.0.0.1:0", "-udp-port", "0", "-attendance-days", v}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "-attendance-days") {
			t.Errorf("-attendance-days %s: %v; want an error naming the flag", v, err)
		}
	}
}
