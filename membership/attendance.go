package membership

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hearth-rtc/hearth/room"
)

// Attendance and the group agreement: the service records when seats are
// taken and let go (metadata only, and only in rooms with a stored
// configuration, so nobody can make the store keep data by joining made-up
// rooms), and when people accept a room's agreement; it reads both back.

// RecordJoined records that p took a seat at at: admitted from the
// waiting room, or seated on arrival. Join and Admit call it; whoever
// seats someone another way calls it too. A seat kept through a dropped
// connection (resume, take-over) is the same seat: nothing to record.
// Rooms without a stored configuration keep no attendance.
func (s *Service) RecordJoined(ctx context.Context, p room.Participant, at time.Time) error {
	cfg, err := s.store.GetRoom(ctx, p.Room)
	if errors.Is(err, room.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("record join in %q: %w", p.Room, err)
	}
	return s.recordJoin(ctx, cfg, p, at)
}

// RecordLeft records that the seat id was let go at at: the person left,
// was removed, or did not come back within the reconnect grace. Leave
// and Remove call it. The first leave of a seat counts; a seat with no
// record (a waiting participant, a drop-in room) is not an error.
func (s *Service) RecordLeft(ctx context.Context, roomName, id string, at time.Time) error {
	err := s.store.RecordLeave(ctx, roomName, id, at)
	if err != nil && !errors.Is(err, room.ErrNotFound) {
		return fmt.Errorf("record leave in %q: %w", roomName, err)
	}
	return nil
}

func (s *Service) recordJoin(ctx context.Context, cfg room.RoomConfig, p room.Participant, at time.Time) error {
	if cfg.CreatedAt.IsZero() {
		return nil // a drop-in room's default configuration
	}
	rec := room.PresenceRecord{ID: p.ID, Identity: p.Identity, Name: p.Name, Role: p.Role, JoinedAt: at.UTC()}
	if err := s.store.RecordJoin(ctx, p.Room, rec); err != nil {
		return fmt.Errorf("record join in %q: %w", p.Room, err)
	}
	return nil
}

// recordJoined and recordLeft are the hooks of Join, Admit, Leave and
// Remove: attendance is kept on the side, so a failure costs nobody their
// seat. What the store cannot take now is written when it answers
// (pendingattendance.go); what it refuses is logged.
func (s *Service) recordJoined(ctx context.Context, cfg room.RoomConfig, p room.Participant, at time.Time) {
	err := s.recordJoin(ctx, cfg, p, at)
	switch {
	case err == nil:
	case unreachable(err):
		s.queueAttendance(ctx, p.Room, attendanceWrite{rec: presenceRecord(p, at)})
	default:
		s.log.WarnContext(ctx, "attendance: join not recorded", "room", p.Room, "participant", p.ID, "err", err)
	}
}

// recordLeft records that p's seat (p.ID; the rest of p if known) was let
// go now.
func (s *Service) recordLeft(ctx context.Context, roomName string, p room.Participant) {
	at := s.now()
	err := s.RecordLeft(ctx, roomName, p.ID, at)
	switch {
	case err == nil:
	case unreachable(err):
		s.queueLeft(ctx, roomName, p, at)
	default:
		s.log.WarnContext(ctx, "attendance: leave not recorded", "room", roomName, "participant", p.ID, "err", err)
	}
}

// queueLeft keeps p's leave at at for the store, with p's seat when this
// node knows it (seatRecord).
func (s *Service) queueLeft(ctx context.Context, roomName string, p room.Participant, at time.Time) {
	rec, ok := s.seatRecord(roomName, p)
	if !ok {
		rec = room.PresenceRecord{ID: p.ID}
	}
	rec.LeftAt = at.UTC()
	s.queueAttendance(ctx, roomName, attendanceWrite{rec: rec, leave: true})
}

// Attendance returns a room's attendance by session (room.BuildAttendance)
// as of now. ErrNotFound if the room has no stored configuration.
func (s *Service) Attendance(ctx context.Context, roomName string) ([]room.SessionAttendance, error) {
	return ReadAttendance(ctx, s.store, roomName, s.now())
}

