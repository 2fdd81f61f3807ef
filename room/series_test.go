package room_test

import (
	"errors"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the same zones on every machine

	"github.com/hearth-rtc/hearth/room"
)

func mustSeries(t *testing.T, s room.Schedule) room.Series {
	t.Helper()
	x, err := s.Series()
	if err != nil {
		t.Fatalf("%+v: %v", s, err)
	}
	return x
}

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestScheduleSessions: the sessions of a series fall at the same wall-clock
// time across daylight-saving changes, last their length in real time, and
// take a start the clocks skip or pass twice as iCalendar does.
func TestScheduleSessions(t *testing.T) {
	london, ny := zone(t, "Europe/London"), zone(t, "America/New_York")
	cases := []struct {
		name  string
		sched room.Schedule
		n     int
		start time.Time // in the zone
		utc   string    // the same instant in UTC
	}{
		{"weekly before BST", room.Schedule{FirstDate: "2026-03-19", StartTime: "19:00", Minutes: 90, Repeat: room.RepeatWeekly, Sessions: 4, TimeZone: "Europe/London"},
			1, time.Date(2026, 3, 19, 19, 0, 0, 0, london), "2026-03-19T19:00:00Z"},
		{"weekly after BST starts", room.Schedule{FirstDate: "2026-03-19", StartTime: "19:00", Minutes: 90, Repeat: room.RepeatWeekly, Sessions: 4, TimeZone: "Europe/London"},
			2, time.Date(2026, 3, 26, 19, 0, 0, 0, london), "2026-03-26T19:00:00Z"},
		{"weekly after BST starts (2)", room.Schedule{FirstDate: "2026-03-19", StartTime: "19:00", Minutes: 90, Repeat: room.RepeatWeekly, Sessions: 4, TimeZone: "Europe/London"},
			3, time.Date(2026, 4, 2, 19, 0, 0, 0, london), "2026-04-02T18:00:00Z"},
		{"fortnightly across BST ending", room.Schedule{FirstDate: "2026-10-15", StartTime: "10:30", Minutes: 60, Repeat: room.RepeatFortnightly, Sessions: 3, TimeZone: "Europe/London"},
			2, time.Date(2026, 10, 29, 10, 30, 0, 0, london), "2026-10-29T10:30:00Z"},
		{"fortnightly before BST ends", room.Schedule{FirstDate: "2026-10-15", StartTime: "10:30", Minutes: 60, Repeat: room.RepeatFortnightly, Sessions: 3, TimeZone: "Europe/London"},
			1, time.Date(2026, 10, 15, 10, 30, 0, 0, london), "2026-10-15T09:30:00Z"},
		{"start skipped by the clocks (London)", room.Schedule{FirstDate: "2026-03-22", StartTime: "01:30", Minutes: 60, Repeat: room.RepeatWeekly, Sessions: 2, TimeZone: "Europe/London"},
			2, time.Date(2026, 3, 29, 2, 30, 0, 0, london), "2026-03-29T01:30:00Z"},
		{"start skipped by the clocks (New York)", room.Schedule{FirstDate: "2026-03-08", StartTime: "02:30", Minutes: 60, Sessions: 1, TimeZone: "America/New_York"},
			1, time.Date(2026, 3, 8, 3, 30, 0, 0, ny), "2026-03-08T07:30:00Z"},
		{"start passed twice: the first (London)", room.Schedule{FirstDate: "2026-10-25", StartTime: "01:30", Minutes: 60, Sessions: 1, TimeZone: "Europe/London"},
			1, time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC).In(london), "2026-10-25T00:30:00Z"},
		{"start passed twice: the first (New York)", room.Schedule{FirstDate: "2026-11-01", StartTime: "01:30", Minutes: 60, Sessions: 1, TimeZone: "America/New_York"},
			1, time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC).In(ny), "2026-11-01T05:30:00Z"},
		{"southern hemisphere", room.Schedule{FirstDate: "2026-03-29", StartTime: "18:00", Minutes: 60, Repeat: room.RepeatWeekly, Sessions: 2, TimeZone: "Australia/Sydney"},
			2, time.Date(2026, 4, 5, 18, 0, 0, 0, zone(t, "Australia/Sydney")), "2026-04-05T08:00:00Z"},
	}
	for _, c := range cases {
		x := mustSeries(t, c.sched)
		s, ok := x.Session(c.n)
		if !ok {
			t.Fatalf("%s: no session %d", c.name, c.n)
		}
		if !s.Start.Equal(c.start) || s.Start.UTC().Format(time.RFC3339) != c.utc {
			t.Errorf("%s: session %d starts %v (%s), want %v (%s)", c.name, c.n, s.Start, s.Start.UTC().Format(time.RFC3339), c.start, c.utc)
		}
		if got := s.End.Sub(s.Start); got != time.Duration(c.sched.Minutes)*time.Minute {
			t.Errorf("%s: session lasts %v", c.name, got)
		}
		if s.Start.Location().String() != c.sched.TimeZone {
			t.Errorf("%s: start given in %v", c.name, s.Start.Location())
		}
	}
	x := mustSeries(t, cases[0].sched)
	if _, ok := x.Session(0); ok {
		t.Error("session 0 exists")
	}
	if _, ok := x.Session(5); ok {
		t.Error("session 5 of 4 exists")
	}
}

