package membership

import (
	"context"
	"fmt"
	"time"

	"github.com/hearth-rtc/hearth/room"
)

// Presence timing defaults. A participant whose node stops heartbeating
// disappears within DefaultPresenceTTL (well inside the 15 s promise).
const (
	DefaultPresenceTTL       = 10 * time.Second
	DefaultHeartbeatInterval = 3 * time.Second
)

// Attendance defaults: how long presence records and agreement acceptances
// are kept, and how many of each one room keeps (the oldest go first).
const (
	DefaultAttendanceRetention  = 180 * 24 * time.Hour
	DefaultMaxAttendanceRecords = 20000
)

// Store holds room configurations (with rosters) and the live sessions (who
// is present, the waiting room, the lock, blocked identities). It is shared
// by every Hearth node; all methods are safe for concurrent use.
//
// Every method may fail with an error wrapping ErrUnavailable when the
// backing service cannot be reached, and returns the context's error (also
// wrapped) when ctx ends first. Arguments are validated: a bad room name or
// configuration wraps ErrInvalid.
type Store interface {
	// CreateRoom stores a new configuration (validated after Normalize) and
	// sets CreatedAt/UpdatedAt. ErrExists if the room already has one.
	CreateRoom(ctx context.Context, cfg room.RoomConfig) (room.RoomConfig, error)
	// GetRoom returns a stored configuration. ErrNotFound if none.
	GetRoom(ctx context.Context, name string) (room.RoomConfig, error)
	// UpdateRoom applies fn to the stored configuration and stores the
	// result (validated, UpdatedAt set) atomically: concurrent updates do
	// not lose each other's changes. fn may run more than once (optimistic
	// retry) and must not change Name; an error from fn aborts the update and
	// is returned as is. ErrNotFound if the room has no configuration.
	UpdateRoom(ctx context.Context, name string, fn func(*room.RoomConfig) error) (room.RoomConfig, error)
	// DeleteRoom removes a configuration, with the room's attendance and
	// agreement acceptances. The live session, if any, is left alone.
	// ErrNotFound if none.
	DeleteRoom(ctx context.Context, name string) error
	// ListRooms returns every stored configuration, sorted by name.
	ListRooms(ctx context.Context) ([]room.RoomConfig, error)

	// Session returns the live session of a room: present participants not
	// expired (sorted by JoinedAt, then ID), lock and blocked identities.
	// A room with nobody present returns an empty Session, not an error.
	Session(ctx context.Context, roomName string) (room.Session, error)
	// AddPresence adds p (ID, Room, Identity, Role, State required; JoinedAt
	// defaults to now) with a fresh TTL, atomically checking:
	//   - p.Identity is not blocked in the session: else ErrBlocked;
	//   - limit > 0 and p is seated (active/reconnecting): fewer than limit
	//     participants are seated; if p is waiting: fewer than limit are
	//     waiting. Else ErrRoomFull. limit <= 0 means no limit;
	//   - p.ID is not present already: else ErrExists;
	//   - p.Identity has no presence yet (one per person, seated or
	//     waiting): else ErrIdentityPresent.
	// This is where capacity is enforced: N racing calls for M < N seats
	// succeed exactly M times.
	AddPresence(ctx context.Context, p room.Participant, limit int) (room.Participant, error)
	// SetState moves a present participant to state (reason is kept only
	// for StateWaiting) and refreshes its TTL. Moving into a seated state
	// from the waiting room checks limit atomically like AddPresence
	// (ErrRoomFull). ErrNotFound if the participant is not present.
	SetState(ctx context.Context, roomName, id string, state room.State, reason room.WaitReason, limit int) (room.Participant, error)
	// RemovePresence removes a participant and returns it. When the last
	// participant goes, the session ends: lock and blocks are cleared.
	// ErrNotFound if it is not present (already gone or expired).
	RemovePresence(ctx context.Context, roomName, id string) (room.Participant, error)
	// Heartbeat refreshes the TTL of the given participants and returns the
	// ids that are no longer present (removed, denied or expired), which the
	// caller should disconnect.
	Heartbeat(ctx context.Context, roomName string, ids []string) (gone []string, err error)
	// SetLocked locks or unlocks the live session. ErrNotFound if nobody is
	// present (lock belongs to a session).
	SetLocked(ctx context.Context, roomName string, locked bool) error
	// SetBlocked blocks or unblocks an identity for the live session; it does
	// not remove anyone present. ErrNotFound if nobody is present.
	SetBlocked(ctx context.Context, roomName, identity string, blocked bool) error

	AttendanceStore
	MirrorStore

	// Ping checks that the store is reachable (for health checks).
	Ping(ctx context.Context) error
	// Close releases resources; later calls fail with ErrUnavailable.
	Close() error
}

// AttendanceStore keeps attendance, metadata only: when each seat was
// taken and let go, and when people accepted a room's agreement. Records
// older than the store's retention (DefaultAttendanceRetention unless set)
// are deleted and never returned, and a room keeps at most its limit of
// each kind (DefaultMaxAttendanceRecords unless set), dropping the oldest.
type AttendanceStore interface {
	// RecordJoin keeps rec (room.ValidatePresenceRecord; LeftAt is
	// ignored): a seat taken in roomName at rec.JoinedAt. A second record
	// with the same ID is ignored, the first kept; one older than the
	// retention is not kept. Both return nil.
	RecordJoin(ctx context.Context, roomName string, rec room.PresenceRecord) error
	// RecordLeave sets LeftAt of the record with id to at, unless it is set
	// already (the first leave counts). ErrNotFound if there is no such
	// record.
	RecordLeave(ctx context.Context, roomName, id string, at time.Time) error
	// Attendance returns the room's records with JoinedAt in [from, to),
	// sorted by JoinedAt, then ID.
	Attendance(ctx context.Context, roomName string, from, to time.Time) ([]room.PresenceRecord, error)
	// RecordAcceptance keeps acc (room.ValidateAcceptance). Recording the
	// same acceptance twice keeps one; one older than the retention is not
	// kept.
	RecordAcceptance(ctx context.Context, roomName string, acc room.Acceptance) error
	// Acceptances returns the room's acceptances with At in [from, to),
	// sorted by At, then identity.
	Acceptances(ctx context.Context, roomName string, from, to time.Time) ([]room.Acceptance, error)
	// AttendanceRetention is how long this store keeps attendance.
	AttendanceRetention() time.Duration
}

// ValidatePresence checks what every Store requires of a new participant;
// errors wrap ErrInvalid.
func ValidatePresence(p room.Participant) error {
	switch {
	case !room.ValidRoomName(p.Room):
		return room.CheckRoomName(p.Room)
	case p.ID == "":
		return errf("participant id is required")
	case p.Identity == "":
		return errf("participant identity is required")
	case !p.Role.Valid():
		return errf("participant role %q is invalid", p.Role)
	case !p.State.Valid():
		return errf("participant state %q is invalid", p.State)
	}
	return nil
}

// errf is an error wrapping room.ErrInvalid.
func errf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{room.ErrInvalid}, args...)...)
}
