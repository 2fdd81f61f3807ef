package signaling_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/room"
)

func token(t *testing.T, roomName, identity, name string, role room.Role, ttl time.Duration, now time.Time) string {
	t.Helper()
	tok, err := room.IssueToken([]byte(hearthtest.DefaultSecret), room.TokenParams{
		Room: roomName, Identity: identity, Name: name, Role: role, TTL: ttl, Now: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func createRoom(t *testing.T, srv *hearthtest.Server, cfg room.RoomConfig) {
	t.Helper()
	if _, err := srv.App.Store().CreateRoom(context.Background(), cfg); err != nil {
		t.Fatalf("create room: %v", err)
	}
}

// cohort is a closed therapy room with a roster.
func cohort(name string) room.RoomConfig {
	return room.RoomConfig{Name: name, Kind: room.KindClosed, Capacity: 3, Roster: []room.RosterEntry{
		{Identity: "dr-lee", Name: "Dr Lee", Role: room.RoleFacilitator},
		{Identity: "client-01", Name: "Rae", Role: room.RoleMember},
		{Identity: "client-02", Name: "Sol", Role: room.RoleMember},
		{Identity: "client-03", Name: "Tam", Role: room.RoleMember},
		{Identity: "client-04", Name: "Uma", Role: room.RoleMember},
	}}
}

func joinWith(t *testing.T, srv *hearthtest.Server, opts client.Options) *client.Client {
	t.Helper()
	c := dial(t, srv, opts)
	if err := c.Join(); err != nil {
		t.Fatal(err)
	}
	return c
}

// expectRefused checks a refused client got the error code, was
// disconnected, and never got the roster, an offer or media.
func expectRefused(t *testing.T, c *client.Client, code string) {
	t.Helper()
	waitError(t, c, code)
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	if _, err := c.WaitMessage(ctx, "_closed", nil); err != nil {
		t.Errorf("refused client (%s) not disconnected: %v", code, err)
	}
	for _, m := range c.Messages() {
		switch m.Type {
		case "joined", "offer", "participant_joined", "track_published", "waiting_list":
			t.Errorf("refused client (%s) received %s", code, m.Type)
		}
	}
}

func forge(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRefusals: every way in that must fail, fails with its code, and the
// refused client learns nothing about the room.
func TestRefusals(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	createRoom(t, srv, cohort("cohort"))
	now := time.Now()
	fac := joinWith(t, srv, client.Options{Room: "cohort", Audio: true, Video: true,
		Token: token(t, "cohort", "dr-lee", "Dr Lee", room.RoleFacilitator, time.Hour, now)})
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	if _, err := fac.WaitMessage(ctx, "joined", nil); err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{"room": "cohort", "sub": "client-01", "name": "Rae", "role": "member",
		"iss": room.TokenIssuer, "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}

	cases := []struct {
		name  string
		token string
		code  string
	}{
		{"no token in a closed room", "", "not_on_roster"},
		{"not on the roster", token(t, "cohort", "stranger", "Eve", room.RoleMember, time.Hour, now), "not_on_roster"},
		{"bad signature", forge(t, jwt.SigningMethodHS256, []byte("some-other-secret-of-length"), claims), "invalid_token"},
		{"alg none", forge(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims), "invalid_token"},
		{"unexpected alg", forge(t, jwt.SigningMethodHS512, []byte(hearthtest.DefaultSecret), claims), "invalid_token"},
		{"garbage", "not.a.token", "invalid_token"},
		{"expired", token(t, "cohort", "client-01", "Rae", room.RoleMember, time.Minute, now.Add(-2*time.Hour)), "token_expired"},
		{"not yet valid", token(t, "cohort", "client-01", "Rae", room.RoleMember, time.Hour, now.Add(time.Hour)), "token_expired"},
		{"wrong room", token(t, "elsewhere", "client-01", "Rae", room.RoleMember, time.Hour, now), "wrong_room"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := joinWith(t, srv, client.Options{Room: "cohort", Name: "Someone", Token: tc.token, Audio: true})
			expectRefused(t, c, tc.code)
		})
	}

	// A member removed from the roster cannot use the invite they hold.
	invite := token(t, "cohort", "client-02", "Sol", room.RoleMember, time.Hour, now)
	if _, err := srv.App.Store().UpdateRoom(ctx, "cohort", func(cfg *room.RoomConfig) error {
		kept := cfg.Roster[:0]
		for _, e := range cfg.Roster {
			if e.Identity != "client-02" {
				kept = append(kept, e)
			}
		}
		cfg.Roster = kept
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Run("removed roster member", func(t *testing.T) {
		expectRefused(t, joinWith(t, srv, client.Options{Room: "cohort", Token: invite}), "not_on_roster")
	})

	// A token cannot raise its holder above the roster role.
	t.Run("token claims a higher role", func(t *testing.T) {
		c := joinWith(t, srv, client.Options{Room: "cohort", Audio: true,
			Token: token(t, "cohort", "client-03", "Tam", room.RoleFacilitator, time.Hour, now)})
		m, err := c.WaitMessage(ctx, "joined", nil)
		if err != nil {
			t.Fatal(err)
		}
		var j struct{ Self struct{ Role string } }
		_ = m.Decode(&j)
		if j.Self.Role != "member" {
			t.Errorf("role %q, want member (the roster's)", j.Self.Role)
		}
	})
}

// TestCapacityLockAndBlock: a full room, a locked room (refuse setting), a
// removed-and-blocked identity.
func TestCapacityLockAndBlock(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	createRoom(t, srv, room.RoomConfig{Name: "small", Kind: room.KindOpen, Capacity: 2, LockBehavior: room.LockRefuse})
	fac := joinWith(t, srv, client.Options{Room: "small", Audio: true,
		Token: token(t, "small", "host", "Host", room.RoleFacilitator, time.Hour, time.Now())})
	if _, err := fac.WaitMessage(ctx, "joined", nil); err != nil {
		t.Fatal(err)
	}
	m1 := joinWith(t, srv, client.Options{Room: "small", Name: "One", Audio: true,
		Token: token(t, "small", "one", "One", room.RoleMember, time.Hour, time.Now())})
	if _, err := m1.WaitMessage(ctx, "joined", nil); err != nil {
		t.Fatal(err)
	}
	t.Run("full", func(t *testing.T) {
		expectRefused(t, joinWith(t, srv, client.Options{Room: "small", Name: "Three"}), "room_full")
	})

	// Free a seat, lock, and the next arrival is refused.
	m1.Close()
	if err := fac.Send(map[string]any{"type": "lock", "locked": true}); err != nil {
		t.Fatal(err)
	}
	if _, err := fac.WaitMessage(ctx, "room_updated", func(m client.Message) bool {
		return strings.Contains(string(m.Raw), `"locked":true`)
	}); err != nil {
		t.Fatalf("lock not confirmed: %v", err)
	}
	t.Run("locked", func(t *testing.T) {
		expectRefused(t, joinWith(t, srv, client.Options{Room: "small", Name: "Late"}), "room_locked")
	})
	if err := fac.Send(map[string]any{"type": "lock", "locked": false}); err != nil {
		t.Fatal(err)
	}
	if _, err := fac.WaitMessage(ctx, "room_updated", func(m client.Message) bool {
		return strings.Contains(string(m.Raw), `"locked":false`)
	}); err != nil {
		t.Fatal(err)
	}

	// A blocked identity stays out for the rest of the session.
	if err := srv.App.Store().SetBlocked(ctx, "small", "one", true); err != nil {
		t.Fatal(err)
	}
	t.Run("blocked", func(t *testing.T) {
		expectRefused(t, joinWith(t, srv, client.Options{Room: "small", Audio: true,
			Token: token(t, "small", "one", "One", room.RoleMember, time.Hour, time.Now())}), "blocked")
	})
}

// TestWaitingRoom: in a closed room a member who arrives before the
// facilitator waits and receives no media and no roster; once the
// facilitator admits them, both receive each other's media.
func TestWaitingRoom(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	createRoom(t, srv, cohort("cohort"))
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	now := time.Now()

	member := joinWith(t, srv, client.Options{Room: "cohort", Audio: true, Video: true,
		Token: token(t, "cohort", "client-01", "Rae", room.RoleMember, time.Hour, now)})
	w, err := member.WaitMessage(ctx, "waiting", nil)
	if err != nil {
		t.Fatalf("early member not put in the waiting room: %v (%v)", err, types(member))
	}
	var wm struct{ Reason, Message string }
	_ = w.Decode(&wm)
	if wm.Reason != "waiting_for_facilitator" || wm.Message == "" {
		t.Errorf("waiting %+v, want reason waiting_for_facilitator with a message", wm)
	}

	fac := joinWith(t, srv, client.Options{Room: "cohort", Audio: true, Video: true,
		Token: token(t, "cohort", "dr-lee", "Dr Lee", room.RoleFacilitator, time.Hour, now)})
	if _, err := fac.WaitMessage(ctx, "joined", nil); err != nil {
		t.Fatal(err)
	}
	// The facilitator sees who is waiting.
	var waitingID string
	if _, err := fac.WaitMessage(ctx, "waiting_list", func(m client.Message) bool {
		var v struct {
			Entries []struct{ ID, Identity, Name, Since string }
		}
		if m.Decode(&v) != nil || len(v.Entries) != 1 {
			return false
		}
		e := v.Entries[0]
		waitingID = e.ID
		return e.Identity == "client-01" && e.Name == "Rae" && e.Since != ""
	}); err != nil {
		t.Fatalf("facilitator does not see the waiting member: %v", err)
	}

	// While the facilitator publishes, the waiting member gets nothing.
	if err := fac.Wait(ctx, func() bool {
		for _, m := range fac.Messages() {
			if m.Type == "track_published" {
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatal(err)
	}
	ping(t, member) // a round trip: anything sent before it has arrived
	for _, m := range member.Messages() {
		switch m.Type {
		case "joined", "offer", "participant_joined", "track_published", "candidate", "waiting_list":
			t.Fatalf("waiting member received %s: %s", m.Type, m.Raw)
		}
	}
	if s := member.Stream(fac.ID(), "audio"); s != nil {
		t.Fatal("waiting member receives the facilitator's audio")
	}

	if err := fac.Send(map[string]any{"type": "admit", "participant": waitingID}); err != nil {
		t.Fatal(err)
	}
	j, err := member.WaitMessage(ctx, "joined", nil)
	if err != nil {
		t.Fatalf("admitted member not joined: %v", err)
	}
	var jm struct {
		Participants []struct{ ID string }
	}
	_ = j.Decode(&jm)
	if len(jm.Participants) != 1 || jm.Participants[0].ID != fac.ID() {
		t.Errorf("admitted member's roster %+v, want the facilitator", jm.Participants)
	}
	waitMedia(t, member, 25, fac)
	waitMedia(t, fac, 25, member)
	if _, err := fac.WaitMessage(ctx, "waiting_list", func(m client.Message) bool {
		return strings.Contains(string(m.Raw), `"entries":[]`)
	}); err != nil {
		t.Errorf("waiting list not emptied after admission: %v", err)
	}
}

// TestDeny: a denied arrival is told and disconnected, never seeing media.
func TestDeny(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	createRoom(t, srv, room.RoomConfig{Name: "knock", Kind: room.KindOpen, Capacity: 10, Knock: true})
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	fac := joinWith(t, srv, client.Options{Room: "knock", Audio: true,
		Token: token(t, "knock", "host", "Host", room.RoleFacilitator, time.Hour, time.Now())})
	if _, err := fac.WaitMessage(ctx, "joined", nil); err != nil {
		t.Fatal(err)
	}
	guest := joinWith(t, srv, client.Options{Room: "knock", Name: "Guest", Audio: true})
	if _, err := guest.WaitMessage(ctx, "waiting", nil); err != nil {
		t.Fatalf("knock room did not make the guest wait: %v", err)
	}
	// A member cannot admit; only the facilitator decides.
	if err := fac.Send(map[string]any{"type": "deny", "participant": "*"}); err != nil {
		t.Fatal(err)
	}
	expectRefused(t, guest, "denied")
}

func ping(t *testing.T, c *client.Client) {
	t.Helper()
	ts := time.Now().UnixNano()
	if err := c.Send(map[string]any{"type": "ping", "ts": ts}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	if _, err := c.WaitMessage(ctx, "pong", func(m client.Message) bool {
		var v struct{ TS int64 }
		return m.Decode(&v) == nil && v.TS == ts
	}); err != nil {
		t.Fatalf("no pong: %v", err)
	}
}

// TestObserver: an observer receives everyone but cannot publish, even if
// its client sends media.
func TestObserver(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	member := joinPeer(t, srv, "gallery", "Ann")
	obs := joinWith(t, srv, client.Options{Room: "gallery", Audio: true, Video: true,
		Token: token(t, "gallery", "trainee", "Trainee", room.RoleObserver, time.Hour, time.Now())})
	j, err := obs.WaitMessage(ctx, "joined", nil)
	if err != nil {
		t.Fatal(err)
	}
	var jm struct{ Self struct{ Role string } }
	_ = j.Decode(&jm)
	if jm.Self.Role != "observer" {
		t.Fatalf("role %q, want observer", jm.Self.Role)
	}
	waitMedia(t, obs, 25, member)
	// The observer's client sends RTP the whole time; none of it is
	// published or forwarded.
	n := member.Stream(obs.ID(), "audio")
	ping(t, member)
	for _, m := range member.Messages() {
		var v struct{ Participant string }
		if m.Type == "track_published" && m.Decode(&v) == nil && v.Participant == obs.ID() {
			t.Errorf("an observer's track was published: %s", m.Raw)
		}
	}
	if n != nil {
		t.Errorf("the member receives the observer's audio")
	}
}
