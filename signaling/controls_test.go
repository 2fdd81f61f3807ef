package signaling_test

import (
	"testing"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// TestEnforcedMute: a facilitator mutes a member whose client ignores it and
// keeps sending RTP. Nobody receives a packet of the muted kind from it
// while muted, its other kind keeps flowing, and both come back on unmute.
func TestEnforcedMute(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	f := ctlJoin(t, srv, "mute", "fran", room.RoleFacilitator, true)
	m := ctlJoin(t, srv, "mute", "milo", room.RoleMember, true)
	s := ctlJoin(t, srv, "mute", "sue", room.RoleMember, true)
	cs := map[string]*client.Client{"f": f, "m": m, "s": s}
	all := "f<m,s m<f,s s<f,m"
	ctlExpect(t, "audio", cs, all)
	ctlExpect(t, "video", cs, all)

	ctlSend(t, f, map[string]any{"type": "mute_participant", "participant": m.ID(), "kind": "audio", "muted": true})
	// The member is told; its client (this one) ignores that and keeps
	// sending.
	ctlWaitState(t, m, func(st protocol.RoomState) bool {
		p := ctlFind(st, m.ID())
		return p.Muted.Audio && !p.Audible && st.Change.Kind == protocol.CmdMute && st.Change.By == f.ID()
	})
	if m.Paused.Load() {
		t.Fatal("the test client paused itself")
	}
	ctlExpect(t, "audio", cs, "f<s m<f,s s<f")
	ctlExpect(t, "video", cs, all)

	ctlSend(t, f, map[string]any{"type": "mute_participant", "participant": m.ID(), "kind": "video", "muted": true})
	ctlExpect(t, "video", cs, "f<s m<f,s s<f")

	ctlSend(t, f, map[string]any{"type": "mute_participant", "participant": m.ID(), "kind": "audio", "muted": false})
	ctlSend(t, f, map[string]any{"type": "mute_participant", "participant": m.ID(), "kind": "video", "muted": false})
	ctlWaitState(t, s, func(st protocol.RoomState) bool { p := ctlFind(st, m.ID()); return !p.Muted.Audio && !p.Muted.Video })
	ctlExpect(t, "audio", cs, all)
	ctlExpect(t, "video", cs, all)

	// A self mute is enforced the same way, even though this client keeps
	// sending after saying it muted.
	ctlSend(t, s, map[string]any{"type": "mute", "kind": "audio", "muted": true})
	ctlWaitState(t, f, func(st protocol.RoomState) bool { return ctlFind(st, s.ID()).SelfMuted.Audio })
	ctlExpect(t, "audio", cs, "f<m m<f s<f,m")
	ctlSend(t, s, map[string]any{"type": "mute", "kind": "audio", "muted": false})
	ctlExpect(t, "audio", cs, all)
}

// TestJoinMutedAndAskToSpeak: members join muted; where they may not unmute
// themselves they ask and a facilitator allows it; mute_all; and with
// self-unmute allowed, asking lifts the mute at once.
func TestJoinMutedAndAskToSpeak(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	f := ctlJoin(t, srv, "ask", "fran", room.RoleFacilitator, false)
	ctlSend(t, f, map[string]any{"type": "set_policy", "joinMuted": true, "selfUnmute": false})
	ctlWaitState(t, f, func(st protocol.RoomState) bool { return st.Policy.JoinMuted })
	a := ctlJoin(t, srv, "ask", "ann", room.RoleMember, false)
	b := ctlJoin(t, srv, "ask", "ben", room.RoleMember, false)
	cs := map[string]*client.Client{"f": f, "a": a, "b": b}
	if p := ctlFind(ctlWaitState(t, a, func(protocol.RoomState) bool { return true }), a.ID()); !p.Muted.Audio {
		t.Fatalf("member did not join muted: %+v", p)
	}
	// Muted from the first packet: nobody has ever heard a or b.
	ctlExpect(t, "audio", cs, "a<f b<f f<")
	if ctlCount(f, a, "audio")+ctlCount(f, b, "audio")+ctlCount(a, b, "audio")+ctlCount(b, a, "audio") != 0 {
		t.Fatal("a member who joined muted was heard")
	}

	ctlSend(t, a, map[string]any{"type": "request_unmute", "kind": "audio"})
	ctlWaitState(t, f, func(st protocol.RoomState) bool {
		p := ctlFind(st, a.ID())
		return p.UnmuteRequested.Audio && p.Muted.Audio
	})
	ctlExpect(t, "audio", cs, "a<f b<f f<")
	ctlSend(t, f, map[string]any{"type": "mute_participant", "participant": a.ID(), "kind": "audio", "muted": false})
	ctlExpect(t, "audio", cs, "a<f b<a,f f<a")

	ctlSend(t, f, map[string]any{"type": "mute_all", "muted": true})
	ctlExpect(t, "audio", cs, "a<f b<f f<")

	ctlSend(t, f, map[string]any{"type": "set_policy", "selfUnmute": true})
	ctlWaitState(t, b, func(st protocol.RoomState) bool { return st.Policy.SelfUnmute })
	ctlSend(t, b, map[string]any{"type": "request_unmute", "kind": "audio"})
	ctlWaitState(t, b, func(st protocol.RoomState) bool { return !ctlFind(st, b.ID()).Muted.Audio })
	ctlExpect(t, "audio", cs, "a<b,f b<f f<b")
}

// TestModeratedFloor: in moderated mode only the floor holder and
// facilitators are heard; hands queue first come first served; a timed
// share hands the floor to the next hand when it ends.
func TestModeratedFloor(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	f := ctlJoin(t, srv, "floor", "fran", room.RoleFacilitator, false)
	a := ctlJoin(t, srv, "floor", "ann", room.RoleMember, false)
	b := ctlJoin(t, srv, "floor", "ben", room.RoleMember, false)
	cs := map[string]*client.Client{"f": f, "a": a, "b": b}
	ctlExpect(t, "audio", cs, "f<a,b a<f,b b<f,a")

	ctlSend(t, f, map[string]any{"type": "set_floor_mode", "mode": "moderated"})
	ctlExpect(t, "audio", cs, "f< a<f b<f")

	ctlSend(t, b, map[string]any{"type": "raise_hand"})
	ctlWaitState(t, f, func(st protocol.RoomState) bool { return len(st.Hands) == 1 })
	ctlSend(t, a, map[string]any{"type": "raise_hand"})
	st := ctlWaitState(t, a, func(st protocol.RoomState) bool { return len(st.Hands) == 2 })
	if st.Hands[0].Participant != b.ID() || st.Hands[1].Participant != a.ID() {
		t.Fatalf("hand queue %+v, want b then a", st.Hands)
	}

	ctlSend(t, f, map[string]any{"type": "give_floor"}) // the first hand: b
	ctlWaitState(t, a, func(st protocol.RoomState) bool { return st.Floor.Holder == b.ID() && len(st.Hands) == 1 })
	ctlExpect(t, "audio", cs, "f<b a<f,b b<f")

	ctlSend(t, f, map[string]any{"type": "set_policy", "floorReturn": "next"})
	ctlSend(t, f, map[string]any{"type": "set_timer", "seconds": 1})
	st = ctlWaitState(t, b, func(st protocol.RoomState) bool { return st.Floor.Timer != nil })
	if st.Floor.Timer.Seconds != 1 || st.Floor.Timer.RemainingMs <= 0 || st.Floor.Timer.RemainingMs > 1000 {
		t.Fatalf("timer %+v", st.Floor.Timer)
	}
	// When b's share ends, the floor goes to the next hand, a, for as long.
	st = ctlWaitState(t, b, func(st protocol.RoomState) bool { return st.Floor.Holder == a.ID() })
	if st.Change.Kind != protocol.ChangeTimerExpiry || st.Floor.Timer == nil || st.Floor.Timer.Seconds != 1 {
		t.Fatalf("after expiry: change %+v, floor %+v", st.Change, st.Floor)
	}
	ctlWaitState(t, b, func(st protocol.RoomState) bool { return st.Floor.Holder == "" })
	ctlExpect(t, "audio", cs, "f< a<f b<f")

	ctlSend(t, f, map[string]any{"type": "give_floor", "participant": a.ID()})
	ctlExpect(t, "audio", cs, "f<a a<f b<f,a")
	ctlSend(t, f, map[string]any{"type": "take_floor"})
	ctlExpect(t, "audio", cs, "f< a<f b<f")
	ctlSend(t, f, map[string]any{"type": "set_floor_mode", "mode": "open"})
	ctlExpect(t, "audio", cs, "f<a,b a<f,b b<f,a")
}

// TestGoAroundRound: each member gets the floor in turn; at each step only
// the current speaker and the facilitator are heard, and everyone sees whose
// turn it is and who is next.
func TestGoAroundRound(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	f := ctlJoin(t, srv, "round", "fran", room.RoleFacilitator, false)
	a := ctlJoin(t, srv, "round", "ann", room.RoleMember, false)
	b := ctlJoin(t, srv, "round", "ben", room.RoleMember, false)
	c := ctlJoin(t, srv, "round", "cat", room.RoleMember, false)
	cs := map[string]*client.Client{"f": f, "a": a, "b": b, "c": c}

	turn := func(cur, next *client.Client) {
		t.Helper()
		for _, x := range cs {
			ctlWaitState(t, x, func(st protocol.RoomState) bool {
				if st.Round == nil || st.Round.Current != cur.ID() || st.Floor.Holder != cur.ID() {
					return false
				}
				return next == nil && st.Round.Next == "" || next != nil && st.Round.Next == next.ID()
			})
		}
	}
	ctlSend(t, f, map[string]any{"type": "start_round", "order": "join"})
	turn(a, b)
	ctlExpect(t, "audio", cs, "f<a a<f b<f,a c<f,a")

	ctlSend(t, b, map[string]any{"type": "pass"}) // not b's turn
	ctlWaitError(t, b, "pass", "bad_request")
	ctlSend(t, a, map[string]any{"type": "pass"})
	turn(b, c)
	ctlExpect(t, "audio", cs, "f<b a<f,b b<f c<f,b")

	ctlSend(t, f, map[string]any{"type": "skip"})
	turn(c, nil)
	ctlExpect(t, "audio", cs, "f<c a<f,c b<f,c c<f")

	ctlSend(t, c, map[string]any{"type": "end_turn"})
	st := ctlWaitState(t, f, func(st protocol.RoomState) bool { return st.Round == nil })
	if st.Floor.Holder != "" || st.Floor.Mode != protocol.FloorOpen {
		t.Fatalf("after the round: %+v", st.Floor)
	}
	ctlExpect(t, "audio", cs, "f<a,b,c a<f,b,c b<f,a,c c<f,a,b")

	// A round ended by the facilitator midway.
	ctlSend(t, f, map[string]any{"type": "start_round", "order": "shuffle"})
	ctlWaitState(t, f, func(st protocol.RoomState) bool { return st.Round != nil && len(st.Round.Turns) == 3 })
	ctlSend(t, f, map[string]any{"type": "end_round"})
	ctlWaitState(t, f, func(st protocol.RoomState) bool { return st.Round == nil })
	ctlExpect(t, "audio", cs, "f<a,b,c a<f,b,c b<f,a,c c<f,a,b")
}

// TestPrivateAside: while the facilitator and one member are in an aside,
// their audio reaches only each other; the two still hear the group, and
// the others keep hearing each other and see that an aside is happening.
func TestPrivateAside(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	f := ctlJoin(t, srv, "aside", "fran", room.RoleFacilitator, true)
	a := ctlJoin(t, srv, "aside", "ann", room.RoleMember, true)
	b := ctlJoin(t, srv, "aside", "ben", room.RoleMember, true)
	c := ctlJoin(t, srv, "aside", "cat", room.RoleMember, true)
	cs := map[string]*client.Client{"f": f, "a": a, "b": b, "c": c}
	all := "f<a,b,c a<f,b,c b<f,a,c c<f,a,b"
	ctlExpect(t, "audio", cs, all)

	ctlSend(t, f, map[string]any{"type": "start_aside", "participant": a.ID()})
	st := ctlWaitState(t, b, func(st protocol.RoomState) bool { return st.Aside != nil })
	if st.Aside.Host != f.ID() || st.Aside.Member != a.ID() || ctlFind(st, a.ID()).Audible || ctlFind(st, f.ID()).Audible {
		t.Fatalf("aside as the others see it: %+v", st.Aside)
	}
	ctlExpect(t, "audio", cs, "f<a,b,c a<f,b,c b<c c<b")
	ctlExpect(t, "video", cs, all) // everyone still sees everyone

	ctlSend(t, a, map[string]any{"type": "end_aside"}) // the member may end it
	ctlWaitState(t, c, func(st protocol.RoomState) bool { return st.Aside == nil })
	ctlExpect(t, "audio", cs, all)
}

// TestControlsForbidden: members and observers sending facilitator
// commands get forbidden and nothing changes, for every command.
func TestControlsForbidden(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	f := ctlJoin(t, srv, "nope", "fran", room.RoleFacilitator, false)
	m := ctlJoin(t, srv, "nope", "milo", room.RoleMember, false)
	// The observer only sends commands here: media to observers is not
	// what this test is about.
	o := ctlJoin(t, srv, "nope", "otto", room.RoleObserver, false)
	cs := map[string]*client.Client{"f": f, "m": m}
	ctlExpect(t, "audio", cs, "f<m m<f")
	ctlSync(t, f)
	before, _ := ctlState(f)

	facilitatorOnly := []map[string]any{
		{"type": "mute_participant", "participant": f.ID(), "kind": "audio", "muted": true},
		{"type": "mute_all", "muted": true},
		{"type": "set_policy", "selfUnmute": true},
		{"type": "decline_unmute", "participant": f.ID(), "kind": "audio"},
		{"type": "lower_hand", "participant": f.ID()},
		{"type": "give_floor", "participant": m.ID()},
		{"type": "take_floor"},
		{"type": "set_floor_mode", "mode": "moderated"},
		{"type": "set_timer", "seconds": 30},
		{"type": "extend_timer", "seconds": 60},
		{"type": "start_round", "order": "join"},
		{"type": "next_turn"},
		{"type": "skip"},
		{"type": "end_round"},
		{"type": "start_aside", "participant": m.ID()},
		{"type": "end_aside"},
		{"type": "start_side_room", "participants": []string{m.ID()}},
		{"type": "end_side_room"},
		{"type": "hand_facilitation", "participant": m.ID()},
		{"type": "take_back_facilitation"},
		{"type": "remove", "participant": f.ID(), "block": true},
		{"type": "end_session"},
	}
	speakerOnly := []map[string]any{
		{"type": "raise_hand"},
		{"type": "lower_hand"},
		{"type": "request_unmute", "kind": "audio"},
		{"type": "cancel_unmute_request", "kind": "audio"},
		{"type": "pass"},
		{"type": "end_turn"},
	}
	for _, msg := range facilitatorOnly {
		ctlSend(t, m, msg)
		ctlWaitError(t, m, msg["type"].(string), "forbidden")
	}
	for _, msg := range append(facilitatorOnly, speakerOnly...) {
		ctlSend(t, o, msg)
		ctlWaitError(t, o, msg["type"].(string), "forbidden")
	}
	// Everything the member and observer sent has been handled, and
	// anything broadcast because of it has reached f.
	ctlSync(t, m)
	ctlSync(t, o)
	ctlSync(t, f)
	if after, _ := ctlState(f); after.Version != before.Version {
		t.Fatalf("refused commands changed the state: version %d -> %d (%+v)", before.Version, after.Version, after.Change)
	}
	ctlExpect(t, "audio", cs, "f<m m<f")
}

// TestRemoveAndBlock: a removed participant is told bye "removed", its
// media stops, and with block it cannot rejoin this session.
func TestRemoveAndBlock(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	f := ctlJoin(t, srv, "rm", "fran", room.RoleFacilitator, false)
	m := ctlJoin(t, srv, "rm", "milo", room.RoleMember, false)
	s := ctlJoin(t, srv, "rm", "sue", room.RoleMember, false)
	ctlExpect(t, "audio", map[string]*client.Client{"f": f, "m": m, "s": s}, "f<m,s m<f,s s<f,m")

	gone := m.ID()
	ctlSend(t, f, map[string]any{"type": "remove", "participant": gone, "block": true})
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	if _, err := m.WaitMessage(ctx, "bye", func(msg client.Message) bool {
		var v struct{ Reason string }
		return msg.Decode(&v) == nil && v.Reason == "removed"
	}); err != nil {
		t.Fatalf("removed participant not told: %v; got %v", err, types(m))
	}
	if _, err := m.WaitMessage(ctx, "_closed", nil); err != nil {
		t.Fatal("removed participant's socket stayed open")
	}
	ctlWaitState(t, s, func(st protocol.RoomState) bool { return ctlFind(st, gone) == nil })
	if _, err := s.WaitMessage(ctx, "participant_left", func(msg client.Message) bool {
		var v struct{ Participant, Reason string }
		return msg.Decode(&v) == nil && v.Participant == gone && v.Reason == "removed"
	}); err != nil {
		t.Fatalf("others not told the participant was removed: %v", err)
	}
	ctlExpect(t, "audio", map[string]*client.Client{"f": f, "s": s}, "f<s s<f")

	again := dial(t, srv, client.Options{Room: "rm", Name: "milo", Token: ctlToken(t, "rm", "milo", room.RoleMember)})
	if err := again.Join(); err != nil {
		t.Fatal(err)
	}
	if _, err := again.WaitMessage(ctx, "error", func(msg client.Message) bool {
		var v struct{ Code string }
		return msg.Decode(&v) == nil && v.Code == "blocked"
	}); err != nil {
		t.Fatalf("blocked identity rejoined: %v; got %v", err, types(again))
	}
}

// TestEndSession: the facilitator ends the session and everyone, the
// facilitator too, gets bye "ended" and is disconnected.
func TestEndSession(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	f := ctlJoin(t, srv, "end", "fran", room.RoleFacilitator, false)
	a := ctlJoin(t, srv, "end", "ann", room.RoleMember, false)
	o := ctlJoin(t, srv, "end", "otto", room.RoleObserver, false)
	ctlSend(t, f, map[string]any{"type": "end_session"})
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	for _, c := range []*client.Client{f, a, o} {
		if _, err := c.WaitMessage(ctx, "bye", func(msg client.Message) bool {
			var v struct{ Reason string }
			return msg.Decode(&v) == nil && v.Reason == "ended"
		}); err != nil {
			t.Fatalf("%s: no bye ended: %v; got %v", c.ID(), err, types(c))
		}
		if _, err := c.WaitMessage(ctx, "_closed", nil); err != nil {
			t.Fatalf("%s: socket stayed open", c.ID())
		}
	}
	if st, _ := ctlState(a); !st.Ended {
		t.Fatalf("last room_state before bye does not say ended: %+v", st)
	}
	// A new session can start in the same room afterwards.
	f2 := ctlJoin(t, srv, "end", "fran", room.RoleFacilitator, false)
	if st, _ := ctlState(f2); st.Ended || len(st.Participants) != 1 {
		t.Fatalf("new session state: %+v", st)
	}
}

// TestActiveSpeakerAndTalkTime: audio levels from the RTP header extension
// become active_speaker for everyone and talk_time for facilitators only.
func TestActiveSpeakerAndTalkTime(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	f := ctlJoin(t, srv, "talk", "fran", room.RoleFacilitator, false)
	a := ctlJoin(t, srv, "talk", "ann", room.RoleMember, false)
	b := ctlJoin(t, srv, "talk", "ben", room.RoleMember, false)
	ctlExpect(t, "audio", map[string]*client.Client{"f": f, "a": a, "b": b}, "f<a,b a<f,b b<f,a")

	speaker := func(c *client.Client, id string) {
		t.Helper()
		ctx, cancel := budget.Context(t, budget.Step)
		defer cancel()
		err := c.Wait(ctx, func() bool {
			last := "none"
			for _, m := range c.Messages() {
				var v struct{ Participant *string }
				if m.Type == "active_speaker" && m.Decode(&v) == nil {
					last = ""
					if v.Participant != nil {
						last = *v.Participant
					}
				}
			}
			return last == id
		})
		if err != nil {
			t.Fatalf("%s: active speaker is not %q: %v", c.ID(), id, err)
		}
	}
	a.Speaking.Store(true)
	for _, c := range []*client.Client{f, a, b} {
		speaker(c, a.ID())
	}
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	msg, err := f.WaitMessage(ctx, "talk_time", func(m client.Message) bool {
		var v struct{ Entries []protocol.TalkTime }
		if m.Decode(&v) != nil {
			return false
		}
		got := map[string]int64{}
		for _, e := range v.Entries {
			got[e.Participant] = e.SpeakingMs
		}
		return got[a.ID()] >= 500 && got[b.ID()] == 0
	})
	if err != nil {
		t.Fatalf("no talk_time with ann's speech: %v", err)
	}
	var tt struct{ Entries []protocol.TalkTime }
	_ = msg.Decode(&tt)
	if tt.Entries[len(tt.Entries)-1].Participant != a.ID() {
		t.Fatalf("talk_time not least heard first: %+v", tt.Entries)
	}

	a.Speaking.Store(false)
	b.Speaking.Store(true)
	speaker(f, b.ID())
	b.Speaking.Store(false)
	speaker(f, "")

	for _, c := range []*client.Client{a, b} {
		for _, m := range c.Messages() {
			if m.Type == "talk_time" {
				t.Fatalf("member %s received talk_time", c.ID())
			}
		}
	}
}
