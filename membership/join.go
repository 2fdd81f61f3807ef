package membership

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/hearth-rtc/hearth/room"
)

// The door: Join decides on an arrival (token, room.Decide against the
// stored session) and records its presence, and an identity already
// present takes its seat over rather than getting a second one.

// JoinRequest is a join message, as received.
type JoinRequest struct {
	Room     string
	Name     string // ignored when the token carries a name
	Token    string // optional for open rooms
	Passcode string
	// Agreement is the version of the room's group agreement the person
	// accepted at this door (accept_agreement), if any (agreement.go).
	Agreement string
}

// JoinStatus says whether a join entered the session or the waiting room.
type JoinStatus string

const (
	JoinAdmitted JoinStatus = "admitted"
	JoinWaiting  JoinStatus = "waiting"
	// JoinAgreement: not entered; the person is to accept the room's
	// group agreement first (agreement.go).
	JoinAgreement JoinStatus = "agreement"
)

// JoinResult is a successful Join: admitted, or waiting with a reason.
type JoinResult struct {
	Status      JoinStatus
	Participant room.Participant
	Room        room.Info
	// Reason is set when waiting (its Message is for the person).
	Reason room.WaitReason
	// Others are the seated participants besides this one (when admitted).
	Others []room.Participant
	// TakeOver says the identity was already present on this node:
	// Participant is that presence (same id), which the caller moves from
	// the older connection to this one.
	TakeOver bool
	// Adopted says that presence was another node's (the room's previous
	// owner) until this join: if no connection here holds it, the caller
	// seats the person, or puts them back in the waiting room, with it.
	Adopted bool
	// Agreement is set with JoinAgreement: the agreement to accept.
	Agreement *AgreementAsk
}

// Join decides on an arrival and records its presence on this node. A
// room has one seat per person: an invited identity already present is
// given that presence back (JoinResult.TakeOver) rather than a second one.
// Refusals are *RefusedError (use ErrorCode); a store failure wraps
// ErrUnavailable.
func (s *Service) Join(ctx context.Context, req JoinRequest) (JoinResult, error) {
	for attempt := 0; ; attempt++ {
		res, err := s.join(ctx, req)
		if !errors.Is(err, errRetryJoin) {
			return res, err
		}
		if attempt == 2 {
			return JoinResult{}, fmt.Errorf("join %q: %w: this person's other connection kept changing", req.Room, room.ErrUnavailable)
		}
	}
}

// errRetryJoin asks Join to decide again: the person's presence it was
// to take over went away or moved meanwhile.
var errRetryJoin = errors.New("room: decide the join again")

