package membership_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/room"
)

// TestMemStoreAttendanceRetention: records and acceptances are deleted once
// older than the retention, in the room written to and, within the hour,
// in rooms nobody writes to any more; the memory they held goes with them.
func TestMemStoreAttendanceRetention(t *testing.T) {
	clk := &fakeClock{now: time.Date(2026, 12, 3, 19, 0, 0, 0, time.UTC)}
	s := membership.NewMemStore(membership.MemStoreOptions{Now: clk.Now, AttendanceRetention: 30 * 24 * time.Hour})
	ctx := context.Background()
	rec := func(id string, at time.Time) room.PresenceRecord {
		return room.PresenceRecord{ID: id, Identity: "ann", Name: "Ann", Role: room.RoleMember, JoinedAt: at}
	}
	count := func(roomName string) (int, int) {
		recs, err := s.Attendance(ctx, roomName, time.Time{}, clk.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		accs, err := s.Acceptances(ctx, roomName, time.Time{}, clk.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return len(recs), len(accs)
	}
	start := clk.Now()
	for _, r := range []string{"quiet", "silent", "busy"} {
		if err := s.RecordJoin(ctx, r, rec("p_1", start)); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordAcceptance(ctx, r, room.Acceptance{Identity: "ann", Version: "v", At: start}); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(30*24*time.Hour - time.Second)
	if r, a := count("quiet"); r != 1 || a != 1 {
		t.Fatalf("just within the retention: %d records, %d acceptances", r, a)
	}
	clk.Advance(2 * time.Second)
	if r, a := count("quiet"); r != 0 || a != 0 {
		t.Fatalf("past the retention: %d records, %d acceptances", r, a)
	}
	// A write prunes every room, at most hourly: "silent", never read
	// again, goes too.
	if err := s.RecordJoin(ctx, "busy", rec("p_2", clk.Now())); err != nil {
		t.Fatal(err)
	}
	if got := membership.AttendanceRooms(s); got != 1 {
		t.Fatalf("%d rooms keep attendance after the sweep, want 1", got)
	}
	if r, _ := count("busy"); r != 1 {
		t.Fatalf("busy room keeps %d records, want 1", r)
	}
}

// TestMemStoreAttendanceBound: a room keeps at most MaxAttendanceRecords
// records and acceptances, the newest.
func TestMemStoreAttendanceBound(t *testing.T) {
	s := membership.NewMemStore(membership.MemStoreOptions{MaxAttendanceRecords: 5})
	ctx := context.Background()
	t0 := time.Now().Add(-time.Hour)
	for i := range 8 {
		at := t0.Add(time.Duration(i) * time.Minute)
		if err := s.RecordJoin(ctx, "r", room.PresenceRecord{ID: fmt.Sprintf("p_%d", i), Identity: "ann", Role: room.RoleMember, JoinedAt: at}); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordAcceptance(ctx, "r", room.Acceptance{Identity: fmt.Sprintf("id%d", i), Version: "v", At: at}); err != nil {
			t.Fatal(err)
		}
	}
	recs, _ := s.Attendance(ctx, "r", time.Time{}, time.Now())
	accs, _ := s.Acceptances(ctx, "r", time.Time{}, time.Now())
	if len(recs) != 5 || recs[0].ID != "p_3" || len(accs) != 5 || accs[0].Identity != "id3" {
		t.Fatalf("kept %d records from %v, %d acceptances", len(recs), recs[0].ID, len(accs))
	}
	// A dropped record's leave finds nothing.
	if err := s.RecordLeave(ctx, "r", "p_0", time.Now()); err == nil {
		t.Fatal("leave of a dropped record succeeded")
	}
}
