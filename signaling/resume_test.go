package signaling_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/room"
	"github.com/pion/webrtc/v4"
)

// knockRoom sets up an open room whose arrivals must be admitted, with a
// facilitator present, and admits one member. Rejoining afresh would mean
// waiting again; resuming must not.
func knockRoom(t *testing.T, grace time.Duration) (srv *hearthtest.Server, fac, member *client.Client) {
	t.Helper()
	srv = hearthtest.Start(t, hearthtest.Options{ReconnectGrace: grace})
	createRoom(t, srv, room.RoomConfig{Name: "steady", Kind: room.KindOpen, Capacity: 10, Knock: true})
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	fac = joinWith(t, srv, client.Options{Room: "steady", Audio: true, Video: true,
		Token: token(t, "steady", "host", "Host", room.RoleFacilitator, time.Hour, time.Now())})
	if _, err := fac.WaitMessage(ctx, "joined", nil); err != nil {
		t.Fatal(err)
	}
	member = joinWith(t, srv, client.Options{Room: "steady", Audio: true, Video: true,
		Token: token(t, "steady", "client-1", "Rae", room.RoleMember, time.Hour, time.Now())})
	if _, err := member.WaitMessage(ctx, "waiting", nil); err != nil {
		t.Fatal(err)
	}
	if err := fac.Send(map[string]any{"type": "admit", "participant": "*"}); err != nil {
		t.Fatal(err)
	}
	if _, err := member.WaitMessage(ctx, "joined", nil); err != nil {
		t.Fatal(err)
	}
	waitMedia(t, fac, 20, member)
	waitMedia(t, member, 20, fac)
	return srv, fac, member
}

func participantState(c *client.Client, id, state string) func(client.Message) bool {
	return func(m client.Message) bool {
		var v struct {
			Participant struct{ ID, State string }
		}
		return m.Decode(&v) == nil && v.Participant.ID == id && v.Participant.State == state
	}
}

func latestState(c *client.Client) string {
	msgs := c.Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Type == "room_state" {
			return string(msgs[i].Raw)
		}
	}
	return ""
}

// TestReconnectKeepsSeat: a member's websocket drops; the others see
// "reconnecting", not a leave; the member comes back without re-admission
// with the same id, role, mute and place in the hand queue, and media flows.
func TestReconnectKeepsSeat(t *testing.T) {
	srv, fac, member := knockRoom(t, budget.Test)
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	id := member.ID()
	if err := member.Send(map[string]any{"type": "raise_hand"}); err != nil {
		t.Fatal(err)
	}
	if err := fac.Send(map[string]any{"type": "mute_participant", "participant": id, "kind": "audio", "muted": true}); err != nil {
		t.Fatal(err)
	}
	if err := fac.Wait(ctx, func() bool {
		st := latestState(fac)
		return strings.Contains(st, `"hands":[{"participant":"`+id) && strings.Contains(st, `"muted":{"audio":true`)
	}); err != nil {
		t.Fatalf("hand and mute not in the room state: %v", err)
	}

	member.Drop()
	if _, err := fac.WaitMessage(ctx, "participant_updated", participantState(fac, id, "reconnecting")); err != nil {
		t.Fatalf("facilitator not told the member is reconnecting: %v", err)
	}
	for _, m := range fac.Messages() {
		if m.Type == "participant_left" {
			t.Fatalf("a dropped connection looked like a leave: %s", m.Raw)
		}
	}

	spent := member.ResumeSecret()
	before := len(member.Messages())
	if err := member.Reconnect(ctx); err != nil {
		t.Fatal(err)
	}
	j, err := member.WaitMessage(ctx, "joined", func(m client.Message) bool { return strings.Contains(string(m.Raw), `"resumed":true`) })
	if err != nil {
		t.Fatalf("no resumed joined: %v (%v)", err, types(member))
	}
	var jm struct {
		Self struct{ ID, Role string }
	}
	_ = j.Decode(&jm)
	if jm.Self.ID != id || jm.Self.Role != "member" {
		t.Errorf("resumed as %+v, want id %s, member", jm.Self, id)
	}
	for _, m := range member.Messages()[before:] {
		if m.Type == "waiting" {
			t.Fatal("resuming member was sent to the waiting room")
		}
	}
	if _, err := fac.WaitMessage(ctx, "participant_updated", participantState(fac, id, "active")); err != nil {
		t.Fatalf("facilitator not told the member is back: %v", err)
	}
	// The controls state came through: still muted, hand still raised.
	if err := member.Wait(ctx, func() bool {
		st := latestState(member)
		return strings.Contains(st, `"hands":[{"participant":"`+id) && strings.Contains(st, `"muted":{"audio":true`)
	}); err != nil {
		t.Errorf("resumed member's room state lost the hand or the mute: %s", latestState(member))
	}
	// Media carries on both ways over the same peer connection.
	n := fac.Stream(id, "video").Packets.Load()
	if err := fac.Wait(ctx, func() bool { return fac.Stream(id, "video").Packets.Load() > n+20 }); err != nil {
		t.Errorf("member's video stopped reaching the facilitator")
	}
	n = member.Stream(fac.ID(), "audio").Packets.Load()
	waitMedia(t, member, n+20, fac)

	// The secret was single-use.
	thief := joinWith(t, srv, client.Options{Room: "steady", Resume: spent})
	waitError(t, thief, "resume_failed")
}

