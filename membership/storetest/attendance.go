package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/room"
)

// The contract for attendance (membership.AttendanceStore): presence
// records and agreement acceptances, per room, within the retention, gone
// with the room.

// day is far enough in the past to sort records, well within retention.
func day() time.Time { return time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Hour) }

func record(id, identity string, joined time.Time) room.PresenceRecord {
	return room.PresenceRecord{ID: id, Identity: identity, Name: "Name " + identity, Role: room.RoleMember, JoinedAt: joined}
}

func recordIDs(rs []room.PresenceRecord) string {
	var out []string
	for _, r := range rs {
		s := r.ID
		if !r.LeftAt.IsZero() {
			s += "-left"
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

func testAttendanceRecords(t *testing.T, newStore NewStore) {
	s, ctx := newStore(t, longTTL), ctxT(t)
	t0 := day()
	// Recorded out of order, with one time shared and a nanosecond part.
	must(t, s.RecordJoin(ctx, "cohort", record("p_c", "carl", t0.Add(20*time.Minute))), "join c")
	must(t, s.RecordJoin(ctx, "cohort", record("p_a", "ann", t0)), "join a")
	must(t, s.RecordJoin(ctx, "cohort", record("p_b", "bea", t0.Add(20*time.Minute))), "join b")
	must(t, s.RecordJoin(ctx, "cohort", record("p_d", "dan", t0.Add(time.Hour+time.Nanosecond))), "join d")
	must(t, s.RecordJoin(ctx, "other", record("p_x", "xia", t0)), "join in another room")

	// A second record with the same id is ignored: the first stays.
	dup := record("p_a", "ann", t0.Add(time.Minute))
	dup.Name = "Changed"
	must(t, s.RecordJoin(ctx, "cohort", dup), "duplicate join")

	// The first leave counts; a leave given with the join is ignored.
	left := t0.Add(50 * time.Minute)
	must(t, s.RecordLeave(ctx, "cohort", "p_a", left), "leave a")
	must(t, s.RecordLeave(ctx, "cohort", "p_a", left.Add(time.Hour)), "second leave a")
	withLeave := record("p_e", "eve", t0.Add(2*time.Hour))
	withLeave.LeftAt = t0.Add(3 * time.Hour)
	must(t, s.RecordJoin(ctx, "cohort", withLeave), "join with a leave")
	mustErr(t, s.RecordLeave(ctx, "cohort", "p_nobody", left), room.ErrNotFound, "leave of no record")
	mustErr(t, s.RecordLeave(ctx, "empty-room", "p_a", left), room.ErrNotFound, "leave in a room with no records")

	all, err := s.Attendance(ctx, "cohort", time.Time{}, time.Now().Add(time.Hour))
	must(t, err, "attendance")
	if got := recordIDs(all); got != "p_a-left p_b p_c p_d p_e" {
		t.Fatalf("attendance = %s, want p_a-left p_b p_c p_d p_e", got)
	}
	a := all[0]
	if a.Identity != "ann" || a.Name != "Name ann" || a.Role != room.RoleMember || !a.JoinedAt.Equal(t0) || !a.LeftAt.Equal(left) {
		t.Fatalf("record a = %+v", a)
	}
	if !all[3].JoinedAt.Equal(t0.Add(time.Hour + time.Nanosecond)) {
		t.Fatalf("join time not kept exactly: %v", all[3].JoinedAt)
	}

	// [from, to): from included, to excluded, to the nanosecond.
	part, err := s.Attendance(ctx, "cohort", t0.Add(20*time.Minute), t0.Add(time.Hour+time.Nanosecond))
	must(t, err, "attendance range")
	if got := recordIDs(part); got != "p_b p_c" {
		t.Fatalf("attendance [20m, 1h+1ns) = %s, want p_b p_c", got)
	}
	other, err := s.Attendance(ctx, "other", time.Time{}, time.Now())
	must(t, err, "attendance of other")
	if recordIDs(other) != "p_x" {
		t.Fatalf("rooms not kept apart: %s", recordIDs(other))
	}
	none, err := s.Attendance(ctx, "nobody-here", time.Time{}, time.Now())
	must(t, err, "attendance of an empty room")
	if none == nil || len(none) != 0 {
		t.Fatalf("empty room: %#v, want an empty list", none)
	}

	// Invalid input.
	mustErr(t, s.RecordJoin(ctx, "bad name", record("p_1", "a", t0)), room.ErrInvalid, "bad room")
	mustErr(t, s.RecordJoin(ctx, "cohort", record("", "a", t0)), room.ErrInvalid, "no id")
	mustErr(t, s.RecordJoin(ctx, "cohort", record("p_1", "a b", t0)), room.ErrInvalid, "bad identity")
	mustErr(t, s.RecordJoin(ctx, "cohort", record("p_1", "a", time.Time{})), room.ErrInvalid, "no time")
	mustErr(t, s.RecordLeave(ctx, "cohort", "p_b", time.Time{}), room.ErrInvalid, "leave without a time")
	_, err = s.Attendance(ctx, "bad name", time.Time{}, time.Now())
	mustErr(t, err, room.ErrInvalid, "attendance of a bad room")
}

func testAcceptances(t *testing.T, newStore NewStore) {
	s, ctx := newStore(t, longTTL), ctxT(t)
	t0 := day()
	acc := func(identity, version string, at time.Time) room.Acceptance {
		return room.Acceptance{Identity: identity, Version: version, At: at}
	}
	must(t, s.RecordAcceptance(ctx, "cohort", acc("rae", "v1", t0.Add(time.Hour))), "accept rae")
	must(t, s.RecordAcceptance(ctx, "cohort", acc("ann", "v1", t0)), "accept ann")
	must(t, s.RecordAcceptance(ctx, "cohort", acc("rae", "v1", t0.Add(time.Hour))), "the same acceptance again")
	must(t, s.RecordAcceptance(ctx, "cohort", acc("bea", "v2", t0.Add(time.Hour))), "accept bea")
	must(t, s.RecordAcceptance(ctx, "cohort", acc("rae", "v2", t0.Add(3*time.Hour+time.Nanosecond))), "accept again, new text")
	must(t, s.RecordAcceptance(ctx, "other", acc("xia", "v1", t0)), "accept in another room")

	got, err := s.Acceptances(ctx, "cohort", time.Time{}, time.Now())
	must(t, err, "acceptances")
	var list []string
	for _, a := range got {
		list = append(list, fmt.Sprintf("%s/%s/%s", a.Identity, a.Version, a.At.Sub(t0)))
	}
	if want := "ann/v1/0s bea/v2/1h0m0s rae/v1/1h0m0s rae/v2/3h0m0.000000001s"; strings.Join(list, " ") != want {
		t.Fatalf("acceptances = %v, want %s", list, want)
	}
	part, err := s.Acceptances(ctx, "cohort", t0.Add(time.Hour), t0.Add(3*time.Hour+time.Nanosecond))
	must(t, err, "acceptances range")
	if len(part) != 2 || part[0].Identity != "bea" || part[1].Identity != "rae" {
		t.Fatalf("acceptances [1h, 3h+1ns) = %+v", part)
	}
	empty, err := s.Acceptances(ctx, "nobody-here", time.Time{}, time.Now())
	must(t, err, "acceptances of an empty room")
	if empty == nil || len(empty) != 0 {
		t.Fatalf("empty room: %#v", empty)
	}
	mustErr(t, s.RecordAcceptance(ctx, "cohort", acc("", "v1", t0)), room.ErrInvalid, "no identity")
	mustErr(t, s.RecordAcceptance(ctx, "cohort", acc("rae", "", t0)), room.ErrInvalid, "no version")
	mustErr(t, s.RecordAcceptance(ctx, "cohort", acc("rae", "v1", time.Time{})), room.ErrInvalid, "no time")
	mustErr(t, s.RecordAcceptance(ctx, "bad name", acc("rae", "v1", t0)), room.ErrInvalid, "bad room")
}

// testAttendanceRetention: what is older than the retention (180 days by
// default) is neither kept nor returned.
func testAttendanceRetention(t *testing.T, newStore NewStore) {
	s, ctx := newStore(t, longTTL), ctxT(t)
	now := time.Now().UTC()
	old := now.Add(-membership.DefaultAttendanceRetention - time.Hour)
	recent := now.Add(-membership.DefaultAttendanceRetention + time.Hour)
	must(t, s.RecordJoin(ctx, "cohort", record("p_old", "ann", old)), "old join")
	must(t, s.RecordJoin(ctx, "cohort", record("p_new", "bea", recent)), "recent join")
	mustErr(t, s.RecordLeave(ctx, "cohort", "p_old", now), room.ErrNotFound, "leave of a record not kept")
	must(t, s.RecordAcceptance(ctx, "cohort", room.Acceptance{Identity: "ann", Version: "v", At: old}), "old acceptance")
	must(t, s.RecordAcceptance(ctx, "cohort", room.Acceptance{Identity: "bea", Version: "v", At: recent}), "recent acceptance")
	recs, err := s.Attendance(ctx, "cohort", time.Time{}, now)
	must(t, err, "attendance")
	if recordIDs(recs) != "p_new" {
		t.Fatalf("attendance = %s, want only p_new", recordIDs(recs))
	}
	accs, err := s.Acceptances(ctx, "cohort", time.Time{}, now)
	must(t, err, "acceptances")
	if len(accs) != 1 || accs[0].Identity != "bea" {
		t.Fatalf("acceptances = %+v, want only bea's", accs)
	}
}

// testDeleteRoomDeletesAttendance: a deleted room's attendance and
// acceptances go with it, and a room created again under the name starts
// with none.
func testDeleteRoomDeletesAttendance(t *testing.T, newStore NewStore) {
	s, ctx := newStore(t, longTTL), ctxT(t)
	_, err := s.CreateRoom(ctx, closedRoom("cohort"))
	must(t, err, "create")
	must(t, s.RecordJoin(ctx, "cohort", record("p_1", "client-04", day())), "join")
	must(t, s.RecordAcceptance(ctx, "cohort", room.Acceptance{Identity: "client-04", Version: "v", At: day()}), "accept")
	must(t, s.RecordJoin(ctx, "kept", record("p_2", "client-04", day())), "join elsewhere")
	must(t, s.DeleteRoom(ctx, "cohort"), "delete")
	_, err = s.CreateRoom(ctx, closedRoom("cohort"))
	must(t, err, "create again")
	recs, err := s.Attendance(ctx, "cohort", time.Time{}, time.Now())
	must(t, err, "attendance")
	accs, err := s.Acceptances(ctx, "cohort", time.Time{}, time.Now())
	must(t, err, "acceptances")
	if len(recs) != 0 || len(accs) != 0 {
		t.Fatalf("after delete: %+v %+v", recs, accs)
	}
	if recs, err := s.Attendance(ctx, "kept", time.Time{}, time.Now()); err != nil || len(recs) != 1 {
		t.Fatalf("another room's attendance: %+v %v", recs, err)
	}
}

func testAttendanceUnavailable(t *testing.T, newStore NewStore) {
	s, ctx := newStore(t, longTTL), ctxT(t)
	must(t, s.Close(), "close")
	mustErr(t, s.RecordJoin(ctx, "r", record("p_1", "a", day())), room.ErrUnavailable, "join after close")
	mustErr(t, s.RecordLeave(ctx, "r", "p_1", day()), room.ErrUnavailable, "leave after close")
	_, err := s.Attendance(ctx, "r", time.Time{}, time.Now())
	mustErr(t, err, room.ErrUnavailable, "attendance after close")
	mustErr(t, s.RecordAcceptance(ctx, "r", room.Acceptance{Identity: "a", Version: "v", At: day()}), room.ErrUnavailable, "accept after close")
	_, err = s.Acceptances(ctx, "r", time.Time{}, time.Now())
	mustErr(t, err, room.ErrUnavailable, "acceptances after close")

	s = newStore(t, longTTL)
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	mustErr(t, s.RecordJoin(canceled, "r", record("p_1", "a", day())), context.Canceled, "join with a canceled context")
}
