package room

import (
	"slices"
	"strconv"
	"time"
)

// Attendance is metadata only: who was seated in which session, from when
// to when, and when they accepted the group agreement. Nothing said or
// shown is kept.

// SittingGap joins stays outside any scheduled session into one sitting
// when they are less than this apart; a room without a schedule has only
// sittings.
const SittingGap = 30 * time.Minute

// PresenceRecord is one seat's stay in a room: from when it was seated
// (admitted) to when it left. A seat kept through a dropped connection is
// one stay; a person who comes back on a new seat has two, which the
// attendance merges.
type PresenceRecord struct {
	ID       string    `json:"id"` // the participant id of the seat
	Identity string    `json:"identity"`
	Name     string    `json:"name"`
	Role     Role      `json:"role"`
	JoinedAt time.Time `json:"joinedAt"`
	// LeftAt is zero while the seat is held, or when its leave was never
	// recorded (its server stopped).
	LeftAt time.Time `json:"leftAt,omitzero"`
}

// ValidatePresenceRecord checks what a store requires of a record; errors
// wrap ErrInvalid.
func ValidatePresenceRecord(r PresenceRecord) error {
	switch {
	case r.ID == "" || len(r.ID) > 64:
		return errf("presence record: id must be 1-64 bytes")
	case !r.Role.Valid():
		return errf("presence record: role %q is invalid", r.Role)
	case r.JoinedAt.IsZero():
		return errf("presence record: joinedAt is required")
	case len(r.Name) > 4*MaxNameLen:
		return errf("presence record: name is too long")
	}
	return ValidIdentity(r.Identity)
}

// Stay is one stay of a person in a session.
type Stay struct {
	JoinedAt time.Time `json:"joinedAt"`
	LeftAt   time.Time `json:"leftAt,omitzero"`
}

// AttendanceRow is one person in one session: someone who came, or
// someone on the roster who did not.
type AttendanceRow struct {
	Identity string `json:"identity"`
	Name     string `json:"name"`
	Role     Role   `json:"role"`
	OnRoster bool   `json:"onRoster"`
	Attended bool   `json:"attended"`
	// Present: in the room now.
	Present     bool      `json:"present"`
	FirstJoined time.Time `json:"firstJoined,omitzero"`
	// LastLeft is the last stay's end; zero while present or when that
	// leave was not recorded.
	LastLeft time.Time `json:"lastLeft,omitzero"`
	// Minutes present, overlapping stays (reconnects) counted once. A stay
	// whose leave was not recorded counts to the session's end.
	Minutes             int       `json:"minutes"`
	Stays               []Stay    `json:"stays"`
	AgreementAcceptedAt time.Time `json:"agreementAcceptedAt,omitzero"`
}

// SessionAttendance is who came to one session: a numbered session of the
// room's schedule, or a sitting (people meeting outside the schedule, or
// in a room without one).
type SessionAttendance struct {
	// Number is the session's number in the schedule; 0 for a sitting.
	Number int `json:"number,omitempty"`
	// Key names the session for a query: its number, or for a sitting its
	// start in UTC (RFC 3339).
	Key   string          `json:"key"`
	Start time.Time       `json:"start"`
	End   time.Time       `json:"end"`
	Rows  []AttendanceRow `json:"rows"`
}

// AttendanceInput is what BuildAttendance reads.
type AttendanceInput struct {
	Config      RoomConfig
	Records     []PresenceRecord
	Acceptances []Acceptance
	// Present holds the participant ids seated now.
	Present map[string]bool
	Now     time.Time
	// Since leaves out scheduled sessions that ended before it (their
	// records are past retention).
	Since time.Time
}

// BuildAttendance sorts the records into sessions, oldest first. A record
// belongs to the scheduled session in whose window (FacilitatorLead
// before the start to the end) it began, or which began while it lasted;
// the rest form sittings. Every scheduled session that has opened is
// listed, with the roster's absentees (those added by an override after
// it ended aside); sittings list absentees only in rooms without a
// schedule.
func BuildAttendance(in AttendanceInput) []SessionAttendance {
	loc := time.UTC
	var x Series
	scheduled := false
	if in.Config.Schedule != nil {
		if s, err := in.Config.Schedule.Series(); err == nil {
			x, loc, scheduled = s, s.Location(), true
		}
	}
	type bucket struct {
		s    SessionAttendance
		recs []PresenceRecord
		ends []time.Time
	}
	var out []*bucket
	numbered := map[int]*bucket{}
	if scheduled {
		for n := 1; n <= x.Len(); n++ {
			s, _ := x.Session(n)
			if s.Start.Add(-FacilitatorLead).After(in.Now) {
				break
			}
			if s.End.Before(in.Since) {
				continue
			}
			b := &bucket{s: SessionAttendance{Number: n, Key: strconv.Itoa(n), Start: s.Start, End: s.End}}
			numbered[n] = b
			out = append(out, b)
		}
	}
	recs := slices.Clone(in.Records)
	slices.SortFunc(recs, func(a, b PresenceRecord) int { return a.JoinedAt.Compare(b.JoinedAt) })
	var rest []PresenceRecord
	for _, r := range recs {
		end, known := r.LeftAt, !r.LeftAt.IsZero()
		if !known && in.Present[r.ID] {
			end, known = in.Now, true
		}
		if scheduled {
			s, ok := x.At(r.JoinedAt, FacilitatorLead)
			if !ok {
				s, ok = x.Next(r.JoinedAt)
				ok = ok && known && end.After(s.Start)
			}
			if b := numbered[s.Number]; ok && b != nil {
				if !known {
					end = maxTime(r.JoinedAt, minTime(s.End, in.Now))
				}
				b.recs, b.ends = append(b.recs, r), append(b.ends, end)
				continue
			}
			if ok {
				continue // a session left out by Since
			}
		}
		rest = append(rest, r)
	}
	// Sittings: stays less than SittingGap apart, in order of arrival.
	var cur *bucket
	for _, r := range rest {
		end := r.LeftAt
		if end.IsZero() && in.Present[r.ID] {
			end = in.Now
		}
		if cur == nil || r.JoinedAt.After(cur.s.End.Add(SittingGap)) {
			cur = &bucket{s: SessionAttendance{Key: r.JoinedAt.UTC().Format(time.RFC3339), Start: r.JoinedAt, End: r.JoinedAt}}
			out = append(out, cur)
		}
		cur.recs, cur.ends = append(cur.recs, r), append(cur.ends, end) // zero: fixed below
		cur.s.End = maxTime(cur.s.End, end)
	}
	for _, b := range out {
		for i := range b.ends {
			if b.ends[i].IsZero() {
				b.ends[i] = b.s.End // a sitting's unrecorded leave counts to its end
			}
		}
		b.s.Start, b.s.End = b.s.Start.In(loc), b.s.End.In(loc)
		absentees := b.s.Number != 0 || !scheduled
		b.s.Rows = rows(in, b.s, b.recs, b.ends, absentees, loc)
	}
	slices.SortStableFunc(out, func(a, b *bucket) int { return a.s.Start.Compare(b.s.Start) })
	list := make([]SessionAttendance, 0, len(out))
	for _, b := range out {
		list = append(list, b.s)
	}
	return list
}

