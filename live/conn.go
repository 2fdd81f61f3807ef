package live

import (
	"context"
	"errors"
	"time"

	"github.com/hearth-rtc/hearth/room"
)

// Conn is how a room reaches one participant's client: signaling's
// websocket implements it, and so could a relay to a client connected to
// another node. A room holds no other handle on a client.
type Conn interface {
	// Send queues one server message for the client and never blocks: a
	// value of a protocol message type, or a json.RawMessage holding one
	// already encoded (a broadcast is encoded once for everyone). The
	// transport remembers joined's resume secret as this connection's. A
	// client too slow to take its messages is the transport's to cut off.
	Send(msg any)
	// Close ends the connection's part in the room: the participant was
	// released (removed, denied, the session ended, the seat expired) or
	// its seat moved to a newer connection. last, if not nil, is the final
	// message, a protocol.Bye or a protocol.Error whose code ends the
	// connection; the transport sends it if the client is still there,
	// then closes. What is sent after Close is dropped. Close is not called
	// for a connection whose transport ended it itself (Room.Leave and
	// Room.Drop).
	Close(last any)
}

// Door is what a live room asks of membership, the record of who is in
// which room: it writes what facilitators decided and what people did,
// and reads the room's description and waiting room. Room authorizes
// every command before it asks; the door checks nothing more of the
// caller. *membership.Service implements it.
type Door interface {
	// Admit seats one waiting participant, or everyone waiting (target
	// "*", oldest first), and returns them; when the room fills up it
	// returns those admitted so far and an error wrapping room.ErrRoomFull.
	Admit(ctx context.Context, roomName, target string) ([]room.Participant, error)
	// Deny takes one waiting participant, or everyone waiting (target
	// "*"), out of the waiting room and returns them.
	Deny(ctx context.Context, roomName, target string) ([]room.Participant, error)
	// Remove takes a participant out of the session and, with block,
	// refuses its identity for the rest of the session. It takes effect
	// even while the store cannot be reached (written when it answers).
	Remove(ctx context.Context, roomName, target string, block bool) (room.Participant, error)
	// Lock locks or unlocks the room, also while the store cannot be
	// reached.
	Lock(ctx context.Context, roomName string, locked bool) error
	// Leave records that a participant left; leaving twice is no error,
	// and neither is a store that cannot be reached (it is written when
	// the store answers).
	Leave(ctx context.Context, roomName, id string) error
	// SetReconnecting marks a seat as held for a dropped connection, or
	// as active again.
	SetReconnecting(ctx context.Context, roomName, id string, reconnecting bool) (room.Participant, error)
	// RoomInfo describes the room to the people in it, from what this
	// node knows when the store cannot answer.
	RoomInfo(ctx context.Context, roomName string) room.Info
	// WaitingList returns the room's waiting room, oldest first.
	WaitingList(ctx context.Context, roomName string) ([]room.Participant, error)
	// Room returns the room's configuration (its roster, for rounds in
	// roster order).
	Room(ctx context.Context, roomName string) (room.RoomConfig, error)
	// Roll returns who is expected, here, waiting or missing, and who has
	// accepted the room's agreement (room.BuildRoll).
	Roll(ctx context.Context, roomName string) (room.Roll, error)
	// Mirror writes the room's controls (Controls.Mirror) for a node that
	// takes the room over, in the term the room took as it opened
	// (MirrorTerm); an earlier term, or a version not newer than the one
	// written in the same term, changes nothing. An error wrapping
	// room.ErrNotFound: the session is over, and there is nothing to
	// write.
	Mirror(ctx context.Context, roomName string, term, version uint64, data []byte) error
	// MirrorTerm starts a term of the room's mirror for this node, as it
	// opens the room: greater than any term before, so that from then on
	// the writes of a node that ran the room before this one change
	// nothing, whatever their version.
	MirrorTerm(ctx context.Context, roomName string) (uint64, error)
	// Mirrored returns the controls the room's previous node last wrote;
	// ok is false when there are none.
	Mirrored(ctx context.Context, roomName string) (version uint64, data []byte, ok bool, err error)
	// LetGo stops keeping a participant's presence alive from this node
	// and leaves it in the store, for the room's node to take over (a
	// join of the same identity adopts it); untouched, it expires.
	LetGo(roomName, id string)
	// Adopt makes this node host a seated participant of the room's
	// previous node, its seat held (reconnecting) until its client comes
	// back; seen is when that node last refreshed it (its last sign of
	// life). An error wrapping room.ErrNotFound if it is gone.
	Adopt(ctx context.Context, roomName, id string) (p room.Participant, seen time.Time, err error)
	// YieldSeats keeps, for the room's node, the seats this node gives up
	// (two nodes ran the room at once): by the key of each seat's resume
	// secret, its participant id (yield_room.go).
	YieldSeats(ctx context.Context, roomName string, seats map[string]string) error
	// TakeYielded returns, once, the participant id of a seat another
	// node gave up with resume key key. An error wrapping
	// room.ErrNotFound if there is none.
	TakeYielded(ctx context.Context, roomName, key string) (string, error)
}

// Errors of a room's operations that are not refusals of a command (those
// are room.RefusedError). The transport says them to the client.
var (
	// ErrNotSeated: the connection holds no place in the room (never
	// joined, left, or its seat moved to another connection).
	ErrNotSeated = errors.New("live: not seated")
	// ErrWaiting: the sender is in the waiting room.
	ErrWaiting = errors.New("live: in the waiting room")
	// ErrNotHeld: a resume found no seat held for that connection.
	ErrNotHeld = errors.New("live: seat not held")
	// ErrClosed: the rooms are closed (the server is shutting down).
	ErrClosed = errors.New("live: closed")
)
