package membership_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/room"
)

type harness struct {
	t     *testing.T
	store *membership.MemStore
	svc   *membership.Service
	ctx   context.Context

	mu   sync.Mutex
	gone []string
}

func newHarness(t *testing.T, opts ...func(*membership.ServiceConfig)) *harness {
	t.Helper()
	h := &harness{t: t, store: membership.NewMemStore(membership.MemStoreOptions{TTL: time.Minute})}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	h.ctx = ctx
	cfg := membership.ServiceConfig{
		Store: h.store, Secret: testSecret, NodeID: "node-a",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnGone: func(rm, id string) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.gone = append(h.gone, rm+"/"+id)
		},
	}
	for _, o := range opts {
		o(&cfg)
	}
	svc, err := membership.NewService(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.svc = svc
	return h
}

func (h *harness) create(cfg room.RoomConfig) {
	h.t.Helper()
	if _, err := h.store.CreateRoom(h.ctx, cfg); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) token(rm, id string, role room.Role) string {
	h.t.Helper()
	tok, err := room.IssueToken(testSecret, room.TokenParams{Room: rm, Identity: id, Name: "Name " + id, Role: role, TTL: time.Hour})
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

func (h *harness) join(req membership.JoinRequest) membership.JoinResult {
	h.t.Helper()
	res, err := h.svc.Join(h.ctx, req)
	if err != nil {
		h.t.Fatalf("join %+v: %v", req, err)
	}
	return res
}

func (h *harness) refused(req membership.JoinRequest, code room.Code) {
	h.t.Helper()
	res, err := h.svc.Join(h.ctx, req)
	var re *room.RefusedError
	if !errors.As(err, &re) || re.Code != code || room.ErrorCode(err) != code {
		h.t.Fatalf("join %+v = %+v, %v; want refusal %s", req, res, err, code)
	}
	if re.Message == "" {
		h.t.Fatal("refusal without a message")
	}
}

func TestJoinOpenDropIn(t *testing.T) {
	h := newHarness(t)
	a := h.join(membership.JoinRequest{Room: "drop-in", Name: " Ann "})
	if a.Status != membership.JoinAdmitted || a.Participant.Role != room.RoleMember || a.Participant.Name != "Ann" ||
		!strings.HasPrefix(a.Participant.Identity, "anon-") || len(a.Participant.ID) != 10 || !strings.HasPrefix(a.Participant.ID, "p_") ||
		a.Participant.Node != "node-a" || a.Participant.State != room.StateActive {
		t.Fatalf("anonymous join = %+v", a)
	}
	if a.Room != (room.Info{Name: "drop-in", Kind: room.KindOpen, DisplayName: "Drop in", ShareEnd: room.ShareEndStop}) || len(a.Others) != 0 {
		t.Fatalf("room info %+v, others %v", a.Room, a.Others)
	}
	b := h.join(membership.JoinRequest{Room: "drop-in", Name: "Bo"})
	if b.Participant.ID == a.Participant.ID || b.Participant.Identity == a.Participant.Identity {
		t.Fatal("ids not unique")
	}
	if len(b.Others) != 1 || b.Others[0].ID != a.Participant.ID {
		t.Fatalf("others = %+v", b.Others)
	}
	// An unconfigured room is not written to the store.
	if _, err := h.store.GetRoom(h.ctx, "drop-in"); !errors.Is(err, room.ErrNotFound) {
		t.Fatalf("drop-in room stored: %v", err)
	}
	f := h.join(membership.JoinRequest{Room: "drop-in", Token: h.token("drop-in", "sam", room.RoleFacilitator), Name: "ignored"})
	if f.Participant.Role != room.RoleFacilitator || f.Participant.Identity != "sam" || f.Participant.Name != "Name sam" {
		t.Fatalf("token join = %+v", f.Participant)
	}
	if err := h.svc.Leave(h.ctx, "drop-in", a.Participant.ID); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.Leave(h.ctx, "drop-in", a.Participant.ID); err != nil {
		t.Fatalf("second leave: %v", err)
	}
	sess, _ := h.svc.Session(h.ctx, "drop-in")
	if len(sess.Participants) != 2 {
		t.Fatalf("after leave: %v", sess.Participants)
	}
	h.refused(membership.JoinRequest{Room: "drop-in"}, room.CodeBadRequest)
	h.refused(membership.JoinRequest{Room: "bad room", Name: "A"}, room.CodeBadRequest)
}

func TestJoinTokenRefusals(t *testing.T) {
	h := newHarness(t)
	expired, err := room.IssueToken(testSecret, room.TokenParams{Room: "r", Identity: "i", Name: "N", Role: room.RoleMember,
		TTL: time.Minute, Now: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	early, err := room.IssueToken(testSecret, room.TokenParams{Room: "r", Identity: "i", Name: "N", Role: room.RoleMember,
		TTL: time.Hour, Now: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	forged, err := room.IssueToken([]byte("not-the-server-secret-at-all!!"), room.TokenParams{Room: "r", Identity: "i", Name: "N",
		Role: room.RoleFacilitator, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	h.refused(membership.JoinRequest{Room: "r", Token: expired}, room.CodeTokenExpired)
	h.refused(membership.JoinRequest{Room: "r", Token: early}, room.CodeTokenExpired)
	h.refused(membership.JoinRequest{Room: "r", Token: forged}, room.CodeInvalidToken)
	h.refused(membership.JoinRequest{Room: "r", Token: "garbage", Name: "A"}, room.CodeInvalidToken)
	h.refused(membership.JoinRequest{Room: "other", Token: h.token("r", "i", room.RoleMember)}, room.CodeWrongRoom)
	sess, _ := h.svc.Session(h.ctx, "r")
	if len(sess.Participants) != 0 {
		t.Fatal("a refused arrival left a presence")
	}
}

func TestJoinPasscode(t *testing.T) {
	h := newHarness(t)
	cfg := room.RoomConfig{Name: "quiet", Kind: room.KindOpen}
	if err := cfg.SetPasscode("open sesame"); err != nil {
		t.Fatal(err)
	}
	h.create(cfg)
	h.refused(membership.JoinRequest{Room: "quiet", Name: "A"}, room.CodeBadPasscode)
	h.refused(membership.JoinRequest{Room: "quiet", Name: "A", Passcode: "open"}, room.CodeBadPasscode)
	h.join(membership.JoinRequest{Room: "quiet", Name: "A", Passcode: "open sesame"})
	h.join(membership.JoinRequest{Room: "quiet", Token: h.token("quiet", "f", room.RoleFacilitator)})
}

func TestClosedRoomFlow(t *testing.T) {
	h := newHarness(t)
	h.create(room.RoomConfig{Name: "cohort", Kind: room.KindClosed, Capacity: 3, MembersJoinMuted: true, Roster: []room.RosterEntry{
		{Identity: "dr-lee", Name: "Dr Lee", Role: room.RoleFacilitator},
		{Identity: "rae", Name: "Rae", Role: room.RoleMember},
		{Identity: "kim", Name: "Kim", Role: room.RoleMember},
		{Identity: "obs", Name: "Obs", Role: room.RoleObserver},
	}})
	h.refused(membership.JoinRequest{Room: "cohort", Name: "Anon"}, room.CodeNotOnRoster)
	h.refused(membership.JoinRequest{Room: "cohort", Token: h.token("cohort", "stranger", room.RoleMember)}, room.CodeNotOnRoster)

	// Members arriving before the facilitator wait, and see nobody.
	rae := h.join(membership.JoinRequest{Room: "cohort", Token: h.token("cohort", "rae", room.RoleFacilitator)})
	if rae.Status != membership.JoinWaiting || rae.Reason != room.WaitForFacilitator || rae.Participant.Role != room.RoleMember ||
		rae.Others != nil || rae.Room.Kind != room.KindClosed || !rae.Room.MembersJoinMuted {
		t.Fatalf("early member = %+v", rae)
	}
	if rae.Reason.Message(false) == "" {
		t.Fatal("no message for the waiting person")
	}

	lee := h.join(membership.JoinRequest{Room: "cohort", Token: h.token("cohort", "dr-lee", room.RoleFacilitator)})
	if lee.Status != membership.JoinAdmitted || lee.Participant.Role != room.RoleFacilitator || len(lee.Others) != 0 {
		t.Fatalf("facilitator = %+v", lee)
	}
	waiting, err := h.svc.WaitingList(h.ctx, "cohort")
	if err != nil || len(waiting) != 1 || waiting[0].ID != rae.Participant.ID || waiting[0].Identity != "rae" || waiting[0].JoinedAt.IsZero() {
		t.Fatalf("waiting list = %+v, %v", waiting, err)
	}
	// Those who waited are admitted by the facilitator, not automatically.
	admitted, err := h.svc.Admit(h.ctx, "cohort", rae.Participant.ID)
	if err != nil || len(admitted) != 1 || admitted[0].State != room.StateActive || admitted[0].Reason != "" {
		t.Fatalf("admit = %+v, %v", admitted, err)
	}
	if _, err := h.svc.Admit(h.ctx, "cohort", rae.Participant.ID); !errors.Is(err, room.ErrNotFound) {
		t.Fatalf("admit someone not waiting: %v", err)
	}
	// Later roster members enter directly.
	kim := h.join(membership.JoinRequest{Room: "cohort", Token: h.token("cohort", "kim", room.RoleMember)})
	if kim.Status != membership.JoinAdmitted || len(kim.Others) != 2 {
		t.Fatalf("kim = %+v", kim)
	}
	// Capacity 3 is reached: the observer is refused.
	h.refused(membership.JoinRequest{Room: "cohort", Token: h.token("cohort", "obs", room.RoleObserver)}, room.CodeRoomFull)

	v, err := h.svc.Roster(h.ctx, "cohort")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range v.Entries {
		lines = append(lines, fmt.Sprintf("%s:%d", e.Identity, len(e.Present)))
	}
	if strings.Join(lines, " ") != "dr-lee:1 rae:1 kim:1 obs:0" || len(v.Guests) != 0 {
		t.Fatalf("roster view = %v guests %v", lines, v.Guests)
	}

	// A removed roster member is refused at the next join.
	if err := h.svc.Leave(h.ctx, "cohort", kim.Participant.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.UpdateRoom(h.ctx, "cohort", func(c *room.RoomConfig) error {
		c.Roster = c.Roster[:2]
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	h.refused(membership.JoinRequest{Room: "cohort", Token: h.token("cohort", "kim", room.RoleMember)}, room.CodeNotOnRoster)
}

func TestKnockAdmitDeny(t *testing.T) {
	h := newHarness(t)
	h.create(room.RoomConfig{Name: "knock", Kind: room.KindOpen, Knock: true, Capacity: 3})
	h.join(membership.JoinRequest{Room: "knock", Token: h.token("knock", "sam", room.RoleCoFacilitator)})
	member := h.join(membership.JoinRequest{Room: "knock", Token: h.token("knock", "mo", room.RoleMember)})
	if member.Status != membership.JoinWaiting || member.Reason != room.WaitKnock {
		t.Fatalf("member = %+v", member)
	}
	var knockers []string
	for i := 0; i < 4; i++ {
		r := h.join(membership.JoinRequest{Room: "knock", Name: fmt.Sprintf("K%d", i)})
		knockers = append(knockers, r.Participant.ID)
	}
	// Denying one removes it from the waiting room.
	denied, err := h.svc.Deny(h.ctx, "knock", knockers[0])
	if err != nil || len(denied) != 1 || denied[0].ID != knockers[0] {
		t.Fatalf("deny = %+v, %v", denied, err)
	}
	// Admit all: two seats are left (capacity 3, the co-facilitator sits),
	// so the oldest two get in and the room is full.
	admitted, err := h.svc.Admit(h.ctx, "knock", membership.AllWaiting)
	if !errors.Is(err, room.ErrRoomFull) || room.ErrorCode(err) != room.CodeRoomFull {
		t.Fatalf("admit all: %v", err)
	}
	if len(admitted) != 2 || admitted[0].ID != member.Participant.ID || admitted[1].ID != knockers[1] {
		t.Fatalf("admitted = %v", admitted)
	}
	denied, err = h.svc.Deny(h.ctx, "knock", membership.AllWaiting)
	if err != nil || len(denied) != 2 {
		t.Fatalf("deny all = %v, %v", denied, err)
	}
	if w, _ := h.svc.WaitingList(h.ctx, "knock"); len(w) != 0 {
		t.Fatalf("waiting after deny all: %v", w)
	}
	// Denied participants are not reported again by the heartbeat.
	if err := h.svc.Heartbeat(h.ctx); err != nil {
		t.Fatal(err)
	}
	if len(h.gone) != 0 {
		t.Fatalf("gone = %v", h.gone)
	}
	if got := h.svc.Hosted("knock"); len(got) != 3 {
		t.Fatalf("hosted = %v", got)
	}
}

func TestLockAndRemove(t *testing.T) {
	h := newHarness(t)
	h.create(room.RoomConfig{Name: "lockable", Kind: room.KindOpen, LockBehavior: room.LockWaiting})
	h.create(room.RoomConfig{Name: "strict", Kind: room.KindOpen, LockBehavior: room.LockRefuse})
	for _, rm := range []string{"lockable", "strict"} {
		h.join(membership.JoinRequest{Room: rm, Token: h.token(rm, "sam", room.RoleFacilitator)})
		m := h.join(membership.JoinRequest{Room: rm, Token: h.token(rm, "mo", room.RoleMember)})
		if err := h.svc.Lock(h.ctx, rm, true); err != nil {
			t.Fatal(err)
		}
		if rm == "strict" {
			h.refused(membership.JoinRequest{Room: rm, Name: "Late"}, room.CodeRoomLocked)
		} else if r := h.join(membership.JoinRequest{Room: rm, Name: "Late"}); r.Status != membership.JoinWaiting || r.Reason != room.WaitLocked || !r.Room.Locked {
			t.Fatalf("late arrival = %+v", r)
		}
		if co := h.join(membership.JoinRequest{Room: rm, Token: h.token(rm, "co", room.RoleCoFacilitator)}); co.Status != membership.JoinAdmitted || !co.Room.Locked {
			t.Fatalf("co-facilitator into locked room = %+v", co)
		}

		// Remove and block: the identity cannot come back this session.
		if _, err := h.svc.Remove(h.ctx, rm, m.Participant.ID, true); err != nil {
			t.Fatal(err)
		}
		if err := h.svc.Lock(h.ctx, rm, false); err != nil {
			t.Fatal(err)
		}
		h.refused(membership.JoinRequest{Room: rm, Token: h.token(rm, "mo", room.RoleMember)}, room.CodeBlocked)
	}
}

func TestFacilitatorBypassesCapacity(t *testing.T) {
	h := newHarness(t)
	h.create(room.RoomConfig{Name: "tiny", Kind: room.KindOpen, Capacity: 1})
	h.join(membership.JoinRequest{Room: "tiny", Name: "A"})
	h.refused(membership.JoinRequest{Room: "tiny", Name: "B"}, room.CodeRoomFull)
	if f := h.join(membership.JoinRequest{Room: "tiny", Token: h.token("tiny", "f", room.RoleFacilitator)}); f.Status != membership.JoinAdmitted {
		t.Fatalf("facilitator = %+v", f)
	}
}

func TestJoinRace(t *testing.T) {
	h := newHarness(t)
	h.create(room.RoomConfig{Name: "popular", Kind: room.KindOpen, Capacity: 10})
	var wg sync.WaitGroup
	results := make(chan error, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := h.svc.Join(h.ctx, membership.JoinRequest{Room: "popular", Name: fmt.Sprintf("P%d", i)})
			results <- err
		}()
	}
	wg.Wait()
	close(results)
	admitted := 0
	for err := range results {
		switch {
		case err == nil:
			admitted++
		case room.ErrorCode(err) != room.CodeRoomFull:
			t.Fatalf("unexpected: %v", err)
		}
	}
	if admitted != 10 {
		t.Fatalf("%d admitted, want 10", admitted)
	}
}

func TestReconnecting(t *testing.T) {
	h := newHarness(t)
	h.create(room.RoomConfig{Name: "k", Kind: room.KindOpen, Knock: true})
	f := h.join(membership.JoinRequest{Room: "k", Token: h.token("k", "f", room.RoleFacilitator)})
	w := h.join(membership.JoinRequest{Room: "k", Name: "W"})
	p, err := h.svc.SetReconnecting(h.ctx, "k", f.Participant.ID, true)
	if err != nil || p.State != room.StateReconnecting {
		t.Fatalf("reconnecting = %+v, %v", p, err)
	}
	if p, err = h.svc.SetReconnecting(h.ctx, "k", f.Participant.ID, false); err != nil || p.State != room.StateActive {
		t.Fatalf("back = %+v, %v", p, err)
	}
	if _, err := h.svc.SetReconnecting(h.ctx, "k", w.Participant.ID, false); !errors.Is(err, room.ErrForbidden) {
		t.Fatalf("waiting participant took a seat via reconnect: %v", err)
	}
}

func TestUnavailableStore(t *testing.T) {
	h := newHarness(t)
	_ = h.store.Close()
	_, err := h.svc.Join(h.ctx, membership.JoinRequest{Room: "r", Name: "A"})
	if !errors.Is(err, room.ErrUnavailable) || room.ErrorCode(err) != room.CodeUnavailable {
		t.Fatalf("join with store down: %v", err)
	}
}

func TestHeartbeatRun(t *testing.T) {
	h := newHarness(t, func(c *membership.ServiceConfig) { c.HeartbeatInterval = 20 * time.Millisecond })
	a := h.join(membership.JoinRequest{Room: "r", Name: "A"})
	b := h.join(membership.JoinRequest{Room: "r", Name: "B"})
	// Someone (another node, an expiry) removes b from the store: the next
	// heartbeat reports it gone, once.
	if _, err := h.store.RemovePresence(h.ctx, "r", b.Participant.ID); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan error, 1)
	go func() { done <- h.svc.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		h.mu.Lock()
		n := len(h.gone)
		h.mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("OnGone not called")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if fmt.Sprint(h.gone) != "[r/"+b.Participant.ID+"]" {
		t.Fatalf("gone = %v", h.gone)
	}
	if got := h.svc.Hosted("r"); len(got) != 1 || got[0] != a.Participant.ID {
		t.Fatalf("hosted = %v", got)
	}
}

func TestHeartbeatKeepsServicePresence(t *testing.T) {
	clk := &fakeClock{now: time.Now()}
	store := membership.NewMemStore(membership.MemStoreOptions{TTL: 10 * time.Second, Now: clk.Now})
	svc, err := membership.NewService(membership.ServiceConfig{Store: store, Secret: testSecret, NodeID: "n",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := svc.Join(ctx, membership.JoinRequest{Room: "r", Name: "A"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ { // 30 s of 3 s heartbeats
		clk.Advance(3 * time.Second)
		if err := svc.Heartbeat(ctx); err != nil {
			t.Fatal(err)
		}
	}
	sess, _ := svc.Session(ctx, "r")
	if _, ok := sess.Find(a.Participant.ID); !ok {
		t.Fatal("heartbeats did not keep the participant")
	}
	clk.Advance(10 * time.Second) // the node stops heartbeating (crash)
	sess, _ = svc.Session(ctx, "r")
	if len(sess.Participants) != 0 {
		t.Fatal("participant of a silent node still present")
	}
}

func TestNewServiceChecksConfig(t *testing.T) {
	s := membership.NewMemStore(membership.MemStoreOptions{})
	for what, cfg := range map[string]membership.ServiceConfig{
		"no store":     {Secret: testSecret, NodeID: "n"},
		"no node":      {Store: s, Secret: testSecret},
		"short secret": {Store: s, Secret: []byte("short"), NodeID: "n"},
	} {
		if _, err := membership.NewService(cfg); !errors.Is(err, room.ErrInvalid) {
			t.Errorf("%s: %v", what, err)
		}
	}
}