// TestReconnectNewPeer: a member whose page reloads (new peer connection)
// resumes the seat; the others see its tracks end and come back, never a
// leave and join, and media flows over the new connection.
func TestReconnectNewPeer(t *testing.T) {
	srv, fac, member := knockRoom(t, budget.Test)
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	id, secret := member.ID(), member.ResumeSecret()
	before := len(fac.Messages())
	member.Drop()
	member.Close() // the old page is gone, peer connection and all
	if _, err := fac.WaitMessage(ctx, "participant_updated", participantState(fac, id, "reconnecting")); err != nil {
		t.Fatal(err)
	}

	reloaded := joinWith(t, srv, client.Options{Room: "steady", Resume: secret, NewPeer: true, Audio: true, Video: true})
	j, err := reloaded.WaitMessage(ctx, "joined", nil)
	if err != nil {
		t.Fatalf("no joined after reload: %v (%v)", err, types(reloaded))
	}
	var jm struct{ Self struct{ ID string } }
	_ = j.Decode(&jm)
	if jm.Self.ID != id {
		t.Fatalf("reloaded member got id %s, want %s", jm.Self.ID, id)
	}
	waitMedia(t, reloaded, 20, fac)
	// The facilitator receives the member's new tracks.
	if err := fac.Wait(ctx, func() bool {
		s := fac.Stream(id, "audio")
		return s != nil && !s.Ended.Load() && s.Packets.Load() > 20
	}); err != nil {
		t.Fatalf("the reloaded member's media does not reach the facilitator: %v", err)
	}
	var published, unpublished int
	for _, m := range fac.Messages()[before:] {
		switch m.Type {
		case "participant_left", "participant_joined":
			t.Errorf("reload looked like a leave/join: %s", m.Raw)
		case "track_published":
			published++
		case "track_unpublished":
			unpublished++
		}
	}
	if published < 2 || unpublished < 2 {
		t.Errorf("tracks: %d unpublished, %d published; want the old ones ended and new ones published", unpublished, published)
	}
}

// TestReconnectGraceExpires: a seat not taken back within the grace period
// is released; a late resume fails plainly and the others see a leave.
func TestReconnectGraceExpires(t *testing.T) {
	srv, fac, member := knockRoom(t, 1500*time.Millisecond)
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	id, secret := member.ID(), member.ResumeSecret()
	member.Drop()
	if _, err := fac.WaitMessage(ctx, "participant_updated", participantState(fac, id, "reconnecting")); err != nil {
		t.Fatal(err)
	}
	if _, err := fac.WaitMessage(ctx, "participant_left", func(m client.Message) bool {
		var v struct{ Participant, Reason string }
		return m.Decode(&v) == nil && v.Participant == id && v.Reason == "timeout"
	}); err != nil {
		t.Fatalf("seat not released after the grace period: %v", err)
	}
	late := joinWith(t, srv, client.Options{Room: "steady", Resume: secret})
	waitError(t, late, "resume_failed")
	// The socket stays open for a fresh join (which, here, waits).
	if err := late.Send(map[string]any{"type": "join", "room": "steady", "name": "Rae"}); err != nil {
		t.Fatal(err)
	}
	if _, err := late.WaitMessage(ctx, "waiting", nil); err != nil {
		t.Fatalf("fresh join after resume_failed: %v", err)
	}
}

// TestICERestart: a client whose connectivity broke restarts ICE by
// offering with new credentials; the server answers and media flows.
func TestICERestart(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	a := joinPeer(t, srv, "restart", "Ann")
	b := joinPeer(t, srv, "restart", "Ben")
	waitMedia(t, a, 20, b)
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	pc := a.PC()
	oldUfrag := ufrag(pc.LocalDescription().SDP)
	offer := sendOffer(t, a, &webrtc.OfferOptions{ICERestart: true})
	if ufrag(offer.SDP) == oldUfrag {
		t.Fatal("restart offer kept the old ICE credentials")
	}
	if err := a.Wait(ctx, func() bool { return pc.SignalingState() == webrtc.SignalingStateStable }); err != nil {
		t.Fatalf("no answer to the ICE restart: %v", err)
	}
	n := a.Stream(b.ID(), "audio").Packets.Load()
	waitMedia(t, a, n+50, b)
	noErrors(t, a)
}

func ufrag(sdp string) string {
	for _, l := range strings.Split(sdp, "\n") {
		if strings.HasPrefix(l, "a=ice-ufrag:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "a=ice-ufrag:"))
		}
	}
	return ""
}