// TestScheduleWindows: which session a time falls in, the door for members
// (15 minutes early) and facilitators (30 minutes early) to the end, and
// the next session, around a clock change.
func TestScheduleWindows(t *testing.T) {
	london := zone(t, "Europe/London")
	// Thursdays 19:00-20:30, 19 March to 9 April 2026; BST starts 29 March.
	x := mustSeries(t, room.Schedule{FirstDate: "2026-03-19", StartTime: "19:00", Minutes: 90, Repeat: room.RepeatWeekly, Sessions: 4, TimeZone: "Europe/London"})
	at := func(mo time.Month, d, hh, mm int) time.Time { return time.Date(2026, mo, d, hh, mm, 0, 0, london) }
	cases := []struct {
		t         time.Time
		member    bool // a member may enter
		fac       bool // a facilitator may enter
		session   int  // At(t, FacilitatorLead), 0 for none
		next      int  // Next(t), 0 for none
		sentence  string
		skipSaid  bool
		wantLeadM int // At(t, MemberLead) session, 0 for none
	}{
		{t: at(3, 12, 19, 0), next: 1, sentence: "The next session is on Thursday 19 March at 19:00 (Europe/London)."},
		{t: at(3, 19, 18, 29), next: 1, sentence: "The next session is on Thursday 19 March at 19:00 (Europe/London)."},
		{t: at(3, 19, 18, 30), fac: true, session: 1, next: 1, sentence: "The next session is on Thursday 19 March at 19:00 (Europe/London)."},
		{t: at(3, 19, 18, 44), fac: true, session: 1, next: 1},
		{t: at(3, 19, 18, 45), member: true, fac: true, session: 1, next: 1, wantLeadM: 1},
		{t: at(3, 19, 20, 29), member: true, fac: true, session: 1, next: 1, wantLeadM: 1},
		{t: at(3, 19, 20, 30), next: 2, sentence: "The next session is on Thursday 26 March at 19:00 (Europe/London)."},
		// After the clocks change, the window follows the wall clock.
		{t: at(4, 2, 18, 44), fac: true, session: 3, next: 3, sentence: "The next session is on Thursday 2 April at 19:00 (Europe/London)."},
		{t: at(4, 2, 18, 45), member: true, fac: true, session: 3, next: 3, wantLeadM: 3},
		{t: time.Date(2026, 4, 2, 17, 45, 0, 0, time.UTC), member: true, fac: true, session: 3, next: 3, wantLeadM: 3},
		{t: time.Date(2026, 4, 2, 19, 29, 0, 0, time.UTC), member: true, fac: true, session: 3, next: 3, wantLeadM: 3},
		{t: time.Date(2026, 4, 2, 19, 30, 0, 0, time.UTC), next: 4},
		{t: at(4, 9, 20, 30), sentence: "This group's sessions have ended."},
		{t: at(12, 31, 0, 0)},
	}
	for _, c := range cases {
		if got := x.Open(c.t, room.RoleMember); got != c.member {
			t.Errorf("%v: member may enter = %v", c.t, got)
		}
		if got := x.Open(c.t, room.RoleObserver); got != c.member {
			t.Errorf("%v: observer may enter = %v", c.t, got)
		}
		if got := x.Open(c.t, room.RoleFacilitator); got != c.fac {
			t.Errorf("%v: facilitator may enter = %v", c.t, got)
		}
		if got := x.Open(c.t, room.RoleCoFacilitator); got != c.fac {
			t.Errorf("%v: co-facilitator may enter = %v", c.t, got)
		}
		s, ok := x.At(c.t, room.FacilitatorLead)
		if ok != (c.session != 0) || s.Number != c.session {
			t.Errorf("%v: At = %d %v, want %d", c.t, s.Number, ok, c.session)
		}
		s, ok = x.At(c.t, room.MemberLead)
		if ok != (c.wantLeadM != 0) || s.Number != c.wantLeadM {
			t.Errorf("%v: At(member lead) = %d %v, want %d", c.t, s.Number, ok, c.wantLeadM)
		}
		s, ok = x.Next(c.t)
		if ok != (c.next != 0) || s.Number != c.next {
			t.Errorf("%v: Next = %d %v, want %d", c.t, s.Number, ok, c.next)
		}
		if c.sentence != "" {
			if got := x.NextSentence(c.t); got != c.sentence {
				t.Errorf("%v: %q, want %q", c.t, got, c.sentence)
			}
		}
	}
}