// ReadAttendance reads a room's configuration, presence records,
// acceptances and who is seated now from st, and sorts them into
// sessions as of now (room.BuildAttendance). ErrNotFound if the room has
// no stored configuration.
func ReadAttendance(ctx context.Context, st Store, roomName string, now time.Time) ([]room.SessionAttendance, error) {
	cfg, err := st.GetRoom(ctx, roomName)
	if err != nil {
		return nil, err
	}
	end := now.Add(time.Second)
	recs, err := st.Attendance(ctx, roomName, time.Time{}, end)
	if err != nil {
		return nil, err
	}
	accs, err := st.Acceptances(ctx, roomName, time.Time{}, end)
	if err != nil {
		return nil, err
	}
	sess, err := st.Session(ctx, roomName)
	if err != nil {
		return nil, err
	}
	present := map[string]bool{}
	for _, p := range sess.Seated() {
		present[p.ID] = true
	}
	return room.BuildAttendance(room.AttendanceInput{Config: cfg, Records: recs, Acceptances: accs, Present: present,
		Now: now, Since: now.Add(-st.AttendanceRetention())}), nil
}

// AgreementStatus is where a person stands with a room's agreement.
type AgreementStatus struct {
	// Agreement is the room's; nil when it has none (nothing to accept).
	Agreement *room.Agreement
	// Version is the agreement text's (room.Agreement.Version).
	Version string
	// Accepted: an acceptance lets the person in now
	// (room.RoomConfig.AcceptanceCovers); AcceptedAt is when it was made.
	Accepted   bool
	AcceptedAt time.Time
}

// AgreementStatus says whether identity must accept the room's agreement
// before entering now, and shows the agreement to accept.
func (s *Service) AgreementStatus(ctx context.Context, roomName, identity string) (AgreementStatus, error) {
	cfg, err := s.Room(ctx, roomName)
	if err != nil {
		return AgreementStatus{}, err
	}
	if cfg.Agreement == nil {
		return AgreementStatus{Accepted: true}, nil
	}
	a := *cfg.Agreement
	st := AgreementStatus{Agreement: &a, Version: a.Version()}
	accs, err := s.acceptances(ctx, cfg, s.now())
	if err != nil {
		return AgreementStatus{}, err
	}
	if acc, ok := accs[identity]; ok {
		st.Accepted, st.AcceptedAt = true, acc.At
	}
	return st, nil
}

// AcceptAgreement records that identity accepts the room's agreement as
// it reads now. Refused (bad_request) when the room has none or identity
// is not valid.
func (s *Service) AcceptAgreement(ctx context.Context, roomName, identity string) (room.Acceptance, error) {
	cfg, err := s.Room(ctx, roomName)
	if err != nil {
		return room.Acceptance{}, err
	}
	if cfg.Agreement == nil {
		return room.Acceptance{}, room.Refuse(room.CodeBadRequest, "This room has no group agreement to accept.", nil)
	}
	acc := room.Acceptance{Identity: identity, Version: cfg.Agreement.Version(), At: s.now().UTC()}
	if err := s.store.RecordAcceptance(ctx, roomName, acc); err != nil {
		return room.Acceptance{}, fmt.Errorf("accept agreement in %q: %w", roomName, err)
	}
	s.log.InfoContext(ctx, "agreement accepted", "room", roomName, "identity", identity, "version", acc.Version)
	return acc, nil
}

// Accepted returns, for everyone whose acceptance lets them in now, their
// latest acceptance (for the facilitator's view of who has accepted).
// Empty when the room has no agreement.
func (s *Service) Accepted(ctx context.Context, roomName string) (map[string]room.Acceptance, error) {
	cfg, err := s.Room(ctx, roomName)
	if err != nil {
		return nil, err
	}
	if cfg.Agreement == nil {
		return map[string]room.Acceptance{}, nil
	}
	return s.acceptances(ctx, cfg, s.now())
}

// acceptances returns each identity's latest acceptance that covers now.
func (s *Service) acceptances(ctx context.Context, cfg room.RoomConfig, now time.Time) (map[string]room.Acceptance, error) {
	list, err := s.store.Acceptances(ctx, cfg.Name, time.Time{}, now.Add(time.Second))
	if err != nil {
		return nil, fmt.Errorf("acceptances in %q: %w", cfg.Name, err)
	}
	out := map[string]room.Acceptance{}
	for _, a := range list { // oldest first: the latest wins
		if cfg.AcceptanceCovers(a, now) {
			out[a.Identity] = a
		}
	}
	return out, nil
}
