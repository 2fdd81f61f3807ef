package signaling_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/internal/testutil/redistest"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

const agreementContact = "Call Dr Lee's office on 01632 960123."

// agreementRoom stores a closed room with a roster (Fran facilitates; Ann,
// Ben and Cat are members) and a group agreement accepted once per
// series.
func agreementRoom(t *testing.T, srv *hearthtest.Server) room.RoomConfig {
	t.Helper()
	cfg := room.DefaultRoomConfig("circle")
	cfg.Kind = room.KindClosed
	cfg.Roster = []room.RosterEntry{
		{Identity: "fran", Name: "Fran", Role: room.RoleFacilitator},
		{Identity: "ann", Name: "Ann", Role: room.RoleMember},
		{Identity: "ben", Name: "Ben", Role: room.RoleMember},
		{Identity: "cat", Name: "Cat", Role: room.RoleMember},
	}
	cfg.Agreement = &room.Agreement{Text: "What is said here stays here.\nNo recording of any kind.", Contact: agreementContact}
	created, err := srv.App.Store().CreateRoom(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return created
}

// TestAgreementAtTheDoor, on the memory store and on a real redis-server:
// the facilitator enters without being asked; a member is shown the
// agreement and is not seated, seen or sent media until she accepts; an
// acceptance of a changed text is refused with the current one; once she
// accepts she is seated and hears the facilitator, and the facilitator's
// roll shows her acceptance and who is missing, which members are never
// sent. A member who declines does not enter and is told how to reach the
// facilitator. Coming back later in the series, she is not asked again.
func TestAgreementAtTheDoor(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		testAgreementAtTheDoor(t, hearthtest.Start(t, hearthtest.Options{}))
	})
	t.Run("redis", func(t *testing.T) {
		rdb := redistest.Start(t)
		testAgreementAtTheDoor(t, hearthtest.Start(t, hearthtest.Options{RedisURL: rdb.URL()}))
	})
}

