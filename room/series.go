package room

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// A room may meet as a series: a first session, a repeat, a start time and
// length, a number of sessions and a time zone (Schedule). A closed room
// with a schedule is a closed cohort: its invitations work only around its
// sessions, and its roster closes once the first session has ended.

// Repeat says how often a series meets.
type Repeat string

const (
	RepeatNone        Repeat = "none"        // one session
	RepeatWeekly      Repeat = "weekly"      // every 7 days
	RepeatFortnightly Repeat = "fortnightly" // every 14 days
)

// Door windows and limits of a series.
const (
	// MemberLead is how long before a session's start members and observers
	// of a closed cohort may enter; they may enter until its end.
	MemberLead = 15 * time.Minute
	// FacilitatorLead is how long before the start facilitators and
	// co-facilitators may enter, to set the room up.
	FacilitatorLead = 30 * time.Minute
	// MaxSessions bounds a series (ten years of weekly sessions).
	MaxSessions = 520
	// MaxSessionMinutes bounds a session's length (12 hours).
	MaxSessionMinutes = 12 * 60
	maxTimeZoneLen    = 64
)

// Schedule is when a room meets. Dates and times are wall-clock times in
// TimeZone, so a weekly 19:00 session stays at 19:00 across daylight-saving
// changes. A start time the clocks skip that day (they go forward) is read
// with the offset before the change, so 02:30 becomes 03:30; one they pass
// twice (they go back) is the first of the two (as iCalendar does).
type Schedule struct {
	// FirstDate is the date of session 1, YYYY-MM-DD.
	FirstDate string `json:"firstDate"`
	// StartTime is each session's start, HH:MM (24-hour clock).
	StartTime string `json:"startTime"`
	// Minutes is each session's length.
	Minutes int    `json:"minutes"`
	Repeat  Repeat `json:"repeat"`
	// Sessions is how many sessions the series has; 1 when Repeat is none.
	Sessions int `json:"sessions"`
	// TimeZone is an IANA time zone name, such as Europe/London.
	TimeZone string `json:"timeZone"`
	// Rota, if set, names who facilitates each session, by identity, in
	// turn (peerled.go); "" is nobody's turn.
	Rota []string `json:"rota,omitempty"`
}

// normalize fills defaults: an empty Repeat is none, and a single session
// needs no count.
func (s *Schedule) normalize() {
	if s.Repeat == "" {
		s.Repeat = RepeatNone
	}
	if s.Repeat == RepeatNone && s.Sessions == 0 {
		s.Sessions = 1
	}
}

// Validate checks the schedule; errors wrap ErrInvalid.
func (s Schedule) Validate() error {
	if _, err := s.Series(); err != nil {
		return err
	}
	return validateRota(s.Rota)
}

// Series checks the schedule and returns it ready to answer questions
// about time. Errors wrap ErrInvalid.
func (s Schedule) Series() (Series, error) {
	s.normalize()
	first, err := time.ParseInLocation("2006-01-02", s.FirstDate, time.UTC)
	if err != nil {
		return Series{}, errf("schedule: firstDate must be a date like 2026-12-03")
	}
	hh, mm, ok := parseClock(s.StartTime)
	if !ok {
		return Series{}, errf("schedule: startTime must be a time like 19:00")
	}
	if s.Minutes < 1 || s.Minutes > MaxSessionMinutes {
		return Series{}, errf("schedule: minutes must be 1-%d", MaxSessionMinutes)
	}
	step := 0
	switch s.Repeat {
	case RepeatNone:
		if s.Sessions != 1 {
			return Series{}, errf("schedule: a schedule that does not repeat has 1 session")
		}
	case RepeatWeekly:
		step = 7
	case RepeatFortnightly:
		step = 14
	default:
		return Series{}, errf("schedule: repeat must be \"none\", \"weekly\" or \"fortnightly\"")
	}
	if s.Sessions < 1 || s.Sessions > MaxSessions {
		return Series{}, errf("schedule: sessions must be 1-%d", MaxSessions)
	}
	loc, err := loadZone(s.TimeZone)
	if err != nil {
		return Series{}, err
	}
	return Series{loc: loc, first: first, hh: hh, mm: mm, step: step, n: s.Sessions,
		length: time.Duration(s.Minutes) * time.Minute}, nil
}

// loadZone loads an IANA zone by name. "", "UTC" aside, only names of the
// form Area/Place are taken, so "Local" (whatever the server's zone is)
// and file paths are refused.
func loadZone(name string) (*time.Location, error) {
	bad := errf("schedule: timeZone must be an IANA time zone name such as Europe/London")
	if name == "UTC" {
		return time.UTC, nil
	}
	if name == "" || len(name) > maxTimeZoneLen || !strings.Contains(name, "/") ||
		strings.ContainsAny(name, " \\") || strings.Contains(name, "..") || name[0] == '/' {
		return nil, bad
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, bad
	}
	return loc, nil
}

