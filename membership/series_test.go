package membership_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/testutil/redistest"
	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/membership/redisstore"
	"github.com/hearth-rtc/hearth/room"
)

// Groups over weeks at the door: a closed cohort's window, attendance as
// Join, Admit, Leave and Remove record it, and the group agreement; each
// on the memory store and on a real redis-server.

// onStores runs fn against a memory store and a Redis store.
func onStores(t *testing.T, fn func(t *testing.T, store membership.Store)) {
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		s := membership.NewMemStore(membership.MemStoreOptions{TTL: time.Minute})
		t.Cleanup(func() { _ = s.Close() })
		fn(t, s)
	})
	srv := redistest.Start(t)
	var n atomic.Int64
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		s, err := redisstore.New(redisstore.Options{URL: srv.URL(), Prefix: fmt.Sprintf("series%d:", n.Add(1)), TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		fn(t, s)
	})
}

// clock is a settable clock for the service (the stores keep their own
// for presence and retention).
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// cohortCase is a closed cohort meeting weekly at 19:00 UTC for 90
// minutes, from a few days ahead (so that its records are well within any
// store's retention), with a service on a settable clock.
type cohortCase struct {
	t     *testing.T
	ctx   context.Context
	store membership.Store
	svc   *membership.Service
	clk   *clock
	cfg   room.RoomConfig
	first time.Time // session 1's start
}