func TestNextSentenceNamesAnotherYear(t *testing.T) {
	x := mustSeries(t, room.Schedule{FirstDate: "2027-01-07", StartTime: "09:05", Minutes: 60, Repeat: room.RepeatWeekly, Sessions: 10, TimeZone: "Asia/Kolkata"})
	got := x.NextSentence(time.Date(2026, 12, 20, 12, 0, 0, 0, time.UTC))
	if want := "The next session is on Thursday 7 January 2027 at 09:05 (Asia/Kolkata)."; got != want {
		t.Fatalf("%q, want %q", got, want)
	}
	// A fortnightly series in its tenth session.
	f := mustSeries(t, room.Schedule{FirstDate: "2026-01-06", StartTime: "18:00", Minutes: 60, Repeat: room.RepeatFortnightly, Sessions: 12, TimeZone: "UTC"})
	s, ok := f.At(time.Date(2026, 5, 12, 18, 30, 0, 0, time.UTC), 0)
	if !ok || s.Number != 10 {
		t.Fatalf("At = %d %v, want 10", s.Number, ok)
	}
	if _, ok := f.At(time.Date(2026, 5, 5, 18, 30, 0, 0, time.UTC), room.FacilitatorLead); ok {
		t.Fatal("a fortnightly series meets in its off week")
	}
}