func (s *Service) join(ctx context.Context, req JoinRequest) (JoinResult, error) {
	if !room.ValidRoomName(req.Room) {
		return JoinResult{}, room.Refuse(room.CodeBadRequest, "The room name must be 1 to 64 letters, digits, dots, dashes or underscores.", nil)
	}
	a := room.Arrival{Name: req.Name, Passcode: req.Passcode, Passcodes: s.passcodes, At: s.now()}
	if req.Token != "" {
		c, err := room.VerifyTokenFor(s.secret, req.Token, req.Room, s.now())
		if err != nil {
			s.log.InfoContext(ctx, "join refused", "room", req.Room, "code", room.ErrorCode(err), "err", err)
			return JoinResult{}, room.Refuse(room.ErrorCode(err), tokenMessage(err), err)
		}
		a.Identity, a.Name, a.Role, a.HasToken = c.Identity, c.Name, c.Role, true
	}
	// If the store lost its data, the people here are written back before
	// the decision counts them (recovery.go).
	epoch, err := s.sync(ctx)
	if err != nil {
		return JoinResult{}, fmt.Errorf("join %q: %w", req.Room, err)
	}
	cfg, err := s.Room(ctx, req.Room)
	if err != nil {
		return JoinResult{}, err
	}
	sess, err := s.store.Session(ctx, req.Room)
	if err != nil {
		return JoinResult{}, fmt.Errorf("join %q: %w", req.Room, err)
	}
	d := room.Decide(cfg, sess, a)
	if cur, ok := s.takeOverable(sess, a, d); ok {
		return s.takeOver(ctx, cfg, sess, cur)
	}
	if d.Outcome == room.OutcomeRefuse {
		s.log.InfoContext(ctx, "join refused", "room", req.Room, "identity", a.Identity, "code", d.Code)
		return JoinResult{}, d.Err()
	}

	identity := a.Identity
	if identity == "" {
		identity = "anon-" + randomHex(4)
	}
	if ask, err := s.atTheDoor(ctx, cfg, req, identity, d.Role); ask != nil || err != nil {
		return JoinResult{Status: JoinAgreement, Room: roomInfo(cfg, sess.Locked), Agreement: ask}, err
	}
	p := room.Participant{Room: req.Room, Identity: identity, Name: d.Name, Role: d.Role, Node: s.node,
		State: room.StateActive, JoinedAt: s.now().UTC()}
	limit := cfg.Seats()
	if d.Outcome == room.OutcomeWait {
		p.State, p.Reason, limit = room.StateWaiting, d.Reason, s.maxWaiting
	} else if d.Role.IsFacilitator() {
		limit = 0 // a session must be able to start even when full
	}
	for attempt := 0; ; attempt++ {
		p.ID = "p_" + randomHex(4)
		p, err = s.store.AddPresence(ctx, p, limit)
		if errors.Is(err, room.ErrExists) && attempt < 3 {
			continue // id collision: draw again
		}
		break
	}
	if errors.Is(err, room.ErrIdentityPresent) {
		// Another connection of this person arrived meanwhile: take its
		// presence over instead.
		fresh, rerr := s.store.Session(ctx, req.Room)
		if rerr != nil {
			return JoinResult{}, fmt.Errorf("join %q: %w", req.Room, rerr)
		}
		if cur, ok := s.takeOverable(fresh, a, room.Decide(cfg, fresh, a)); ok {
			return s.takeOver(ctx, cfg, fresh, cur)
		}
		return JoinResult{}, errRetryJoin
	}
	switch {
	case errors.Is(err, room.ErrRoomFull) && d.Outcome == room.OutcomeWait:
		return JoinResult{}, room.Refuse(room.CodeRoomFull, "the waiting room is full", err)
	case errors.Is(err, room.ErrRoomFull):
		return JoinResult{}, room.Refuse(room.CodeRoomFull, "the room is full", err)
	case errors.Is(err, room.ErrBlocked):
		return JoinResult{}, room.Refuse(room.CodeBlocked, "you were removed from this session", err)
	case err != nil:
		return JoinResult{}, fmt.Errorf("join %q: %w", req.Room, err)
	}
	if err := s.unchanged(ctx, epoch); err != nil {
		if _, rerr := s.store.RemovePresence(ctx, p.Room, p.ID); rerr != nil && !errors.Is(rerr, room.ErrNotFound) {
			s.log.WarnContext(ctx, "join: undo", "room", p.Room, "participant", p.ID, "err", rerr)
		}
		return JoinResult{}, fmt.Errorf("join %q: %w", req.Room, err)
	}
	s.track(p)
	s.rememberRoom(p.Room, cfg)

	res := JoinResult{Participant: p, Room: roomInfo(cfg, sess.Locked)}
	if d.Outcome == room.OutcomeWait {
		res.Status, res.Reason = JoinWaiting, d.Reason
		s.log.InfoContext(ctx, "join waiting", "room", p.Room, "participant", p.ID, "identity", p.Identity, "reason", d.Reason)
		return res, nil
	}
	res.Status = JoinAdmitted
	s.recordJoined(ctx, cfg, p, s.now()) // attendance.go
	// Re-read so Others includes whoever was seated while we decided; the
	// earlier snapshot is a fallback, since the seat is already taken.
	if fresh, err := s.store.Session(ctx, req.Room); err == nil {
		sess = fresh
		res.Room.Locked = fresh.Locked
	} else {
		s.log.WarnContext(ctx, "join: session re-read failed", "room", p.Room, "err", err)
	}
	res.Others = []room.Participant{}
	for _, o := range sess.Seated() {
		if o.ID != p.ID {
			res.Others = append(res.Others, o)
		}
	}
	s.log.InfoContext(ctx, "join admitted", "room", p.Room, "participant", p.ID, "identity", p.Identity, "role", p.Role)
	return res, nil
}

