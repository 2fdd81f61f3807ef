package signaling_test

import (
	"testing"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
	"github.com/pion/webrtc/v4"
)

// offers returns the SDPs of the offers the server has sent c, in order.
func offers(c *client.Client) []string {
	var out []string
	for _, m := range c.Messages() {
		var v struct{ SDP string }
		if m.Type == "offer" && m.Decode(&v) == nil {
			out = append(out, v.SDP)
		}
	}
	return out
}

// waitOffers waits until the server has sent c at least n offers.
func waitOffers(t *testing.T, c *client.Client, n int) []string {
	t.Helper()
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	if err := c.Wait(ctx, func() bool { return len(offers(c)) >= n }); err != nil {
		t.Fatalf("server sent %d offers, want %d: %v", len(offers(c)), n, err)
	}
	return offers(c)
}

// holdOffer makes c hold the server's next offer and returns it.
func waitHeld(t *testing.T, c *client.Client) string {
	t.Helper()
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	if err := c.Wait(ctx, func() bool { return c.Held() != "" }); err != nil {
		t.Fatalf("no offer from the server: %v", err)
	}
	return c.Held()
}

func noErrors(t *testing.T, c *client.Client) {
	t.Helper()
	for _, m := range c.Messages() {
		if m.Type == "error" {
			t.Errorf("unexpected error message: %s", m.Raw)
		}
	}
	if errs := c.NegotiationErrors(); len(errs) > 0 {
		t.Errorf("negotiation errors: %v", errs)
	}
}

// TestClientOfferCrossesServers: a pion client's own offer (a screen)
// crosses an offer of the server's. pion cannot roll back a local offer, so
// the Go client sets its offer only once answered: it answers the server's
// offer as usual, the server having ignored its own, and offers again by
// itself. Its screen reaches the others and nothing errs.
func TestClientOfferCrossesServers(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	f := ctlJoin(t, srv, "glare-screen", "fran", room.RoleFacilitator, false)
	waitStable(t, f)
	f.Hold(true)
	// A camera is the room's first video: the server offers Fran sections
	// for it.
	b := ctlJoin(t, srv, "glare-screen", "ben", room.RoleMember, true)
	waitHeld(t, f)
	ctlSend(t, f, map[string]any{"type": "start_screen_share"})
	ctlWaitState(t, b, func(st protocol.RoomState) bool { return sharerOf(st) == f.ID() })
	if err := f.PublishScreen(); err != nil {
		t.Fatal(err)
	}
	if f.Negotiated() {
		t.Fatal("the screen's offer is out, yet the client says it is negotiated")
	}
	f.Hold(false)
	waitStable(t, f)
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	if err := b.Wait(ctx, func() bool {
		s := b.ScreenStream(f.ID())
		return s != nil && s.Packets.Load() > 10
	}); err != nil {
		t.Fatalf("Fran's screen did not reach Ben: %v; Fran got %v, errors %v; Ben got %v", err, types(f), f.NegotiationErrors(), types(b))
	}
	waitMedia(t, f, 25, b)
	if answers := countType(f, "answer"); answers != 1 {
		t.Errorf("the server sent %d answers, want 1: the crossing offer ignored, the one made again answered", answers)
	}
	noErrors(t, f)
}

// TestOfferCollision: the client offers while the server's renegotiation
// offer is outstanding. The server (impolite) ignores the client's offer;
// the client (polite) rolls back and answers; media flows.
func TestOfferCollision(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	a := joinPeer(t, srv, "glare", "Ann")
	a.Hold(true)
	b := joinPeer(t, srv, "glare", "Ben")
	// Ben's arrival makes the server offer Ann his tracks.
	waitHeld(t, a)

	// A polite client rolls its own offer back when the server's arrives;
	// pion cannot roll back a local offer, so the colliding offer comes
	// from a scratch connection: the server sees the same thing.
	api, err := client.NewAPI()
	if err != nil {
		t.Fatal(err)
	}
	scratch, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer scratch.Close()
	if _, err := scratch.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	mine, err := scratch.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Send(map[string]any{"type": "offer", "sdp": mine.SDP}); err != nil {
		t.Fatal(err)
	}
	a.Hold(false)
	pc := a.PC()
	waitMedia(t, a, 25, b)
	waitMedia(t, b, 25, a)
	for _, m := range a.Messages() {
		if m.Type == "answer" {
			t.Error("server answered a colliding client offer; it should have ignored it")
		}
	}
	noErrors(t, a)

	// Outside a collision the server answers a client offer.
	sendOffer(t, a, nil)
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	if _, err := a.WaitMessage(ctx, "answer", nil); err != nil {
		t.Fatalf("no answer to a client offer: %v", err)
	}
	if err := a.Wait(ctx, func() bool { return pc.SignalingState() == webrtc.SignalingStateStable }); err != nil {
		t.Fatalf("the server's answer did not apply: %v", err)
	}
	n := a.Stream(b.ID(), "audio").Packets.Load()
	waitMedia(t, a, n+25, b)
	noErrors(t, a)
}

// TestLeaveMidNegotiation: someone joins and leaves while the server's offer
// about them is still unanswered; answering the stale offer works, the
// leaver's sections are said to carry nobody with no offer after it, and
// the next arrival's media flows on sections the client has.
func TestLeaveMidNegotiation(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	a := joinPeer(t, srv, "churn", "Ann")
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	if err := a.Wait(ctx, func() bool {
		return a.PC().RemoteDescription() != nil && a.PC().SignalingState() == webrtc.SignalingStateStable
	}); err != nil {
		t.Fatalf("Ann's first offer not answered: %v", err)
	}

	a.Hold(true)
	b := joinPeer(t, srv, "churn", "Ben")
	waitHeld(t, a) // an offer adding sections for Ben's tracks, and spares
	sent := len(offers(a))
	leaver := b.ID()
	b.Close()
	if _, err := a.WaitMessage(ctx, "participant_left", nil); err != nil {
		t.Fatal(err)
	}
	waitEmptied(t, a, leaver)
	a.Hold(false) // answer the stale offer
	if err := a.Wait(ctx, func() bool { return a.PC().SignalingState() == webrtc.SignalingStateStable }); err != nil {
		t.Fatalf("the stale offer was not answered: %v", err)
	}
	if s := a.Stream(leaver, "audio"); s != nil && s.Packets.Load() > 0 && !s.Ended.Load() {
		t.Errorf("the leaver's track did not end")
	}
	c := joinPeer(t, srv, "churn", "Cat")
	waitMedia(t, a, 25, c)
	if got := len(offers(a)); got != sent {
		t.Errorf("Ann got %d offers after the stale one, want none", got-sent)
	}
	noErrors(t, a)
}