func newCohort(t *testing.T, store membership.Store, edit func(*room.RoomConfig)) *cohortCase {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	d := time.Now().UTC().AddDate(0, 0, 3)
	first := time.Date(d.Year(), d.Month(), d.Day(), 19, 0, 0, 0, time.UTC)
	cfg := room.RoomConfig{Name: "cohort", Kind: room.KindClosed, Capacity: 8,
		Roster: []room.RosterEntry{
			{Identity: "dr-lee", Name: "Dr Lee", Role: room.RoleFacilitator},
			{Identity: "rae", Name: "Rae", Role: room.RoleMember},
			{Identity: "kim", Name: "Kim", Role: room.RoleMember},
			{Identity: "obs", Name: "Obs", Role: room.RoleObserver},
		},
		Schedule: &room.Schedule{FirstDate: first.Format("2006-01-02"), StartTime: "19:00", Minutes: 90,
			Repeat: room.RepeatWeekly, Sessions: 6, TimeZone: "UTC"}}
	if edit != nil {
		edit(&cfg)
	}
	created, err := store.CreateRoom(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: first.Add(-time.Hour)}
	svc, err := membership.NewService(membership.ServiceConfig{Store: store, Secret: testSecret, NodeID: "node-a",
		Now: clk.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return &cohortCase{t: t, ctx: ctx, store: store, svc: svc, clk: clk, cfg: created, first: first}
}

func (c *cohortCase) at(d time.Duration) { c.clk.Set(c.first.Add(d)) }

func (c *cohortCase) req(identity string, role room.Role) membership.JoinRequest {
	c.t.Helper()
	tok, err := room.IssueToken(testSecret, room.TokenParams{Room: c.cfg.Name, Identity: identity, Name: "Name " + identity,
		Role: role, TTL: 24 * time.Hour, Now: c.clk.Now()})
	if err != nil {
		c.t.Fatal(err)
	}
	return membership.JoinRequest{Room: c.cfg.Name, Token: tok}
}

func (c *cohortCase) join(identity string, role room.Role, want membership.JoinStatus) membership.JoinResult {
	c.t.Helper()
	res, err := c.svc.Join(c.ctx, c.req(identity, role))
	if err != nil || res.Status != want {
		c.t.Fatalf("%s joins at %v: %+v %v, want %s", identity, c.clk.Now(), res.Status, err, want)
	}
	return res
}

// refusedOutside checks an outside_session refusal and returns its sentence.
func (c *cohortCase) refusedOutside(identity string, role room.Role) string {
	c.t.Helper()
	_, err := c.svc.Join(c.ctx, c.req(identity, role))
	var re *room.RefusedError
	if !errors.As(err, &re) || re.Code != room.CodeOutsideSession || room.ErrorCode(err) != room.CodeOutsideSession {
		c.t.Fatalf("%s joins at %v: %v, want outside_session", identity, c.clk.Now(), err)
	}
	return re.Message
}

// TestCohortDoor: a closed cohort's invitation works from 15 minutes
// before each session (30 for facilitators) to its end; otherwise Join
// refuses with outside_session and a sentence saying when the next
// session is, and takes no seat. Someone already seated keeps their seat
// at the end, and a second window of theirs still takes it over.
func TestCohortDoor(t *testing.T) {
	onStores(t, func(t *testing.T, store membership.Store) {
		c := newCohort(t, store, nil)
		next := func(s time.Time) string { // as said at the clock's time
			layout := "Monday 2 January"
			if s.Year() != c.clk.Now().Year() {
				layout += " 2006"
			}
			return fmt.Sprintf("The next session is on %s at 19:00 (UTC).", s.Format(layout))
		}
		c.at(-16 * time.Minute)
		if msg := c.refusedOutside("rae", room.RoleMember); msg != next(c.first) {
			t.Errorf("refusal says %q, want %q", msg, next(c.first))
		}
		c.at(-31 * time.Minute)
		c.refusedOutside("dr-lee", room.RoleFacilitator)
		c.at(-30 * time.Minute)
		fac := c.join("dr-lee", room.RoleFacilitator, membership.JoinAdmitted)
		c.at(-15 * time.Minute)
		rae := c.join("rae", room.RoleMember, membership.JoinAdmitted)
		if sess, _ := c.svc.Session(c.ctx, "cohort"); len(sess.Seated()) != 2 {
			t.Fatalf("seated: %+v", sess.Seated())
		}

		c.at(90 * time.Minute) // the end
		if msg, week2 := c.refusedOutside("kim", room.RoleMember), c.first.AddDate(0, 0, 7); msg != next(week2) {
			t.Errorf("after the end: %q, want %q", msg, next(week2))
		}
		c.refusedOutside("obs", room.RoleObserver)
		// Those seated stay; a second window of Rae's takes her seat over.
		again := c.join("rae", room.RoleMember, membership.JoinAdmitted)
		if !again.TakeOver || again.Participant.ID != rae.Participant.ID {
			t.Fatalf("second window after the end: %+v", again)
		}
		sess, _ := c.svc.Session(c.ctx, "cohort")
		if len(sess.Participants) != 2 || sess.Participants[0].ID != fac.Participant.ID {
			t.Fatalf("after the end, the session holds %+v", sess.Participants)
		}
		// A stranger hears nothing of the schedule.
		_, err := c.svc.Join(c.ctx, c.req("stranger", room.RoleMember))
		if room.ErrorCode(err) != room.CodeNotOnRoster {
			t.Fatalf("stranger: %v", err)
		}
		// The last session over, the door says so.
		c.at(5*7*24*time.Hour + 90*time.Minute)
		if msg := c.refusedOutside("kim", room.RoleMember); msg != "This group's sessions have ended." {
			t.Fatalf("after the series: %q", msg)
		}
	})
}

// TestAttendanceAtTheDoor: Join (seated on arrival), Admit (from the
// waiting room, at admission), Leave and Remove record attendance; a new
// seat after a dropped connection is merged into the same person's row;
// rooms without a stored configuration keep nothing.
func TestAttendanceAtTheDoor(t *testing.T) {
	onStores(t, func(t *testing.T, store membership.Store) {
		c := newCohort(t, store, nil)
		c.at(-10 * time.Minute)
		waiting := c.join("rae", room.RoleMember, membership.JoinWaiting)
		c.at(-5 * time.Minute)
		c.join("dr-lee", room.RoleFacilitator, membership.JoinAdmitted)
		c.at(0)
		if _, err := c.svc.Admit(c.ctx, "cohort", waiting.Participant.ID); err != nil {
			t.Fatal(err)
		}
		c.at(2 * time.Minute)
		kim := c.join("kim", room.RoleMember, membership.JoinAdmitted)
		c.at(30 * time.Minute) // Rae's connection drops for good
		if err := c.svc.Leave(c.ctx, "cohort", waiting.Participant.ID); err != nil {
			t.Fatal(err)
		}
		c.at(40 * time.Minute) // and she comes back on a new seat
		c.join("rae", room.RoleMember, membership.JoinAdmitted)
		c.at(60 * time.Minute)
		if _, err := c.svc.Remove(c.ctx, "cohort", kim.Participant.ID, false); err != nil {
			t.Fatal(err)
		}
		c.at(61 * time.Minute)
		if err := c.svc.Leave(c.ctx, "cohort", kim.Participant.ID); err != nil { // the removed connection closes
			t.Fatal(err)
		}
		c.at(80 * time.Minute)

		list, err := c.svc.Attendance(c.ctx, "cohort")
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].Number != 1 {
			t.Fatalf("sessions: %+v", list)
		}
		rows := map[string]room.AttendanceRow{}
		for _, r := range list[0].Rows {
			rows[r.Identity] = r
		}
		check := func(id string, attended, present bool, minutes, stays int) {
			t.Helper()
			r := rows[id]
			if r.Attended != attended || r.Present != present || r.Minutes != minutes || len(r.Stays) != stays {
				t.Errorf("%s: attended %v present %v minutes %d stays %d; want %v %v %d %d", id, r.Attended, r.Present,
					r.Minutes, len(r.Stays), attended, present, minutes, stays)
			}
		}
		check("dr-lee", true, true, 85, 1)
		check("rae", true, true, 70, 2) // 30 from admission, then 40 on her new seat
		check("kim", true, false, 58, 1)
		check("obs", false, false, 0, 0)
		if r := rows["rae"]; !r.FirstJoined.Equal(c.first) || !r.Stays[0].LeftAt.Equal(c.first.Add(30*time.Minute)) {
			t.Errorf("rae's stays: %+v", r.Stays)
		}
		if r := rows["kim"]; !r.LastLeft.Equal(c.first.Add(60 * time.Minute)) {
			t.Errorf("kim left at %v, want at her removal", r.LastLeft)
		}
		// Taking a seat over is the same stay.
		if again := c.join("dr-lee", room.RoleFacilitator, membership.JoinAdmitted); !again.TakeOver {
			t.Fatalf("second window: %+v", again)
		}
		if recs, _ := store.Attendance(c.ctx, "cohort", time.Time{}, c.first.AddDate(0, 0, 1)); len(recs) != 4 {
			t.Fatalf("%d records, want 4: %+v", len(recs), recs)
		}

		// Seats in a room nobody configured leave no trace.
		if _, err := c.svc.Join(c.ctx, membership.JoinRequest{Room: "drop-in", Name: "Sam"}); err != nil {
			t.Fatal(err)
		}
		recs, err := store.Attendance(c.ctx, "drop-in", time.Time{}, time.Now().AddDate(1, 0, 0))
		if err != nil || len(recs) != 0 {
			t.Fatalf("drop-in room kept %+v (%v)", recs, err)
		}
		if err := c.svc.RecordJoined(c.ctx, room.Participant{ID: "p_x", Room: "drop-in", Identity: "x", Role: room.RoleMember}, time.Now()); err != nil {
			t.Fatalf("RecordJoined in a drop-in room: %v", err)
		}
		if _, err := c.svc.Attendance(c.ctx, "drop-in"); !errors.Is(err, room.ErrNotFound) {
			t.Fatalf("attendance of a drop-in room: %v", err)
		}
	})
}

// TestAgreementAcceptance: a person accepts the current text; in an
// every-session room the acceptance lasts for its session only; a changed
// text must be accepted again; the facilitator sees who has accepted.
func TestAgreementAcceptance(t *testing.T) {
	onStores(t, func(t *testing.T, store membership.Store) {
		c := newCohort(t, store, func(cfg *room.RoomConfig) {
			cfg.Agreement = &room.Agreement{Text: "What is said here stays here.", Contact: "Call 01632 960123.",
				Every: room.AcceptEverySession}
		})
		c.at(-10 * time.Minute)
		st, err := c.svc.AgreementStatus(c.ctx, "cohort", "rae")
		if err != nil || st.Accepted || st.Agreement == nil || st.Agreement.Contact != "Call 01632 960123." || st.Version != c.cfg.Agreement.Version() {
			t.Fatalf("before accepting: %+v %v", st, err)
		}
		acc, err := c.svc.AcceptAgreement(c.ctx, "cohort", "rae")
		if err != nil || !acc.At.Equal(c.clk.Now()) || acc.Version != st.Version {
			t.Fatalf("accept: %+v %v", acc, err)
		}
		c.at(80 * time.Minute)
		st, err = c.svc.AgreementStatus(c.ctx, "cohort", "rae")
		if err != nil || !st.Accepted || !st.AcceptedAt.Equal(c.first.Add(-10*time.Minute)) {
			t.Fatalf("later in the session: %+v %v", st, err)
		}
		who, err := c.svc.Accepted(c.ctx, "cohort")
		if err != nil || len(who) != 1 || who["rae"].Identity != "rae" {
			t.Fatalf("who has accepted: %+v %v", who, err)
		}
		// The attendance shows the acceptance.
		list, err := c.svc.Attendance(c.ctx, "cohort")
		if err != nil || len(list) != 1 {
			t.Fatalf("attendance: %+v %v", list, err)
		}
		for _, r := range list[0].Rows {
			if (r.Identity == "rae") != !r.AgreementAcceptedAt.IsZero() {
				t.Errorf("%s: accepted at %v", r.Identity, r.AgreementAcceptedAt)
			}
		}
		// Next week, again.
		c.at(7*24*time.Hour - 20*time.Minute)
		if st, _ := c.svc.AgreementStatus(c.ctx, "cohort", "rae"); st.Accepted {
			t.Fatal("an every-session acceptance lasted into the next session")
		}
		if _, err := c.svc.AcceptAgreement(c.ctx, "cohort", "rae"); err != nil {
			t.Fatal(err)
		}
		if st, _ := c.svc.AgreementStatus(c.ctx, "cohort", "rae"); !st.Accepted {
			t.Fatal("not accepted after accepting")
		}
		// A changed text must be accepted again.
		if _, err := store.UpdateRoom(c.ctx, "cohort", func(cfg *room.RoomConfig) error {
			cfg.Agreement.Text += " No recording."
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if st, _ := c.svc.AgreementStatus(c.ctx, "cohort", "rae"); st.Accepted {
			t.Fatal("an acceptance of the old text counts for the new one")
		}
		// A room without an agreement: nothing to accept.
		if st, err := c.svc.AgreementStatus(c.ctx, "drop-in", "rae"); err != nil || !st.Accepted || st.Agreement != nil {
			t.Fatalf("room without agreement: %+v %v", st, err)
		}
		if _, err := c.svc.AcceptAgreement(c.ctx, "drop-in", "rae"); room.ErrorCode(err) != room.CodeBadRequest {
			t.Fatalf("accepting no agreement: %v", err)
		}
		if _, err := c.svc.AcceptAgreement(c.ctx, "cohort", "has space"); room.ErrorCode(err) != room.CodeBadRequest {
			t.Fatalf("accepting as a bad identity: %v", err)
		}
	})
}
