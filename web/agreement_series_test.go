package web_test

// The group agreement across the sessions of a series, through the real
// server: asked again at the next session where the room says so, not
// where it asks once per series.

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/testutil/browser"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/room"
)

const (
	seriesAPIKey    = "series-key"
	seriesAPISecret = "series-secret-0123456789abcdef"
)

// adminPatch changes a room through the admin API.
func adminPatch(t *testing.T, srv *hearthtest.Server, name string, body map[string]any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPatch, srv.URL+"/admin/rooms/"+name, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(seriesAPIKey, seriesAPISecret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e any
		_ = json.NewDecoder(resp.Body).Decode(&e)
		t.Fatalf("PATCH %s %s: %s %v", name, b, resp.Status, e)
	}
}

// weekly is a weekly schedule of four one-hour sessions, the first at
// first (UTC).
func weekly(first time.Time) map[string]any {
	return map[string]any{"firstDate": first.Format("2006-01-02"), "startTime": first.Format("15:04"),
		"minutes": 60, "repeat": "weekly", "sessions": 4, "timeZone": "UTC"}
}

// TestAgreementEverySession: in a weekly group that asks for the agreement
// at every session, Ann and Ben accept it in session 1 and enter. When the
// next session comes (the schedule is moved through the admin API so that
// one starts after their acceptances), Ann is asked again; once the room
// asks once per series, Ben enters without being asked.
func TestAgreementEverySession(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{APIKey: seriesAPIKey, APISecret: seriesAPISecret})
	const name = "monday-weekly"
	store := srv.App.Store()
	first := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Minute)
	sched := weekly(first)
	if _, err := store.CreateRoom(t.Context(), room.RoomConfig{
		Name: name, Kind: room.KindOpen, Capacity: 8,
		Schedule: &room.Schedule{FirstDate: sched["firstDate"].(string), StartTime: sched["startTime"].(string),
			Minutes: 60, Repeat: room.RepeatWeekly, Sessions: 4, TimeZone: "UTC"},
		Agreement: &room.Agreement{Text: agreementText, Every: room.AcceptEverySession},
	}); err != nil {
		t.Fatal(err)
	}
	tokens := map[string]string{
		"Ann": issueToken(t, name, "ann", "Ann", room.RoleMember),
		"Ben": issueToken(t, name, "ben", "Ben", room.RoleMember),
	}
	visit := func(b *browser.Browser, who string) {
		t.Helper()
		// A new page: the same address but for its fragment would not load.
		if err := b.Navigate(t.Context(), "about:blank"); err != nil {
			t.Fatal(err)
		}
		if err := b.Navigate(t.Context(), srv.URL+"/r/"+name+"#token="+tokens[who]); err != nil {
			t.Fatal(err)
		}
		wait(t, b, `document.body.dataset.ready === "true"`)
		click(t, b, "#join-button")
	}
	leave := func(b *browser.Browser) {
		t.Helper()
		click(t, b, "#leave-button")
		waitLong(t, b, `hearth.screen === "ended"`)
	}

	// Session 1: both are asked, accept and enter.
	ann, ben := browser.New(t, browser.Phone), browser.New(t, browser.Desktop)
	for who, b := range map[string]*browser.Browser{"Ann": ann, "Ben": ben} {
		visit(b, who)
		waitLong(t, b, `hearth.screen === "agreement"`)
		click(t, b, "#agreement-accept")
		waitLong(t, b, `hearth.screen === "call"`)
		leave(b)
	}

	// The next session: it starts half an hour after the first whole minute
	// after both acceptances, so its door (FacilitatorLead before the
	// start) opens once they were made; session 1 moves a week earlier.
	accs, err := store.Acceptances(t.Context(), name, time.Time{}, time.Now().Add(time.Hour))
	if err != nil || len(accs) != 2 {
		t.Fatalf("acceptances %v, %v", accs, err)
	}
	last := accs[0].At
	for _, a := range accs[1:] {
		if a.At.After(last) {
			last = a.At
		}
	}
	opens := last.UTC().Truncate(time.Minute).Add(time.Minute)
	second := opens.Add(room.FacilitatorLead)
	adminPatch(t, srv, name, map[string]any{"schedule": weekly(second.AddDate(0, 0, -7))})
	// The session under way changes when the clock reaches its door.
	time.Sleep(time.Until(opens))

	visit(ann, "Ann")
	waitLong(t, ann, `hearth.screen === "agreement"`)
	if !eval[bool](t, ann, `hearth.pc === null && !hearth.received.joined`) {
		t.Error("Ann entered the next session without being asked again")
	}
	shot(t, ann, "agreement-again-phone")

	// Once per series: Ben's acceptance in session 1 still lets him in.
	adminPatch(t, srv, name, map[string]any{"agreement": map[string]any{"text": agreementText, "every": "series"}})
	visit(ben, "Ben")
	waitLong(t, ben, `hearth.screen === "call"`)
	if n := eval[int](t, ben, `hearth.received.agreement || 0`); n != 0 {
		t.Errorf("once per series, Ben was asked %d times in the next session", n)
	}
	for _, b := range []*browser.Browser{ann, ben} {
		checkClean(t, b)
	}
}
