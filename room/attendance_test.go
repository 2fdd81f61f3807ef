package room_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/room"
)

// summary prints a session's rows as "identity:attended:minutes[:present]".
func summary(s room.SessionAttendance) string {
	var parts []string
	for _, r := range s.Rows {
		p := fmt.Sprintf("%s:%v:%d", r.Identity, r.Attended, r.Minutes)
		if r.Present {
			p += ":present"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, " ")
}

// TestAttendanceSeries: stays go to the session in whose window they
// began; a person's stays are merged (a dropped connection and a new seat
// count once); a stay whose leave was never recorded counts to the
// session's end; the roster's absentees are listed, except those added
// after the session by an override; stays outside every window form a
// sitting; sessions not yet open are not listed.
func TestAttendanceSeries(t *testing.T) {
	london := zone(t, "Europe/London")
	at := func(mo time.Month, d, hh, mm int) time.Time { return time.Date(2026, mo, d, hh, mm, 0, 0, london) }
	cfg := cohort()
	cfg.Agreement = &room.Agreement{Text: "Confidential.", Every: room.AcceptOncePerSeries}
	cfg.Roster = append(cfg.Roster, room.RosterEntry{Identity: "kim", Name: "Kim", Role: room.RoleMember},
		room.RosterEntry{Identity: "late", Name: "Late", Role: room.RoleMember})
	cfg.RosterOverrides = []room.RosterOverride{{Identity: "kim", By: "Dr Lee", At: at(12, 5, 10, 0)},
		{Identity: "late", By: "Dr Lee", At: at(12, 10, 20, 30)}}
	rec := func(id, identity string, role room.Role, joined, left time.Time) room.PresenceRecord {
		return room.PresenceRecord{ID: id, Identity: identity, Name: "Name " + identity, Role: role, JoinedAt: joined, LeftAt: left}
	}
	none := time.Time{}
	in := room.AttendanceInput{
		Config: cfg,
		Records: []room.PresenceRecord{
			rec("p_f1", "dr-lee", room.RoleFacilitator, at(12, 3, 18, 35), at(12, 3, 20, 31)),
			rec("p_r1", "rae", room.RoleMember, at(12, 3, 18, 50), at(12, 3, 19, 10)),
			rec("p_r2", "rae", room.RoleMember, at(12, 3, 19, 12), at(12, 3, 20, 30)),
			rec("p_c1", "co", room.RoleCoFacilitator, at(12, 3, 19, 0), none), // its server stopped
			rec("p_f2", "dr-lee", room.RoleFacilitator, at(12, 7, 12, 0), at(12, 7, 12, 30)),
			rec("p_f3", "dr-lee", room.RoleFacilitator, at(12, 10, 18, 40), none),
			rec("p_r3", "rae", room.RoleMember, at(12, 10, 18, 50), none),
		},
		Acceptances: []room.Acceptance{{Identity: "rae", Version: cfg.Agreement.Version(), At: at(12, 3, 18, 49)}},
		Present:     map[string]bool{"p_f3": true, "p_r3": true},
		Now:         at(12, 10, 19, 30),
	}
	list := room.BuildAttendance(in)
	var keys []string
	for _, s := range list {
		keys = append(keys, s.Key)
	}
	if strings.Join(keys, " ") != "1 2026-12-07T12:00:00Z 2" {
		t.Fatalf("sessions %v, want 1, a sitting, 2", keys)
	}
	s1, s2, sitting := list[0], list[2], list[1]
	if want := "dr-lee:true:116 co:true:90 rae:true:98 obs:false:0"; summary(s1) != want {
		t.Errorf("session 1: %s, want %s", summary(s1), want)
	}
	if want := "dr-lee:true:50:present co:false:0 rae:true:40:present obs:false:0 kim:false:0"; summary(s2) != want {
		t.Errorf("session 2: %s, want %s", summary(s2), want)
	}
	if want := "dr-lee:true:30"; summary(sitting) != want || sitting.Number != 0 {
		t.Errorf("sitting: %s (number %d), want %s", summary(sitting), sitting.Number, want)
	}
	rae := s1.Rows[2]
	if rae.Name != "Rae" || !rae.OnRoster || len(rae.Stays) != 2 || !rae.FirstJoined.Equal(at(12, 3, 18, 50)) ||
		!rae.LastLeft.Equal(at(12, 3, 20, 30)) || !rae.AgreementAcceptedAt.Equal(at(12, 3, 18, 49)) {
		t.Errorf("rae in session 1: %+v", rae)
	}
	if rae.FirstJoined.Location().String() != "Europe/London" || s1.Start.Location().String() != "Europe/London" {
		t.Errorf("times not in the group's zone: %v %v", rae.FirstJoined, s1.Start)
	}
	if r := s2.Rows[2]; !r.LastLeft.IsZero() || !r.AgreementAcceptedAt.Equal(at(12, 3, 18, 49)) {
		t.Errorf("rae in session 2: %+v", r)
	}
	if co := s1.Rows[1]; !co.LastLeft.IsZero() || co.Present {
		t.Errorf("co, leave not recorded: %+v", co)
	}
	if got, ok := room.FindSession(list, "2"); !ok || got.Number != 2 {
		t.Errorf("FindSession(2) = %+v %v", got, ok)
	}
	if _, ok := room.FindSession(list, "3"); ok {
		t.Error("session 3, not yet open, is listed")
	}

	// At every session, an acceptance counts only in its session.
	every := in
	every.Config = cfg.Clone()
	every.Config.Agreement.Every = room.AcceptEverySession
	list = room.BuildAttendance(every)
	if !list[0].Rows[2].AgreementAcceptedAt.Equal(at(12, 3, 18, 49)) || !list[2].Rows[2].AgreementAcceptedAt.IsZero() {
		t.Errorf("every session: %v, %v", list[0].Rows[2].AgreementAcceptedAt, list[2].Rows[2].AgreementAcceptedAt)
	}

	// Sessions ended before Since are left out.
	since := in
	since.Since = at(12, 4, 0, 0)
	if list := room.BuildAttendance(since); list[0].Key != "2026-12-07T12:00:00Z" {
		t.Errorf("with Since, first session %q", list[0].Key)
	}
}

// TestAttendanceSittings: in a room without a schedule, stays less than
// 30 minutes apart form one sitting, keyed by its start; overlapping stays
// of one person count once; the roster's absentees are listed.
func TestAttendanceSittings(t *testing.T) {
	day := func(d, hh, mm int) time.Time { return time.Date(2026, 12, d, hh, mm, 0, 0, time.UTC) }
	cfg := room.RoomConfig{Name: "drop-in", Kind: room.KindOpen, Capacity: 10,
		Roster: []room.RosterEntry{{Identity: "host", Name: "Host", Role: room.RoleFacilitator}}}
	in := room.AttendanceInput{
		Config: cfg,
		Records: []room.PresenceRecord{
			{ID: "p_1", Identity: "anon-1", Name: "Sam", Role: room.RoleMember, JoinedAt: day(1, 19, 0), LeftAt: day(1, 19, 40)},
			{ID: "p_2", Identity: "anon-1", Name: "Sam", Role: room.RoleMember, JoinedAt: day(1, 19, 30), LeftAt: day(1, 20, 0)},
			{ID: "p_3", Identity: "anon-2", Name: "Jo", Role: room.RoleMember, JoinedAt: day(1, 20, 25), LeftAt: day(1, 20, 45)},
			{ID: "p_4", Identity: "host", Name: "Host", Role: room.RoleFacilitator, JoinedAt: day(2, 19, 0), LeftAt: day(2, 20, 0)},
			{ID: "p_5", Identity: "anon-3", Name: "=cmd()", Role: room.RoleMember, JoinedAt: day(2, 19, 5)},
		},
		Present: map[string]bool{},
		Now:     day(3, 12, 0),
	}
	list := room.BuildAttendance(in)
	if len(list) != 2 || list[0].Key != "2026-12-01T19:00:00Z" || list[1].Key != "2026-12-02T19:00:00Z" {
		t.Fatalf("sittings: %+v", list)
	}
	if want := "host:false:0 anon-1:true:60 anon-2:true:20"; summary(list[0]) != want {
		t.Errorf("first sitting: %s, want %s", summary(list[0]), want)
	}
	if !list[0].End.Equal(day(1, 20, 45)) {
		t.Errorf("first sitting ends %v", list[0].End)
	}
	// A leave never recorded counts to the sitting's end.
	if want := "host:true:60 anon-3:true:55"; summary(list[1]) != want {
		t.Errorf("second sitting: %s, want %s", summary(list[1]), want)
	}
	if room.BuildAttendance(room.AttendanceInput{Config: cfg, Now: day(3, 0, 0)}) == nil {
		t.Error("no records gives nil, want an empty list")
	}
}

func TestValidatePresenceRecord(t *testing.T) {
	ok := room.PresenceRecord{ID: "p_1", Identity: "rae", Name: "Rae", Role: room.RoleMember, JoinedAt: time.Now()}
	if err := room.ValidatePresenceRecord(ok); err != nil {
		t.Fatal(err)
	}
	for what, f := range map[string]func(*room.PresenceRecord){
		"id":       func(r *room.PresenceRecord) { r.ID = "" },
		"long id":  func(r *room.PresenceRecord) { r.ID = strings.Repeat("p", 65) },
		"identity": func(r *room.PresenceRecord) { r.Identity = "a b" },
		"role":     func(r *room.PresenceRecord) { r.Role = "king" },
		"joined":   func(r *room.PresenceRecord) { r.JoinedAt = time.Time{} },
		"name":     func(r *room.PresenceRecord) { r.Name = strings.Repeat("n", 300) },
	} {
		r := ok
		f(&r)
		if err := room.ValidatePresenceRecord(r); !errors.Is(err, room.ErrInvalid) {
			t.Errorf("%s: %v", what, err)
		}
	}
}