func TestScheduleValidate(t *testing.T) {
	ok := room.Schedule{FirstDate: "2026-12-03", StartTime: "19:00", Minutes: 90, Repeat: room.RepeatWeekly, Sessions: 10, TimeZone: "Europe/London"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	one := room.Schedule{FirstDate: "2026-12-03", StartTime: "00:00", Minutes: 1, TimeZone: "UTC"}
	if err := one.Validate(); err != nil {
		t.Fatalf("a single session with defaults: %v", err)
	}
	mut := func(f func(*room.Schedule)) room.Schedule { s := ok; f(&s); return s }
	bad := map[string]room.Schedule{
		"date":         mut(func(s *room.Schedule) { s.FirstDate = "3 Dec 2026" }),
		"no date":      mut(func(s *room.Schedule) { s.FirstDate = "" }),
		"feb 30":       mut(func(s *room.Schedule) { s.FirstDate = "2026-02-30" }),
		"time":         mut(func(s *room.Schedule) { s.StartTime = "7pm" }),
		"time 24":      mut(func(s *room.Schedule) { s.StartTime = "24:00" }),
		"time signed":  mut(func(s *room.Schedule) { s.StartTime = "+9:00" }),
		"time 60":      mut(func(s *room.Schedule) { s.StartTime = "19:60" }),
		"minutes 0":    mut(func(s *room.Schedule) { s.Minutes = 0 }),
		"minutes long": mut(func(s *room.Schedule) { s.Minutes = room.MaxSessionMinutes + 1 }),
		"repeat":       mut(func(s *room.Schedule) { s.Repeat = "daily" }),
		"sessions 0":   mut(func(s *room.Schedule) { s.Sessions = 0 }),
		"sessions big": mut(func(s *room.Schedule) { s.Sessions = room.MaxSessions + 1 }),
		"none with 3":  mut(func(s *room.Schedule) { s.Repeat = room.RepeatNone; s.Sessions = 3 }),
		"no zone":      mut(func(s *room.Schedule) { s.TimeZone = "" }),
		"Local":        mut(func(s *room.Schedule) { s.TimeZone = "Local" }),
		"unknown zone": mut(func(s *room.Schedule) { s.TimeZone = "Europe/Atlantis" }),
		"path zone":    mut(func(s *room.Schedule) { s.TimeZone = "../../etc/passwd" }),
		"abs zone":     mut(func(s *room.Schedule) { s.TimeZone = "/usr/share/zoneinfo/UTC" }),
		"long zone":    mut(func(s *room.Schedule) { s.TimeZone = "Europe/" + strings.Repeat("x", 80) }),
	}
	for what, s := range bad {
		err := s.Validate()
		if !errors.Is(err, room.ErrInvalid) {
			t.Errorf("%s: Validate = %v, want ErrInvalid", what, err)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "passwd") || strings.Contains(msg, "xxxx") || strings.Contains(msg, "time.") {
			t.Errorf("%s: the error echoes input or internals: %q", what, msg)
		}
	}
}

// FuzzSchedule: any schedule fields either fail with ErrInvalid or give a
// series whose sessions follow one another a whole number of days apart
// (give or take a clock change), each in its own window, with At and Next
// agreeing.
func FuzzSchedule(f *testing.F) {
	f.Add("2026-12-03", "19:00", 90, "weekly", 10, "Europe/London", int64(0))
	f.Add("2026-03-08", "02:30", 60, "none", 1, "America/New_York", int64(3600))
	f.Add("2026-10-25", "01:30", 720, "fortnightly", 520, "Australia/Lord_Howe", int64(-86400*30))
	f.Add("0001-01-01", "00:00", 1, "", 0, "UTC", int64(1<<40))
	f.Add("9999-12-31", "23:59", 5, "weekly", 3, "Local", int64(0))
	f.Fuzz(func(t *testing.T, date, start string, minutes int, repeat string, sessions int, tz string, offset int64) {
		s := room.Schedule{FirstDate: date, StartTime: start, Minutes: minutes, Repeat: room.Repeat(repeat), Sessions: sessions, TimeZone: tz}
		x, err := s.Series()
		if err != nil {
			if !errors.Is(err, room.ErrInvalid) {
				t.Fatalf("%+v: %v", s, err)
			}
			return
		}
		var prev room.SeriesSession
		for n := 1; n <= min(x.Len(), 30); n++ {
			cur, ok := x.Session(n)
			if !ok || cur.Number != n || cur.End.Sub(cur.Start) != time.Duration(minutes)*time.Minute {
				t.Fatalf("session %d: %+v %v", n, cur, ok)
			}
			if n > 1 && (!cur.Start.After(prev.End) || cur.Start.Sub(prev.Start) < 6*24*time.Hour) {
				t.Fatalf("session %d %v too close to %v", n, cur.Start, prev.Start)
			}
			if got, ok := x.At(cur.Start, 0); !ok || got.Number != n {
				t.Fatalf("At(start of %d) = %d %v", n, got.Number, ok)
			}
			if got, ok := x.Next(cur.Start.Add(-time.Minute)); !ok || got.Number != n {
				t.Fatalf("Next(before %d) = %d %v", n, got.Number, ok)
			}
			prev = cur
		}
		first, _ := x.Session(1)
		now := first.Start.Add(time.Duration(offset%(1<<40)) * time.Second)
		if sess, ok := x.At(now, room.FacilitatorLead); ok {
			if now.Before(sess.Start.Add(-room.FacilitatorLead)) || !now.Before(sess.End) {
				t.Fatalf("At(%v) = %+v", now, sess)
			}
		}
		if next, ok := x.Next(now); ok && !now.Before(next.End) {
			t.Fatalf("Next(%v) = %+v, already over", now, next)
		}
		_ = x.NextSentence(now)
	})
}
