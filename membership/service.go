package membership

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/hearth-rtc/hearth/room"
)

// AllWaiting as the target of Admit or Deny means everyone waiting.
const AllWaiting = "*"

// DefaultMaxWaiting caps a room's waiting room, so knock spam cannot grow
// it without bound.
const DefaultMaxWaiting = 100

// ServiceConfig configures NewService.
type ServiceConfig struct {
	Store Store // required
	// Secret is the HMAC key of join tokens (at least MinSecretLen bytes).
	Secret []byte
	// NodeID names this server process in presence records (required).
	NodeID string
	Logger *slog.Logger // slog.Default() if nil
	// Now is the clock for tokens and join times; time.Now if nil.
	Now func() time.Time
	// HeartbeatInterval is how often Run refreshes this node's presences;
	// DefaultHeartbeatInterval if zero. Keep it well under the store TTL.
	HeartbeatInterval time.Duration
	// PresenceTTL is the store's presence lifetime (DefaultPresenceTTL if
	// zero): a node that could not refresh its presences for about that
	// long writes back those the store let expire (recovery.go).
	PresenceTTL time.Duration
	// MaxWaiting caps each room's waiting room; DefaultMaxWaiting if zero.
	MaxWaiting int
	// OnGone, if set, is called from Run (one call at a time) for each
	// participant hosted here that is no longer in the store: denied or
	// removed from another node, or expired. The caller should close its
	// connection. It must not block for long.
	OnGone func(roomName, participantID string)
}

// Service is what the signaling layer calls: admission, the waiting room,
// lock and presence upkeep for the participants hosted on this node.
type Service struct {
	store      Store
	secret     []byte
	node       string
	log        *slog.Logger
	now        func() time.Time
	interval   time.Duration
	ttl        time.Duration
	maxWaiting int
	onGone     func(roomName, id string)

	mu      sync.Mutex
	local   map[string]map[string]room.Participant // room -> id -> hosted here, as last known
	rooms   map[string]hostedRoom                  // what is known of the rooms in local
	pending map[string]pendingRoom                 // changes not yet written to the store (pending.go)
	beats   map[string]time.Time                   // room -> when its presences were last refreshed

	flushMu sync.Mutex // serializes writing pending changes
	beatMu  sync.Mutex // serializes heartbeats of a room (recovery.go)

	recMu sync.Mutex // serializes epoch checks and restores (recovery.go)
	epoch string     // the store's epoch last seen
}