// rows makes a session's rows: the roster first, in its order, then
// everyone else in order of arrival.
func rows(in AttendanceInput, s SessionAttendance, recs []PresenceRecord, ends []time.Time, absentees bool, loc *time.Location) []AttendanceRow {
	cfg := in.Config
	out := []AttendanceRow{}
	index := map[string]int{}
	for _, e := range cfg.Roster {
		if !absentees || addedAfter(cfg, e.Identity, s.End) {
			continue
		}
		index[e.Identity] = len(out)
		out = append(out, AttendanceRow{Identity: e.Identity, Name: e.Name, Role: e.Role, OnRoster: true, Stays: []Stay{}})
	}
	spans := map[string][][2]time.Time{}
	for i, r := range recs {
		j, ok := index[r.Identity]
		if !ok {
			j = len(out)
			index[r.Identity] = j
			e, onRoster := cfg.RosterEntry(r.Identity)
			out = append(out, AttendanceRow{Identity: r.Identity, Name: e.Name, OnRoster: onRoster, Stays: []Stay{}})
		}
		row := &out[j]
		if row.Name == "" || !row.OnRoster {
			row.Name = r.Name
		}
		row.Role, row.Attended = r.Role, true
		row.Present = row.Present || in.Present[r.ID]
		if row.FirstJoined.IsZero() {
			row.FirstJoined = r.JoinedAt.In(loc)
		}
		row.LastLeft = inZone(r.LeftAt, loc)
		if in.Present[r.ID] {
			row.LastLeft = time.Time{}
		}
		row.Stays = append(row.Stays, Stay{JoinedAt: r.JoinedAt.In(loc), LeftAt: inZone(r.LeftAt, loc)})
		spans[r.Identity] = append(spans[r.Identity], [2]time.Time{r.JoinedAt, maxTime(r.JoinedAt, ends[i])})
	}
	for i := range out {
		row := &out[i]
		if row.Present {
			row.LastLeft = time.Time{}
		}
		row.Minutes = int((union(spans[row.Identity]) + 30*time.Second) / time.Minute)
		row.AgreementAcceptedAt = inZone(acceptedFor(cfg, in.Acceptances, row.Identity, s), loc)
	}
	return out
}

// addedAfter reports whether identity joined the roster by an override
// made after end: it was not expected in a session ending at end.
func addedAfter(cfg RoomConfig, identity string, end time.Time) bool {
	for _, o := range cfg.RosterOverrides {
		if o.Identity == identity && !o.At.Before(end) {
			return true
		}
	}
	return false
}

// acceptedFor returns when identity accepted the agreement for session s:
// the last acceptance before its end, made in its window when the room
// asks at every session.
func acceptedFor(cfg RoomConfig, accs []Acceptance, identity string, s SessionAttendance) time.Time {
	from := time.Time{}
	if cfg.Agreement != nil && cfg.Agreement.Every == AcceptEverySession {
		from = s.Start.Add(-FacilitatorLead)
		if s.Number == 0 {
			from = s.Start.Add(-AcceptanceFresh)
		}
	}
	var best time.Time
	for _, a := range accs {
		if a.Identity == identity && !a.At.Before(from) && !a.At.After(s.End) && a.At.After(best) {
			best = a.At
		}
	}
	return best
}

// union is the length of time covered by spans, overlaps counted once.
func union(spans [][2]time.Time) time.Duration {
	slices.SortFunc(spans, func(a, b [2]time.Time) int { return a[0].Compare(b[0]) })
	var total time.Duration
	var curStart, curEnd time.Time
	for i, s := range spans {
		if i == 0 || s[0].After(curEnd) {
			total += curEnd.Sub(curStart)
			curStart, curEnd = s[0], s[1]
			continue
		}
		curEnd = maxTime(curEnd, s[1])
	}
	if len(spans) > 0 {
		total += curEnd.Sub(curStart)
	}
	return total
}

// FindSession returns the session with key (a number, or a sitting's
// start as listed).
func FindSession(list []SessionAttendance, key string) (SessionAttendance, bool) {
	for _, s := range list {
		if s.Key == key {
			return s, true
		}
	}
	return SessionAttendance{}, false
}

func inZone(t time.Time, loc *time.Location) time.Time {
	if t.IsZero() {
		return t
	}
	return t.In(loc)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