func testAgreementAtTheDoor(t *testing.T, srv *hearthtest.Server) {
	cfg := agreementRoom(t, srv)
	f := ctlJoin(t, srv, "circle", "fran", room.RoleFacilitator, false)
	if m := waitAgreementMsg(t, f, "roll"); m.Type != "roll" {
		t.Fatal("the facilitator got no roll")
	}

	// Ann is shown the agreement and takes no place.
	a := dial(t, srv, client.Options{Room: "circle", Token: ctlToken(t, "circle", "ann", room.RoleMember), Audio: true})
	if err := a.Join(); err != nil {
		t.Fatal(err)
	}
	var ag protocol.Agreement
	if err := waitAgreementMsg(t, a, "agreement").Decode(&ag); err != nil {
		t.Fatal(err)
	}
	if ag.Text != cfg.Agreement.Text || ag.Version != cfg.Agreement.Version() || ag.Contact != agreementContact ||
		ag.Every != room.AcceptOncePerSeries || ag.Room.Name != "circle" || ag.Message == "" {
		t.Fatalf("agreement shown: %+v", ag)
	}
	// A stale version: agreement_changed, and the current text again.
	ctlSend(t, a, map[string]any{"type": "accept_agreement", "version": "0123456789abcdef"})
	ctlWaitError(t, a, "accept_agreement", "agreement_changed")
	if n := countType(a, "agreement"); n != 2 {
		t.Fatalf("after a stale version: %d agreement messages, want 2 (%v)", n, types(a))
	}
	ctlSync(t, a)
	ctlSync(t, f)
	if n := countType(a, "joined") + countType(a, "offer") + countType(a, "room_state"); n != 0 || a.Received(f.ID(), "audio") != 0 {
		t.Fatalf("Ann, not accepted, got %v and %d packets", types(a), a.Received(f.ID(), "audio"))
	}
	if st, _ := ctlState(f); len(st.Participants) != 1 {
		t.Fatalf("the facilitator sees someone who has not accepted: %+v", st.Participants)
	}

	// She accepts: seated, with the facilitator's media.
	ctlSend(t, a, map[string]any{"type": "accept_agreement", "version": ag.Version})
	ctlWaitState(t, a, func(st protocol.RoomState) bool { return ctlFind(st, a.ID()) != nil })
	ctlWaitState(t, f, func(st protocol.RoomState) bool { return ctlFind(st, a.ID()) != nil })
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	if err := a.Wait(ctx, func() bool { return a.Received(f.ID(), "audio") >= 5 }); err != nil {
		t.Fatalf("Ann, having accepted, hears nothing from the facilitator: %v", err)
	}
	roll := waitRoll(t, f, func(r protocol.Roll) bool { return rollEntry(r, "ann").AcceptedAt != "" })
	want := map[string]string{"fran": "present", "ann": "present", "ben": "missing", "cat": "missing"}
	for id, state := range want {
		if e := rollEntry(roll, id); e.State != state || (id != "ann") != (e.AcceptedAt == "") {
			t.Errorf("roll entry %s = %+v, want %s", id, e, state)
		}
	}
	if roll.Agreement != room.AcceptOncePerSeries || rollEntry(roll, "ann").Participant != a.ID() {
		t.Errorf("roll: %+v", roll)
	}

	// Ben declines: told how to reach the facilitator; never seated.
	b := dial(t, srv, client.Options{Room: "circle", Token: ctlToken(t, "circle", "ben", room.RoleMember), Audio: true})
	if err := b.Join(); err != nil {
		t.Fatal(err)
	}
	waitAgreementMsg(t, b, "agreement")
	ctlSend(t, b, map[string]any{"type": "decline_agreement"})
	var dec protocol.AgreementDeclined
	if err := waitAgreementMsg(t, b, "agreement_declined").Decode(&dec); err != nil {
		t.Fatal(err)
	}
	if dec.Contact != agreementContact || !strings.Contains(dec.Message, agreementContact) {
		t.Fatalf("declined: %+v", dec)
	}
	var bye protocol.Bye
	if err := waitAgreementMsg(t, b, "bye").Decode(&bye); err != nil || bye.Reason != "agreement_declined" {
		t.Fatalf("bye: %+v %v", bye, err)
	}
	waitAgreementMsg(t, b, "_closed")
	if countType(b, "joined") != 0 {
		t.Fatalf("Ben joined after declining: %v", types(b))
	}
	ctlSync(t, f)
	if st, _ := ctlState(f); len(st.Participants) != 2 {
		t.Fatalf("after Ben declined, the room holds %+v", st.Participants)
	}
	if e := rollEntry(lastRoll(f), "ben"); e.State != "missing" || e.AcceptedAt != "" {
		t.Errorf("Ben on the roll after declining: %+v", e)
	}

	// Answers with no agreement waiting are refused plainly.
	ctlSend(t, a, map[string]any{"type": "decline_agreement"})
	ctlWaitError(t, a, "decline_agreement", "bad_request")
	c := dial(t, srv, client.Options{Room: "circle"})
	ctlSend(t, c, map[string]any{"type": "accept_agreement", "version": ag.Version})
	ctlWaitError(t, c, "accept_agreement", "bad_request")

	// Ann leaves and comes back: once per series, she is not asked again.
	ctlSend(t, a, map[string]any{"type": "leave"})
	waitAgreementMsg(t, a, "_closed")
	waitRoll(t, f, func(r protocol.Roll) bool { return rollEntry(r, "ann").State == "missing" })
	a2 := ctlJoin(t, srv, "circle", "ann", room.RoleMember, false)
	if countType(a2, "agreement") != 0 {
		t.Fatalf("asked again within the series: %v", types(a2))
	}

	// Members are never sent the roll.
	ctlSync(t, a2)
	for _, m := range []*client.Client{a, a2} {
		if n := countType(m, "roll"); n != 0 {
			t.Errorf("a member got %d roll messages", n)
		}
	}
}

func countType(c *client.Client, typ string) int {
	n := 0
	for _, m := range c.Messages() {
		if m.Type == typ {
			n++
		}
	}
	return n
}

func waitAgreementMsg(t *testing.T, c *client.Client, typ string) client.Message {
	t.Helper()
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	m, err := c.WaitMessage(ctx, typ, nil)
	if err != nil {
		t.Fatalf("no %s: %v; got %v", typ, err, types(c))
	}
	return m
}

// lastRoll returns the newest roll c received.
func lastRoll(c *client.Client) protocol.Roll {
	var r protocol.Roll
	for _, m := range c.Messages() {
		if m.Type == "roll" {
			_ = m.Decode(&r)
		}
	}
	return r
}

// waitRoll waits until c's newest roll satisfies pred.
func waitRoll(t *testing.T, c *client.Client, pred func(protocol.Roll) bool) protocol.Roll {
	t.Helper()
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	var r protocol.Roll
	if err := c.Wait(ctx, func() bool { r = lastRoll(c); return pred(r) }); err != nil {
		t.Fatalf("roll not reached: %v; newest %+v", err, r)
	}
	return r
}

func rollEntry(r protocol.Roll, identity string) protocol.RollEntry {
	for _, e := range r.People {
		if e.Identity == identity {
			return e
		}
	}
	return protocol.RollEntry{}
}