// parseClock reads HH:MM.
func parseClock(s string) (hh, mm int, ok bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, 0, false
	}
	h, err1 := strconv.Atoi(s[:2])
	m, err2 := strconv.Atoi(s[3:])
	if err1 != nil || err2 != nil || h < 0 || h > 23 || m < 0 || m > 59 || s[0] == '+' || s[3] == '+' {
		return 0, 0, false
	}
	return h, m, true
}

// Series is a checked Schedule (see Schedule.Series). The zero Series has
// no sessions.
type Series struct {
	loc    *time.Location
	first  time.Time // the first date, at midnight UTC
	hh, mm int
	step   int // days between sessions; 0 for one session
	n      int
	length time.Duration
}

// SeriesSession is one session of a series: its number (from 1) and its
// start and end, in the series' time zone.
type SeriesSession struct {
	Number int       `json:"number"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
}

// Len is the number of sessions.
func (x Series) Len() int { return x.n }

// Location is the series' time zone.
func (x Series) Location() *time.Location { return x.loc }

// Session returns session n (1 to Len).
func (x Series) Session(n int) (SeriesSession, bool) {
	if n < 1 || n > x.n {
		return SeriesSession{}, false
	}
	d := x.first.AddDate(0, 0, (n-1)*x.step)
	start := wallClock(d.Year(), d.Month(), d.Day(), x.hh, x.mm, x.loc)
	return SeriesSession{Number: n, Start: start, End: start.Add(x.length)}, true
}

// around returns the session numbers that can be near t: the series steps
// by whole days, so at most a daylight-saving hour off the arithmetic.
func (x Series) around(t time.Time) (lo, hi int) {
	if x.n == 0 {
		return 1, 0
	}
	if x.step == 0 {
		return 1, 1
	}
	first, _ := x.Session(1)
	k := int(math.Floor(t.Sub(first.Start).Hours()/24/float64(x.step))) + 1
	k = min(max(k, 1), x.n)
	return max(1, k-1), min(x.n, k+2)
}

// At returns the session whose window, from lead before its start to its
// end, holds t.
func (x Series) At(t time.Time, lead time.Duration) (SeriesSession, bool) {
	lo, hi := x.around(t)
	for n := lo; n <= hi; n++ {
		s, _ := x.Session(n)
		if !t.Before(s.Start.Add(-lead)) && t.Before(s.End) {
			return s, true
		}
	}
	return SeriesSession{}, false
}

// Next returns the first session that has not ended at t (the one under
// way, or the next one); false once the series is over.
func (x Series) Next(t time.Time) (SeriesSession, bool) {
	lo, hi := x.around(t)
	for n := lo; n <= hi; n++ {
		if s, _ := x.Session(n); t.Before(s.End) {
			return s, true
		}
	}
	return SeriesSession{}, false
}

// Lead is how long before a session's start someone of role may enter a
// closed cohort.
func Lead(role Role) time.Duration {
	if role.IsFacilitator() {
		return FacilitatorLead
	}
	return MemberLead
}

// Open reports whether a closed cohort's door is open at t for role: from
// Lead(role) before a session's start to its end.
func (x Series) Open(t time.Time, role Role) bool {
	_, ok := x.At(t, Lead(role))
	return ok
}

// NextSentence tells a person, in the series' time zone, when the next
// session is: "The next session is on Thursday 10 December at 19:00
// (Europe/London)." The year is added when it is not the year of t.
func (x Series) NextSentence(t time.Time) string {
	s, ok := x.Next(t)
	if !ok {
		return "This group's sessions have ended."
	}
	layout := "Monday 2 January"
	if s.Start.Year() != t.In(x.loc).Year() {
		layout += " 2006"
	}
	return fmt.Sprintf("The next session is on %s at %s (%s).", s.Start.Format(layout), s.Start.Format("15:04"), x.loc)
}

// wallClock returns the instant a clock in loc shows y-mo-d hh:mm. The
// offsets in effect two days either side are tried: where both fit (the
// clocks go back), the earlier instant wins; where neither does (the
// clocks go forward past it), the offset before the change applies.
func wallClock(y int, mo time.Month, d, hh, mm int, loc *time.Location) time.Time {
	naive := time.Date(y, mo, d, hh, mm, 0, 0, time.UTC)
	_, before := naive.Add(-48 * time.Hour).In(loc).Zone()
	_, at := naive.In(loc).Zone()
	_, after := naive.Add(48 * time.Hour).In(loc).Zone()
	var best time.Time
	for _, off := range []int{before, at, after} {
		t := naive.Add(-time.Duration(off) * time.Second)
		l := t.In(loc)
		if l.Year() == y && l.Month() == mo && l.Day() == d && l.Hour() == hh && l.Minute() == mm {
			if best.IsZero() || t.Before(best) {
				best = t
			}
		}
	}
	if best.IsZero() {
		best = naive.Add(-time.Duration(before) * time.Second)
	}
	return best.In(loc)
}