// NewService checks cfg and returns a Service. Call Run to keep presences
// alive.
func NewService(cfg ServiceConfig) (*Service, error) {
	if cfg.Store == nil {
		return nil, errf("service needs a store")
	}
	if cfg.NodeID == "" {
		return nil, errf("service needs a node id")
	}
	if len(cfg.Secret) < room.MinSecretLen {
		return nil, errf("token secret must be at least %d bytes", room.MinSecretLen)
	}
	s := &Service{
		store:      cfg.Store,
		secret:     append([]byte(nil), cfg.Secret...),
		node:       cfg.NodeID,
		log:        cfg.Logger,
		now:        cfg.Now,
		interval:   cfg.HeartbeatInterval,
		ttl:        cfg.PresenceTTL,
		maxWaiting: cfg.MaxWaiting,
		onGone:     cfg.OnGone,
		local:      make(map[string]map[string]room.Participant),
		rooms:      make(map[string]hostedRoom),
		pending:    make(map[string]pendingRoom),
		beats:      make(map[string]time.Time),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.interval <= 0 {
		s.interval = DefaultHeartbeatInterval
	}
	if s.ttl <= 0 {
		s.ttl = DefaultPresenceTTL
	}
	if s.maxWaiting <= 0 {
		s.maxWaiting = DefaultMaxWaiting
	}
	return s, nil
}

// JoinRequest is a join message, as received.
type JoinRequest struct {
	Room     string
	Name     string // ignored when the token carries a name
	Token    string // optional for open rooms
	Passcode string
}

// JoinStatus says whether a join entered the session or the waiting room.
type JoinStatus string

const (
	JoinAdmitted JoinStatus = "admitted"
	JoinWaiting  JoinStatus = "waiting"
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
	a := room.Arrival{Name: req.Name, Passcode: req.Passcode}
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
// capacity) do not, since the seat is already theirs.
func (s *Service) takeOverable(sess room.Session, a room.Arrival, d room.Decision) (room.Participant, bool) {
	if !a.HasToken || a.Identity == "" {
		return room.Participant{}, false
	}
	cur, ok := sess.FindIdentity(a.Identity)
	if !ok {
		return room.Participant{}, false
	}
	if d.Outcome == room.OutcomeRefuse && d.Code != room.CodeRoomLocked && d.Code != room.CodeRoomFull {
		return room.Participant{}, false
	}
	return cur, true
}

// takeOver answers a join by an identity already present. A presence
// hosted on this node is handed over as it is (JoinResult.TakeOver): the
// caller moves it from the older connection to the newer. One hosted
// elsewhere is ended there (that node finds it gone and disconnects it)
// and the arrival decided afresh here.
func (s *Service) takeOver(ctx context.Context, cfg room.RoomConfig, sess room.Session, cur room.Participant) (JoinResult, error) {
	if cur.Node != s.node {
		if _, err := s.store.RemovePresence(ctx, cur.Room, cur.ID); err != nil && !errors.Is(err, room.ErrNotFound) {
			return JoinResult{}, fmt.Errorf("join %q: %w", cur.Room, err)
		}
		s.log.InfoContext(ctx, "join takes over a presence from another node", "room", cur.Room, "participant", cur.ID, "node", cur.Node)
		return JoinResult{}, errRetryJoin
	}
	s.track(cur)
	s.rememberRoom(cur.Room, cfg)
	res := JoinResult{Participant: cur, Room: roomInfo(cfg, sess.Locked), TakeOver: true}
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
	return room.Info{Name: cfg.Name, Kind: cfg.Kind, Locked: locked, MembersJoinMuted: cfg.MembersJoinMuted}
}

// Room returns the room's stored configuration, or DefaultRoomConfig when
// none is stored (drop-in open room).
func (s *Service) Room(ctx context.Context, name string) (room.RoomConfig, error) {
	cfg, err := s.store.GetRoom(ctx, name)
	if errors.Is(err, room.ErrNotFound) {
		return room.DefaultRoomConfig(name), nil
	}
	if err != nil {
		return room.RoomConfig{}, fmt.Errorf("room %q: %w", name, err)
	}
	return cfg, nil
}

// Leave removes a participant (a waiting one too). Leaving twice is not an
// error.
func (s *Service) Leave(ctx context.Context, roomName, id string) error {
	s.untrack(roomName, id)
	_, err := s.store.RemovePresence(ctx, roomName, id)
	if err != nil && !errors.Is(err, room.ErrNotFound) {
		return fmt.Errorf("leave: %w", err)
	}
	return nil
}

// authorize returns the session and the caller, who must hold a seat and a
// role with perm; otherwise ErrForbidden.
func (s *Service) authorize(ctx context.Context, roomName, by string, perm room.Permission) (room.Session, room.Participant, error) {
	if _, err := s.sync(ctx); err != nil {
		return room.Session{}, room.Participant{}, fmt.Errorf("room %q: %w", roomName, err)
	}
	sess, err := s.store.Session(ctx, roomName)
	if err != nil {
		return room.Session{}, room.Participant{}, fmt.Errorf("room %q: %w", roomName, err)
	}
	actor, ok := sess.Find(by)
	if !ok || !actor.State.Seated() {
		return room.Session{}, room.Participant{}, fmt.Errorf("%w: %q is not in the session", room.ErrForbidden, by)
	}
	if !actor.Role.Can(perm) {
		return room.Session{}, room.Participant{}, fmt.Errorf("%w: role %s may not %s", room.ErrForbidden, actor.Role, perm)
	}
	return sess, actor, nil
}

// waitingTargets resolves a target (an id or AllWaiting) to waiting
// participants; a single id that is not waiting is ErrNotFound.
func waitingTargets(sess room.Session, target string) ([]room.Participant, error) {
	if target == AllWaiting {
		return sess.Waiting(), nil
	}
	p, ok := sess.Find(target)
	if !ok || p.State != room.StateWaiting {
		return nil, fmt.Errorf("%q is not in the waiting room: %w", target, room.ErrNotFound)
	}
	return []room.Participant{p}, nil
}

// Admit moves one waiting participant, or all (target AllWaiting, oldest
// first), into the session. The caller (by) needs PermAdmit. Capacity is
// checked atomically per admission: when the room fills up, Admit returns
// those admitted so far and an error wrapping ErrRoomFull. Admitted
// participants keep their connection; their node sends them "joined".
func (s *Service) Admit(ctx context.Context, roomName, by, target string) ([]room.Participant, error) {
	sess, actor, err := s.authorize(ctx, roomName, by, room.PermAdmit)
	if err != nil {
		return nil, err
	}
	targets, err := waitingTargets(sess, target)
	if err != nil {
		return nil, err
	}
	cfg, err := s.Room(ctx, roomName)
	if err != nil {
		return nil, err
	}
	admitted := []room.Participant{}
	for _, t := range targets {
		limit := cfg.Seats()
		if t.Role.IsFacilitator() {
			limit = 0
		}
		p, err := s.store.SetState(ctx, roomName, t.ID, room.StateActive, "", limit)
		switch {
		case errors.Is(err, room.ErrNotFound) && target == AllWaiting:
			continue // left meanwhile
		case err != nil:
			return admitted, fmt.Errorf("admit %q: %w", t.ID, err)
		}
		admitted = append(admitted, p)
		s.remember(p)
		s.log.InfoContext(ctx, "admitted", "room", roomName, "participant", p.ID, "by", actor.ID)
	}
	return admitted, nil
}

// Deny removes one waiting participant, or all, from the waiting room and
// returns them; their connection gets "denied". The caller needs PermAdmit.
// Denied participants hosted here are forgotten at once (the caller tells
// them); those on other nodes are reported by that node's OnGone.
func (s *Service) Deny(ctx context.Context, roomName, by, target string) ([]room.Participant, error) {
	sess, actor, err := s.authorize(ctx, roomName, by, room.PermAdmit)
	if err != nil {
		return nil, err
	}
	targets, err := waitingTargets(sess, target)
	if err != nil {
		return nil, err
	}
	denied := []room.Participant{}
	for _, t := range targets {
		p, err := s.store.RemovePresence(ctx, roomName, t.ID)
		switch {
		case errors.Is(err, room.ErrNotFound) && target == AllWaiting:
			continue
		case err != nil:
			return denied, fmt.Errorf("deny %q: %w", t.ID, err)
		}
		s.untrack(roomName, p.ID)
		denied = append(denied, p)
		s.log.InfoContext(ctx, "denied", "room", roomName, "participant", p.ID, "by", actor.ID)
	}
	return denied, nil
}

// Remove takes a participant out of the session and, with block, refuses
// that identity (code blocked) for the rest of the session. The caller needs
// PermModerate and may not remove someone of a higher role. While the store
// cannot answer, it takes effect here and is written later (pending.go);
// only someone hosted here can be removed then (else ErrUnavailable).
func (s *Service) Remove(ctx context.Context, roomName, by, target string, block bool) (room.Participant, error) {
	sess, actor, err := s.authorize(ctx, roomName, by, room.PermModerate)
	stored := err == nil
	if unreachable(err) {
		actor, err = s.authorizeHere(roomName, by, room.PermModerate)
	}
	if err != nil {
		return room.Participant{}, err
	}
	t, ok := sess.Find(target)
	if !stored {
		if t, ok = s.hostedHere(roomName, target); !ok {
			return room.Participant{}, fmt.Errorf("remove %q: not hosted here: %w", target, room.ErrUnavailable)
		}
	}
	if !ok {
		return room.Participant{}, fmt.Errorf("participant %q: %w", target, room.ErrNotFound)
	}
	if t.Role.Outranks(actor.Role) {
		return room.Participant{}, fmt.Errorf("%w: cannot remove a %s", room.ErrForbidden, t.Role)
	}
	// Written in order: the block first, so the identity cannot slip back
	// in between.
	s.removeHere(roomName, t, block)
	if err := s.flush(ctx); err != nil {
		s.log.WarnContext(ctx, "remove: store unavailable; written when it answers", "room", roomName, "participant", t.ID, "err", err)
	}
	s.log.InfoContext(ctx, "removed", "room", roomName, "participant", t.ID, "identity", t.Identity, "blocked", block, "by", actor.ID)
	return t, nil
}

// Lock locks or unlocks the session; the caller needs PermModerate. While
// the store cannot answer, the lock takes effect here and is written later
// (pending.go).
func (s *Service) Lock(ctx context.Context, roomName, by string, locked bool) error {
	_, actor, err := s.authorize(ctx, roomName, by, room.PermModerate)
	if unreachable(err) {
		actor, err = s.authorizeHere(roomName, by, room.PermModerate)
	}
	if err != nil {
		return err
	}
	s.setLock(roomName, locked)
	if err := s.flush(ctx); err != nil {
		s.log.WarnContext(ctx, "lock: store unavailable; written when it answers", "room", roomName, "err", err)
	}
	s.log.InfoContext(ctx, "lock changed", "room", roomName, "locked", locked, "by", actor.ID)
	return nil
}

// SetReconnecting marks a seated participant as reconnecting (seat kept)
// or back to active. A waiting participant cannot use it to get a seat.
func (s *Service) SetReconnecting(ctx context.Context, roomName, id string, reconnecting bool) (room.Participant, error) {
	sess, err := s.store.Session(ctx, roomName)
	if err != nil {
		return room.Participant{}, fmt.Errorf("room %q: %w", roomName, err)
	}
	p, ok := sess.Find(id)
	if !ok {
		return room.Participant{}, fmt.Errorf("participant %q: %w", id, room.ErrNotFound)
	}
	if !p.State.Seated() {
		return room.Participant{}, fmt.Errorf("%w: participant %q is waiting", room.ErrForbidden, id)
	}
	state := room.StateActive
	if reconnecting {
		state = room.StateReconnecting
	}
	p, err = s.store.SetState(ctx, roomName, id, state, "", 0)
	if err != nil {
		return room.Participant{}, fmt.Errorf("set state of %q: %w", id, err)
	}
	s.remember(p)
	return p, nil
}

// Session returns the live session (everyone present, lock, blocked).
func (s *Service) Session(ctx context.Context, roomName string) (room.Session, error) {
	sess, err := s.store.Session(ctx, roomName)
	if err != nil {
		return room.Session{}, fmt.Errorf("room %q: %w", roomName, err)
	}
	return sess, nil
}

// WaitingList returns the waiting room, oldest first (name, identity and
// JoinedAt as "since"), for the protocol's waiting_list message.
func (s *Service) WaitingList(ctx context.Context, roomName string) ([]room.Participant, error) {
	sess, err := s.Session(ctx, roomName)
	if err != nil {
		return nil, err
	}
	return sess.Waiting(), nil
}

// RosterLine is one roster entry with its live presence (none or one: a
// room has one seat per identity).
type RosterLine struct {
	room.RosterEntry
	Present []room.Participant `json:"present"`
}

// RosterView is a room's roster joined with its live session.
type RosterView struct {
	Room    room.Info    `json:"room"`
	Entries []RosterLine `json:"entries"`
	// Guests are present participants not on the roster (open rooms).
	Guests []room.Participant `json:"guests"`
}

// Roster returns the roster with who is present now.
func (s *Service) Roster(ctx context.Context, roomName string) (RosterView, error) {
	cfg, err := s.Room(ctx, roomName)
	if err != nil {
		return RosterView{}, err
	}
	sess, err := s.Session(ctx, roomName)
	if err != nil {
		return RosterView{}, err
	}
	v := RosterView{Room: roomInfo(cfg, sess.Locked), Entries: []RosterLine{}, Guests: []room.Participant{}}
	index := map[string]int{}
	for i, e := range cfg.Roster {
		index[e.Identity] = i
		v.Entries = append(v.Entries, RosterLine{RosterEntry: e, Present: []room.Participant{}})
	}
	for _, p := range sess.Participants {
		if i, ok := index[p.Identity]; ok {
			v.Entries[i].Present = append(v.Entries[i].Present, p)
		} else {
			v.Guests = append(v.Guests, p)
		}
	}
	return v, nil
}

// Heartbeat writes what changed here while the store was unreachable,
// refreshes, once, every presence hosted on this node, and reports to
// OnGone those the store no longer has, unless the store lost its data:
// then they are written back instead (see recovery.go). Run calls it.
func (s *Service) Heartbeat(ctx context.Context) error {
	var errs []error
	// Changes made here while the store was unreachable are written first
	// (pending.go); the presences are refreshed whatever comes of it.
	if _, err := s.sync(ctx); err != nil {
		errs = append(errs, err)
	}
	for roomName, ids := range s.snapshot() {
		if err := s.heartbeatRoom(ctx, roomName, ids); err != nil {
			errs = append(errs, err)
		}
	}
	s.refresh(ctx)
	return errors.Join(errs...)
}

// Run heartbeats every HeartbeatInterval until ctx ends, then returns nil.
// Store failures are logged and retried on the next tick.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := s.Heartbeat(ctx); err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "heartbeat failed", "err", err)
			}
		}
	}
}

// Hosted returns the ids hosted on this node in room, sorted.
func (s *Service) Hosted(roomName string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.local[roomName]))
	for id := range s.local[roomName] {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func (s *Service) track(p room.Participant) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.local[p.Room] == nil {
		s.local[p.Room] = map[string]room.Participant{}
		s.beats[p.Room] = s.now()
	}
	s.local[p.Room][p.ID] = p
}

// untrack forgets a local participant and reports whether it was tracked.
func (s *Service) untrack(roomName, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.local[roomName][id]; !ok {
		return false
	}
	delete(s.local[roomName], id)
	if len(s.local[roomName]) == 0 {
		delete(s.local, roomName)
		delete(s.beats, roomName)
	}
	return true
}

func (s *Service) snapshot() map[string][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string][]string, len(s.local))
	for roomName, ids := range s.local {
		for id := range ids {
			out[roomName] = append(out[roomName], id)
		}
	}
	return out
}

// randomHex returns 2n hex digits from crypto/rand, so ids generated on
// different nodes do not collide in practice and reveal no join order.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails since Go 1.24 (it aborts the process instead)
	return hex.EncodeToString(b)
}
