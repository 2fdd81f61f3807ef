package live_test

import (
	"errors"
	"testing"

	"github.com/hearth-rtc/hearth/live"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// TestRoomAuthorizesEveryCommand: admit, deny, lock and remove are
// authorized in the room, by the sender's seat and role here, before the
// door is asked to write anything: someone waiting, a member, an observer
// and a connection that holds no seat are refused and nothing changes; a
// co-facilitator may not remove a facilitator. With the store down the
// room still refuses them alike, and a facilitator's lock and removal
// with block take effect at once.
func TestRoomAuthorizesEveryCommand(t *testing.T) {
	n := newNode(t, live.Config{})
	n.create(room.RoomConfig{Name: "circle", Kind: room.KindOpen, Knock: true, Capacity: 10})
	f := n.join("circle", "fran", room.RoleFacilitator)
	co := n.join("circle", "cody", room.RoleCoFacilitator)
	m := n.join("circle", "milo", room.RoleMember)
	o := n.join("circle", "otto", room.RoleObserver)
	for _, x := range []person{m, o} {
		if !x.c.has("waiting") {
			t.Fatalf("%s in a knock room: %v", x.p.Identity, x.c.types())
		}
		if err := f.apply(n.ctx, live.Command{Kind: protocol.CmdAdmit, Participant: x.p.ID}); err != nil {
			t.Fatalf("admit %s: %v", x.p.Identity, err)
		}
		if !x.c.has("joined") {
			t.Fatalf("%s admitted: %v", x.p.Identity, x.c.types())
		}
	}
	w := n.join("circle", "wren", room.RoleMember)

	refused := func(who person, cmd live.Command, want error) {
		t.Helper()
		if err := who.apply(n.ctx, cmd); !errors.Is(err, want) {
			t.Fatalf("%s sends %s: %v, want %v", who.p.Identity, cmd.Kind, err, want)
		}
	}
	admitW := live.Command{Kind: protocol.CmdAdmit, Participant: w.p.ID}
	denyW := live.Command{Kind: protocol.CmdDeny, Participant: w.p.ID}
	lock := live.Command{Kind: protocol.CmdLock, Locked: true}
	removeF := live.Command{Kind: protocol.CmdRemove, Participant: f.p.ID, Block: true}
	refused(w, live.Command{Kind: protocol.CmdAdmit, Participant: allWaiting}, live.ErrWaiting)
	for _, x := range []person{m, o} {
		for _, cmd := range []live.Command{admitW, denyW, lock, removeF} {
			refused(x, cmd, room.ErrForbidden)
		}
	}
	stranger := person{p: f.p, room: f.room, c: &conn{}}
	refused(stranger, lock, live.ErrNotSeated)
	refused(co, removeF, room.ErrForbidden)
	if list, err := n.svc.WaitingList(n.ctx, "circle"); err != nil || len(list) != 1 || list[0].ID != w.p.ID {
		t.Fatalf("waiting after refused commands: %v, %v", list, err)
	}
	if info := n.svc.RoomInfo(n.ctx, "circle"); info.Locked {
		t.Fatal("locked by a refused command")
	}
	if f.c.isClosed() || w.c.isClosed() {
		t.Fatal("a refused command closed someone")
	}

	n.store.down.Store(true)
	for _, cmd := range []live.Command{lock, removeF} {
		refused(m, cmd, room.ErrForbidden)
	}
	refused(stranger, lock, live.ErrNotSeated)
	if err := f.apply(n.ctx, lock); err != nil {
		t.Fatalf("lock while the store is down: %v", err)
	}
	var u protocol.RoomUpdated
	if !m.c.lastOf(t, "room_updated", &u) || !u.Room.Locked {
		t.Fatalf("member not told the room is locked: %v", m.c.types())
	}
	if err := f.apply(n.ctx, live.Command{Kind: protocol.CmdRemove, Participant: m.p.ID, Block: true}); err != nil {
		t.Fatalf("remove while the store is down: %v", err)
	}
	if m.c.bye() != "removed" {
		t.Fatalf("removed member: closed %v with %v", m.c.isClosed(), m.c.last)
	}
	var st protocol.RoomStateMsg
	if !f.c.lastOf(t, "room_state", &st) || len(st.Participants) != 3 {
		t.Fatalf("room state after the removal: %+v", st)
	}
	for _, ps := range st.Participants {
		if ps.ID == m.p.ID {
			t.Fatal("the removed member is still in the controls")
		}
	}
	n.store.down.Store(false)
	if err := f.apply(n.ctx, admitW); err != nil {
		t.Fatalf("admit once the store is back: %v", err)
	}
	if !w.c.has("joined") {
		t.Fatalf("admitted: %v", w.c.types())
	}
}

// allWaiting is membership.AllWaiting, as a client sends it.
const allWaiting = "*"

// TestSelfMuteHeldOnce: a participant's own mute is the controls' (what
// room_state says), and what the others are told of them
// (participant_updated, and joined for a later arrival) comes from there;
// a second window of the same person takes the seat over unmuted, and the
// first is told why it is closed.
func TestSelfMuteHeldOnce(t *testing.T) {
	n := newNode(t, live.Config{})
	f := n.join("drop", "fran", room.RoleFacilitator)
	m := n.join("drop", "milo", room.RoleMember)
	if err := m.room.SelfMute(m.p.ID, m.c, protocol.MediaAudio, true); err != nil {
		t.Fatal(err)
	}
	var ev protocol.ParticipantEvent
	if !f.c.lastOf(t, "participant_updated", &ev) || ev.Participant.ID != m.p.ID || !ev.Participant.Muted.Audio {
		t.Fatalf("facilitator told %+v", ev)
	}
	var st protocol.RoomStateMsg
	if !f.c.lastOf(t, "room_state", &st) {
		t.Fatal("no room_state")
	}
	for _, ps := range st.Participants {
		if ps.ID == m.p.ID && !ps.SelfMuted.Audio {
			t.Fatalf("controls: %+v", ps)
		}
	}
	late := n.join("drop", "lena", room.RoleMember)
	if got := joinedParticipants(t, late.c)[m.p.ID]; !got.Muted.Audio || got.Muted.Video {
		t.Fatalf("a later arrival sees %+v", got)
	}

	o := n.join("drop", "otto", room.RoleObserver)
	if err := o.room.SelfMute(o.p.ID, o.c, protocol.MediaAudio, true); !errors.Is(err, room.ErrForbidden) {
		t.Fatalf("observer mutes: %v", err)
	}

	again := n.join("drop", "milo", room.RoleMember)
	if again.p.ID != m.p.ID || m.c.bye() != "joined_elsewhere" {
		t.Fatalf("second window: id %s (first %s), first closed with %v", again.p.ID, m.p.ID, m.c.last)
	}
	if got := joinedParticipants(t, again.c)[f.p.ID]; got.ID != f.p.ID {
		t.Fatalf("second window's joined: %v", again.c.types())
	}
	if !f.c.lastOf(t, "participant_updated", &ev) || ev.Participant.ID != m.p.ID || ev.Participant.Muted.Audio {
		t.Fatalf("facilitator told %+v after the takeover", ev)
	}
	if err := m.room.SelfMute(m.p.ID, m.c, protocol.MediaAudio, true); !errors.Is(err, live.ErrNotSeated) {
		t.Fatalf("the first window still speaks for the seat: %v", err)
	}
}

// TestSeatHeldAndResumed: a seat whose connection drops is held (the
// others see the participant reconnecting); a resume moves it to a new
// connection with the same id, and the old one speaks for nothing. The
// room lives while someone is in it and ends with its last person.
func TestSeatHeldAndResumed(t *testing.T) {
	n := newNode(t, live.Config{})
	f := n.join("held", "fran", room.RoleFacilitator)
	m := n.join("held", "milo", room.RoleMember)
	if !m.room.Drop(m.p.ID, m.c) {
		t.Fatal("seat not held")
	}
	var ev protocol.ParticipantEvent
	if !f.c.lastOf(t, "participant_updated", &ev) || ev.Participant.ID != m.p.ID || ev.Participant.State != "reconnecting" {
		t.Fatalf("facilitator told %+v", ev)
	}
	back := &conn{}
	if err := m.room.Resume(n.ctx, m.p.ID, m.c, back, false); err != nil {
		t.Fatal(err)
	}
	var j protocol.Joined
	if !back.lastOf(t, "joined", &j) || !j.Resumed || j.Self.ID != m.p.ID {
		t.Fatalf("resumed: %+v", j)
	}
	if err := m.room.Resume(n.ctx, m.p.ID, m.c, &conn{}, false); !errors.Is(err, live.ErrNotHeld) {
		t.Fatalf("a second resume from the old connection: %v", err)
	}
	m.room.Leave(m.p.ID, m.c, "left") // the old connection's end changes nothing
	if st := n.rooms.Stats(); st.Rooms != 1 || st.People[live.StatsKey{Role: room.RoleMember, State: room.StateActive}] != 1 {
		t.Fatalf("stats: %+v", st)
	}

	m.room.Leave(m.p.ID, back, "left")
	var left protocol.ParticipantLeft
	if !f.c.lastOf(t, "participant_left", &left) || left.Participant != m.p.ID || left.Reason != "left" {
		t.Fatalf("facilitator told %+v", left)
	}
	f.room.Leave(f.p.ID, f.c, "left")
	if st := n.rooms.Stats(); st.Rooms != 0 {
		t.Fatalf("an empty room lives on: %+v", st)
	}
	if s, err := n.svc.Session(n.ctx, "held"); err != nil || len(s.Participants) != 0 {
		t.Fatalf("membership after everyone left: %+v, %v", s, err)
	}
}