// TestAgreementOneJoinWaits: a socket holds one join waiting for the
// agreement: joining again replaces it, so accepting seats the person
// once; a version far too long is refused plainly, and the join still
// waits for a real answer.
func TestAgreementOneJoinWaits(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	cfg := agreementRoom(t, srv)
	f := ctlJoin(t, srv, "circle", "fran", room.RoleFacilitator, false)
	a := dial(t, srv, client.Options{Room: "circle", Token: ctlToken(t, "circle", "ann", room.RoleMember), Audio: true})
	for range 5 {
		if err := a.Join(); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	if err := a.Wait(ctx, func() bool { return countType(a, "agreement") == 5 }); err != nil {
		t.Fatalf("five joins: %v; got %v", err, types(a))
	}
	ctlSend(t, a, map[string]any{"type": "accept_agreement", "version": strings.Repeat("9", 65)})
	ctlWaitError(t, a, "accept_agreement", "bad_request")
	ctlSend(t, a, map[string]any{"type": "accept_agreement", "version": cfg.Agreement.Version()})
	ctlWaitState(t, f, func(st protocol.RoomState) bool { return ctlFind(st, a.ID()) != nil })
	// A second answer finds nothing waiting: the socket has joined.
	ctlSend(t, a, map[string]any{"type": "accept_agreement", "version": cfg.Agreement.Version()})
	ctlWaitError(t, a, "accept_agreement", "already_joined")
	ctlSync(t, f)
	if st, _ := ctlState(f); len(st.Participants) != 2 || countType(a, "joined") != 1 {
		t.Fatalf("after five joins and one acceptance: %+v, %d joined", st.Participants, countType(a, "joined"))
	}
}

// TestAgreementNextSession, on the memory store and on a real
// redis-server: a weekly group in its second session, whose members
// accepted the agreement during the first. Where the agreement is asked
// at every session, Ann is asked again; once the room asks once per
// series, Ben enters without being asked.
func TestAgreementNextSession(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		testAgreementNextSession(t, hearthtest.Start(t, hearthtest.Options{}))
	})
	t.Run("redis", func(t *testing.T) {
		rdb := redistest.Start(t)
		testAgreementNextSession(t, hearthtest.Start(t, hearthtest.Options{RedisURL: rdb.URL()}))
	})
}

func testAgreementNextSession(t *testing.T, srv *hearthtest.Server) {
	ctx := t.Context()
	store := srv.App.Store()
	// The second session started ten minutes ago; the first, a week before.
	second := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Minute)
	first := second.AddDate(0, 0, -7)
	cfg := room.DefaultRoomConfig("weekly")
	cfg.Kind = room.KindClosed
	cfg.Roster = []room.RosterEntry{
		{Identity: "fran", Name: "Fran", Role: room.RoleFacilitator},
		{Identity: "ann", Name: "Ann", Role: room.RoleMember},
		{Identity: "ben", Name: "Ben", Role: room.RoleMember},
	}
	cfg.Schedule = &room.Schedule{FirstDate: first.Format("2006-01-02"), StartTime: first.Format("15:04"), Minutes: 120,
		Repeat: room.RepeatWeekly, Sessions: 4, TimeZone: "UTC"}
	cfg.Agreement = &room.Agreement{Text: "What is said here stays here.", Every: room.AcceptEverySession}
	created, err := store.CreateRoom(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"ann", "ben"} {
		acc := room.Acceptance{Identity: id, Version: created.Agreement.Version(), At: first.Add(5 * time.Minute)}
		if err := store.RecordAcceptance(ctx, "weekly", acc); err != nil {
			t.Fatal(err)
		}
	}
	ctlJoin(t, srv, "weekly", "fran", room.RoleFacilitator, false)

	a := dial(t, srv, client.Options{Room: "weekly", Token: ctlToken(t, "weekly", "ann", room.RoleMember), Audio: true})
	if err := a.Join(); err != nil {
		t.Fatal(err)
	}
	var ag protocol.Agreement
	if err := waitAgreementMsg(t, a, "agreement").Decode(&ag); err != nil || ag.Every != room.AcceptEverySession {
		t.Fatalf("asked again: %+v %v", ag, err)
	}

	if _, err := store.UpdateRoom(ctx, "weekly", func(c *room.RoomConfig) error {
		c.Agreement.Every = room.AcceptOncePerSeries
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	b := ctlJoin(t, srv, "weekly", "ben", room.RoleMember, false)
	if n := countType(b, "agreement"); n != 0 {
		t.Fatalf("once per series, Ben was asked again: %v", types(b))
	}
}
