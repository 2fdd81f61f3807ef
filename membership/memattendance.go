package membership

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/hearth-rtc/hearth/room"
)

// The memory store's attendance (AttendanceStore): per room, records
// sorted by JoinedAt and acceptances sorted by At, so that pruning what is
// past retention takes from the front. A room's attendance is pruned when
// it is written or read, and every room's at most hourly, on any write.

type memAttendance struct {
	recs []room.PresenceRecord // by JoinedAt
	ids  map[string]bool
	accs []room.Acceptance // by At
}

// sweepEvery is how often a write prunes every room's attendance, so rooms
// nobody records in any more do not keep theirs.
const sweepEvery = time.Hour

// roomAttendance prunes and returns a room's attendance, creating it when
// create is set; nil if there is none. The caller holds mu.
func (m *MemStore) roomAttendance(roomName string, now time.Time, create bool) *memAttendance {
	cutoff := now.Add(-m.retention)
	if create && now.Sub(m.swept) >= sweepEvery {
		m.swept = now
		for name, a := range m.attendance {
			if a.prune(cutoff) {
				delete(m.attendance, name)
			}
		}
	}
	a := m.attendance[roomName]
	if a != nil && a.prune(cutoff) && !create {
		delete(m.attendance, roomName)
		return nil
	}
	if a == nil && create {
		a = &memAttendance{ids: map[string]bool{}}
		m.attendance[roomName] = a
	}
	return a
}

// prune drops what is older than cutoff and reports whether nothing is
// left.
func (a *memAttendance) prune(cutoff time.Time) bool {
	n := 0
	for n < len(a.recs) && a.recs[n].JoinedAt.Before(cutoff) {
		delete(a.ids, a.recs[n].ID)
		n++
	}
	a.recs = slices.Delete(a.recs, 0, n)
	n = 0
	for n < len(a.accs) && a.accs[n].At.Before(cutoff) {
		n++
	}
	a.accs = slices.Delete(a.accs, 0, n)
	return len(a.recs) == 0 && len(a.accs) == 0
}

func (m *MemStore) AttendanceRetention() time.Duration { return m.retention }

func (m *MemStore) RecordJoin(ctx context.Context, roomName string, rec room.PresenceRecord) error {
	if err := room.CheckRoomName(roomName); err != nil {
		return err
	}
	if err := room.ValidatePresenceRecord(rec); err != nil {
		return err
	}
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	now := m.now()
	if rec.JoinedAt.Before(now.Add(-m.retention)) {
		return nil
	}
	a := m.roomAttendance(roomName, now, true)
	if a.ids[rec.ID] {
		return nil
	}
	rec.LeftAt = time.Time{}
	i, _ := slices.BinarySearchFunc(a.recs, rec.JoinedAt, func(r room.PresenceRecord, t time.Time) int {
		if c := r.JoinedAt.Compare(t); c != 0 {
			return c
		}
		return -1 // after those that joined at the same time
	})
	a.recs = slices.Insert(a.recs, i, rec)
	a.ids[rec.ID] = true
	for len(a.recs) > m.maxRecs {
		delete(a.ids, a.recs[0].ID)
		a.recs = slices.Delete(a.recs, 0, 1)
	}
	return nil
}

func (m *MemStore) RecordLeave(ctx context.Context, roomName, id string, at time.Time) error {
	if err := room.CheckRoomName(roomName); err != nil {
		return err
	}
	if id == "" || at.IsZero() {
		return errf("a leave needs a participant id and a time")
	}
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	a := m.roomAttendance(roomName, m.now(), false)
	if a == nil || !a.ids[id] {
		return fmt.Errorf("presence record %q in room %q: %w", id, roomName, room.ErrNotFound)
	}
	for i := len(a.recs) - 1; i >= 0; i-- { // leaves are mostly of recent joins
		if a.recs[i].ID == id {
			if a.recs[i].LeftAt.IsZero() {
				a.recs[i].LeftAt = at
			}
			break
		}
	}
	return nil
}

func (m *MemStore) Attendance(ctx context.Context, roomName string, from, to time.Time) ([]room.PresenceRecord, error) {
	if err := room.CheckRoomName(roomName); err != nil {
		return nil, err
	}
	if err := m.lock(ctx); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	out := []room.PresenceRecord{}
	a := m.roomAttendance(roomName, m.now(), false)
	if a == nil {
		return out, nil
	}
	for _, r := range a.recs {
		if !r.JoinedAt.Before(from) && r.JoinedAt.Before(to) {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b room.PresenceRecord) int {
		if c := a.JoinedAt.Compare(b.JoinedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

func (m *MemStore) RecordAcceptance(ctx context.Context, roomName string, acc room.Acceptance) error {
	if err := room.CheckRoomName(roomName); err != nil {
		return err
	}
	if err := room.ValidateAcceptance(acc); err != nil {
		return err
	}
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	now := m.now()
	if acc.At.Before(now.Add(-m.retention)) {
		return nil
	}
	a := m.roomAttendance(roomName, now, true)
	i, found := slices.BinarySearchFunc(a.accs, acc, compareAcceptances)
	if found {
		return nil
	}
	a.accs = slices.Insert(a.accs, i, acc)
	for len(a.accs) > m.maxRecs {
		a.accs = slices.Delete(a.accs, 0, 1)
	}
	return nil
}

func (m *MemStore) Acceptances(ctx context.Context, roomName string, from, to time.Time) ([]room.Acceptance, error) {
	if err := room.CheckRoomName(roomName); err != nil {
		return nil, err
	}
	if err := m.lock(ctx); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	out := []room.Acceptance{}
	a := m.roomAttendance(roomName, m.now(), false)
	if a == nil {
		return out, nil
	}
	for _, acc := range a.accs {
		if !acc.At.Before(from) && acc.At.Before(to) {
			out = append(out, acc)
		}
	}
	return out, nil
}

// compareAcceptances orders by At, then identity, then version.
func compareAcceptances(a, b room.Acceptance) int {
	if c := a.At.Compare(b.At); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Identity, b.Identity); c != 0 {
		return c
	}
	return cmp.Compare(a.Version, b.Version)
}
