package signaling_test

import (
	"context"
	"testing"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// TestHandFacilitation: the facilitator hands the role to a member, who
// then mutes another member (whose audio stops reaching everyone) but may
// not mute the co-facilitator; the others see the new role; the
// facilitator takes it back, and the member may moderate no more. She is
// sent the roll once she holds the role, not before; Ben never.
func TestHandFacilitation(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	// A roster, so that facilitators are sent the roll (Cat is missing).
	cfg := room.DefaultRoomConfig("peers")
	for _, e := range []struct {
		id   string
		role room.Role
	}{{"fran", room.RoleFacilitator}, {"kim", room.RoleCoFacilitator}, {"ann", room.RoleMember}, {"ben", room.RoleMember}, {"cat", room.RoleMember}} {
		cfg.Roster = append(cfg.Roster, room.RosterEntry{Identity: e.id, Role: e.role})
	}
	if _, err := srv.App.Store().CreateRoom(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	f := ctlJoin(t, srv, "peers", "fran", room.RoleFacilitator, false)
	k := ctlJoin(t, srv, "peers", "kim", room.RoleCoFacilitator, false)
	a := ctlJoin(t, srv, "peers", "ann", room.RoleMember, false)
	b := ctlJoin(t, srv, "peers", "ben", room.RoleMember, false)
	cs := map[string]*client.Client{"f": f, "k": k, "a": a, "b": b}
	ctlExpect(t, "audio", cs, "f<k,a,b k<f,a,b a<f,k,b b<f,k,a")

	// Before: a member may not moderate, nor take the role.
	ctlSend(t, a, map[string]any{"type": "mute_participant", "participant": b.ID(), "kind": "audio", "muted": true})
	ctlWaitError(t, a, "mute_participant", "forbidden")
	ctlSend(t, k, map[string]any{"type": "hand_facilitation", "participant": a.ID()})
	ctlWaitError(t, k, "hand_facilitation", "forbidden")
	ctlSend(t, f, map[string]any{"type": "hand_facilitation"})
	ctlWaitError(t, f, "hand_facilitation", "bad_request")

	if n := countType(a, "roll"); n != 0 {
		t.Fatalf("Ann, a member, got %d roll messages", n)
	}
	ctlSend(t, f, map[string]any{"type": "hand_facilitation", "participant": a.ID()})
	st := ctlWaitState(t, b, func(st protocol.RoomState) bool { return st.Facilitation != nil })
	if p := ctlFind(st, a.ID()); p.Role != room.RoleFacilitator || st.Facilitation.Participant != a.ID() || st.Facilitation.By != f.ID() {
		t.Fatalf("after the hand-over: %+v, %+v", p, st.Facilitation)
	}
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	if _, err := b.WaitMessage(ctx, "participant_updated", func(m client.Message) bool {
		var ev protocol.ParticipantEvent
		return m.Decode(&ev) == nil && ev.Participant.ID == a.ID() && ev.Participant.Role == room.RoleFacilitator
	}); err != nil {
		t.Fatalf("no participant_updated with Ann's new role: %v", err)
	}
	// As a facilitator she is told who is waiting, to let them in.
	if _, err := a.WaitMessage(ctx, "waiting_list", nil); err != nil {
		t.Fatalf("Ann got no waiting list: %v", err)
	}
	if _, err := a.WaitMessage(ctx, "roll", nil); err != nil {
		t.Fatalf("Ann got no roll: %v", err)
	}

	// Ann mutes Ben: the server forwards none of his audio.
	ctlSend(t, a, map[string]any{"type": "mute_participant", "participant": b.ID(), "kind": "audio", "muted": true})
	ctlWaitState(t, f, func(st protocol.RoomState) bool { p := ctlFind(st, b.ID()); return p != nil && p.Muted.Audio })
	ctlExpect(t, "audio", cs, "f<k,a k<f,a a<f,k b<f,k,a")
	// Not the co-facilitator, and she does not hand it on.
	ctlSend(t, a, map[string]any{"type": "mute_participant", "participant": k.ID(), "kind": "audio", "muted": true})
	ctlWaitError(t, a, "mute_participant", "forbidden")
	ctlSend(t, a, map[string]any{"type": "hand_facilitation", "participant": b.ID()})
	ctlWaitError(t, a, "hand_facilitation", "forbidden")

	// The facilitator takes it back: Ann is a member again and her
	// commands are refused; Ben's mute stays until a facilitator lifts it.
	ctlSend(t, f, map[string]any{"type": "take_back_facilitation"})
	st = ctlWaitState(t, b, func(st protocol.RoomState) bool { return st.Facilitation == nil })
	if p := ctlFind(st, a.ID()); p.Role != room.RoleMember {
		t.Fatalf("after taking it back: %+v", p)
	}
	ctlSend(t, a, map[string]any{"type": "mute_participant", "participant": b.ID(), "kind": "audio", "muted": false})
	ctlWaitError(t, a, "mute_participant", "forbidden")
	ctlSend(t, k, map[string]any{"type": "mute_participant", "participant": b.ID(), "kind": "audio", "muted": false})
	ctlWaitState(t, f, func(st protocol.RoomState) bool { p := ctlFind(st, b.ID()); return p != nil && !p.Muted.Audio })
	ctlExpect(t, "audio", cs, "f<k,a,b k<f,a,b a<f,k,b b<f,k,a")
	if n := countType(b, "roll"); n != 0 {
		t.Errorf("Ben, a member throughout, got %d roll messages", n)
	}
}

// TestPeerLedRoom: in a room set to be peer-led by its members, with no
// facilitator present, a member starts a round (only the speaker is then
// heard) and another moves it on; members still may not mute. When a
// facilitator arrives, turn-taking is theirs again.
func TestPeerLedRoom(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	cfg := room.DefaultRoomConfig("circle")
	cfg.PeerLed = room.PeerLedMembers
	if _, err := srv.App.Store().CreateRoom(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	a := ctlJoin(t, srv, "circle", "ann", room.RoleMember, false)
	b := ctlJoin(t, srv, "circle", "ben", room.RoleMember, false)
	c := ctlJoin(t, srv, "circle", "cat", room.RoleMember, false)
	cs := map[string]*client.Client{"a": a, "b": b, "c": c}
	var joined struct {
		Room room.Info `json:"room"`
	}
	for _, m := range a.Messages() {
		if m.Type == "joined" {
			_ = m.Decode(&joined)
		}
	}
	if joined.Room.PeerLed != room.PeerLedMembers {
		t.Fatalf("joined says the room is %+v", joined.Room)
	}
	ctlExpect(t, "audio", cs, "a<b,c b<a,c c<a,b")

	ctlSend(t, b, map[string]any{"type": "start_round", "order": "join"})
	st := ctlWaitState(t, c, func(st protocol.RoomState) bool { return st.Round != nil })
	if st.Round.Current != a.ID() || len(st.Round.Turns) != 3 {
		t.Fatalf("round started by a member: %+v", st.Round)
	}
	ctlExpect(t, "audio", cs, "b<a c<a")
	ctlSend(t, c, map[string]any{"type": "next_turn"})
	ctlWaitState(t, a, func(st protocol.RoomState) bool { return st.Round != nil && st.Round.Current == b.ID() })
	ctlExpect(t, "audio", cs, "a<b c<b")
	ctlSend(t, a, map[string]any{"type": "mute_participant", "participant": b.ID(), "kind": "audio", "muted": true})
	ctlWaitError(t, a, "mute_participant", "forbidden")
	ctlSend(t, a, map[string]any{"type": "end_round"})
	ctlWaitState(t, b, func(st protocol.RoomState) bool { return st.Round == nil })

	f := ctlJoin(t, srv, "circle", "fran", room.RoleFacilitator, false)
	ctlSync(t, f)
	ctlSend(t, a, map[string]any{"type": "start_round", "order": "join"})
	ctlWaitError(t, a, "start_round", "forbidden")
}