// takeOverable returns the presence an arrival takes over: one seat per
// person, so an identity already present (a second tab, another device)
// gets that presence back, with its role, state and place, rather than a
// second one. The refusals that concern the person (blocked, not on the
// roster, passcode) still apply; those that concern a new seat (lock,
// capacity, a closed cohort's door) do not, since the seat is already
// theirs.
func (s *Service) takeOverable(sess room.Session, a room.Arrival, d room.Decision) (room.Participant, bool) {
	if !a.HasToken || a.Identity == "" {
		return room.Participant{}, false
	}
	cur, ok := sess.FindIdentity(a.Identity)
	if !ok {
		return room.Participant{}, false
	}
	if d.Outcome == room.OutcomeRefuse && d.Code != room.CodeRoomLocked && d.Code != room.CodeRoomFull && d.Code != room.CodeOutsideSession {
		return room.Participant{}, false
	}
	return cur, true
}

// takeOver answers a join by an identity already present: its presence
// is handed over as it is (JoinResult.TakeOver), and the caller moves it
// from the older connection to the newer. A presence hosted by another
// node, the room's previous owner (joins of a room are decided on the
// node that runs it), is adopted first: the person keeps their seat, id
// and role, and the session its lock, blocks and controls.
func (s *Service) takeOver(ctx context.Context, cfg room.RoomConfig, sess room.Session, cur room.Participant) (JoinResult, error) {
	adopted := false
	if cur.Node != s.node {
		from := cur.Node
		p, _, err := s.store.AdoptPresence(ctx, cur.Room, cur.ID, s.node)
		if errors.Is(err, room.ErrNotFound) {
			return JoinResult{}, errRetryJoin
		}
		if err != nil {
			return JoinResult{}, fmt.Errorf("join %q: %w", cur.Room, err)
		}
		cur = p
		adopted = true
		s.log.InfoContext(ctx, "join adopts a presence from another node", "room", cur.Room, "participant", cur.ID, "node", from)
	}
	s.track(cur)
	s.rememberRoom(cur.Room, cfg)
	res := JoinResult{Participant: cur, Room: roomInfo(cfg, sess.Locked), TakeOver: true, Adopted: adopted}
	if cur.State == room.StateWaiting {
		res.Status, res.Reason = JoinWaiting, cur.Reason
	} else {
		res.Status = JoinAdmitted
		res.Others = []room.Participant{}
		for _, o := range sess.Seated() {
			if o.ID != cur.ID {
				res.Others = append(res.Others, o)
			}
		}
	}
	s.log.InfoContext(ctx, "join takes over", "room", cur.Room, "participant", cur.ID, "identity", cur.Identity)
	return res, nil
}

func tokenMessage(err error) string {
	switch {
	case errors.Is(err, room.ErrTokenExpired):
		return "the invitation has expired"
	case errors.Is(err, room.ErrTokenNotYetValid):
		return "the invitation is not valid yet"
	case errors.Is(err, room.ErrWrongRoom):
		return "the invitation is for another room"
	}
	return "the invitation is not valid"
}

func roomInfo(cfg room.RoomConfig, locked bool) room.Info {
	info := room.Info{Name: cfg.Name, Kind: cfg.Kind, Locked: locked, MembersJoinMuted: cfg.MembersJoinMuted,
		DisplayName: cfg.Title(), ShareEnd: cfg.ShareEnd.OrStop()}
	if cfg.PeerLed.Members() {
		info.PeerLed = cfg.PeerLed
	}
	return info
}

// randomHex returns 2n hex digits from crypto/rand, so ids generated on
// different nodes do not collide in practice and reveal no join order.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails since Go 1.24 (it aborts the process instead)
	return hex.EncodeToString(b)
}
