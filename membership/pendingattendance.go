package membership

import (
	"context"
	"slices"
	"time"

	"github.com/hearth-rtc/hearth/room"
)

// Attendance while the store is unreachable.
//
// A seat taken or let go while the store cannot be written is kept here as
// a pending write, in order, and written with the other pending writes
// (pending.go) once the store answers. A leave carries the seat's record
// when this node knows it (someone seated here, in a room with a stored
// configuration), so a store that lost its data meanwhile gets the whole
// record back, not a leave with nothing to attach to. Each room keeps at
// most maxPendingAttendance writes; beyond that the oldest is dropped,
// and said in the log.

// maxPendingAttendance bounds a room's attendance writes waiting for the
// store: a full group coming and going through a long outage, several
// times over.
const maxPendingAttendance = 1000

// attendanceWrite is one attendance write waiting for the store.
type attendanceWrite struct {
	seq uint64
	// rec is the seat: written (RecordJoin keeps a record it has already)
	// when rec.JoinedAt is set.
	rec room.PresenceRecord
	// leave: rec.LeftAt is when the seat was let go.
	leave bool
}

// queueAttendance keeps w for the store. The caller does not hold s.mu.
func (s *Service) queueAttendance(ctx context.Context, roomName string, w attendanceWrite) {
	s.mu.Lock()
	s.attSeq++
	w.seq = s.attSeq
	p := s.pending[roomName]
	dropped := len(p.attendance) >= maxPendingAttendance
	if dropped {
		p.attendance = slices.Delete(p.attendance, 0, 1)
	}
	p.attendance = append(p.attendance, w)
	s.pending[roomName] = p
	s.mu.Unlock()
	if dropped {
		s.log.WarnContext(ctx, "attendance: too many writes waiting for the store; the oldest dropped", "room", roomName)
	}
	s.log.InfoContext(ctx, "attendance: store unavailable; written when it answers", "room", roomName, "participant", w.rec.ID, "leave", w.leave)
}

// flushAttendance writes a room's pending attendance in order, stopping
// at the first write the store cannot take.
func (s *Service) flushAttendance(ctx context.Context, name string, ws []attendanceWrite) error {
	for _, w := range ws {
		if err := s.settle(ctx, name, "attendance", s.writeAttendance(ctx, name, w)); err != nil {
			return err
		}
		s.written(name, func(q *pendingRoom) {
			q.attendance = slices.DeleteFunc(q.attendance, func(x attendanceWrite) bool { return x.seq == w.seq })
		})
	}
	return nil
}

func (s *Service) writeAttendance(ctx context.Context, name string, w attendanceWrite) error {
	if !w.rec.JoinedAt.IsZero() {
		if err := s.store.RecordJoin(ctx, name, w.rec); err != nil {
			return err
		}
	}
	if w.leave {
		return s.store.RecordLeave(ctx, name, w.rec.ID, w.rec.LeftAt)
	}
	return nil
}

// seatRecord is p's attendance record as this node knows it, the arrival
// time standing for when the seat was taken, if p is seated in a room
// whose stored configuration this node knows; else ok is false.
func (s *Service) seatRecord(roomName string, p room.Participant) (rec room.PresenceRecord, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !p.State.Seated() || s.rooms[roomName].cfg == nil || p.JoinedAt.IsZero() {
		return room.PresenceRecord{}, false
	}
	return presenceRecord(p, p.JoinedAt), true
}

func presenceRecord(p room.Participant, at time.Time) room.PresenceRecord {
	return room.PresenceRecord{ID: p.ID, Identity: p.Identity, Name: p.Name, Role: p.Role, JoinedAt: at.UTC()}
}
