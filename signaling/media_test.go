package signaling_test

import (
	"fmt"
	"testing"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/pion/webrtc/v4"
)

func dial(t *testing.T, srv *hearthtest.Server, opts client.Options) *client.Client {
	t.Helper()
	opts.URL = srv.WSURL
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	c, err := client.Dial(ctx, nil, opts)
	if err != nil {
		t.Fatalf("dial %s: %v", opts.Name, err)
	}
	t.Cleanup(c.Close)
	return c
}

// joinPeer dials, joins and waits for "joined".
func joinPeer(t *testing.T, srv *hearthtest.Server, room, name string) *client.Client {
	t.Helper()
	c := dial(t, srv, client.Options{Room: room, Name: name, Audio: true, Video: true})
	if err := c.Join(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	if _, err := c.WaitMessage(ctx, "joined", nil); err != nil {
		t.Fatalf("%s: no joined: %v; got %v", name, err, types(c))
	}
	return c
}

func types(c *client.Client) []string {
	var out []string
	for _, m := range c.Messages() {
		out = append(out, m.Type)
	}
	return out
}

// waitMedia waits until sub has received at least n packets of each kind
// from each publisher.
func waitMedia(t *testing.T, sub *client.Client, n uint64, pubs ...*client.Client) {
	t.Helper()
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	err := sub.Wait(ctx, func() bool {
		for _, p := range pubs {
			for _, k := range []string{"audio", "video"} {
				s := sub.Stream(p.ID(), k)
				if s == nil || s.Packets.Load() < n {
					return false
				}
			}
		}
		return true
	})
	if err != nil {
		t.Fatalf("%s did not receive media: %v\n%s", sub.ID(), err, describe(sub, pubs))
	}
}

func describe(sub *client.Client, pubs []*client.Client) string {
	out := ""
	for _, p := range pubs {
		for _, k := range []string{"audio", "video"} {
			s := sub.Stream(p.ID(), k)
			if s == nil {
				out += fmt.Sprintf("  from %s %s: no track\n", p.ID(), k)
				continue
			}
			out += fmt.Sprintf("  from %s %s: %d packets, ended=%v\n", p.ID(), k, s.Packets.Load(), s.Ended.Load())
		}
	}
	return out + fmt.Sprintf("  messages: %v, negotiation errors: %v", types(sub), sub.NegotiationErrors())
}

// TestGroupMeets: three participants see and hear each other; a late joiner
// gets every track and a keyframe request reaches each publisher for it; one
// leaves and the others see its tracks end.
func TestGroupMeets(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	a := joinPeer(t, srv, "circle", "Ann")
	b := joinPeer(t, srv, "circle", "Ben")
	c := joinPeer(t, srv, "circle", "Cat")
	all := []*client.Client{a, b, c}
	for _, sub := range all {
		var pubs []*client.Client
		for _, p := range all {
			if p != sub {
				pubs = append(pubs, p)
			}
		}
		waitMedia(t, sub, 25, pubs...)
	}

	before := map[*client.Client]uint64{}
	for _, p := range all {
		before[p] = p.KeyframeRequests.Load()
	}
	d := joinPeer(t, srv, "circle", "Dee")
	waitMedia(t, d, 25, a, b, c)
	for _, p := range all {
		if s := d.Stream(p.ID(), "video"); s.Keyframes.Load() == 0 {
			t.Errorf("late joiner got no keyframe from %s", p.ID())
		}
		if p.KeyframeRequests.Load() <= before[p] {
			t.Errorf("no keyframe request reached publisher %s when the late joiner subscribed", p.ID())
		}
	}
	// The earlier members receive the late joiner too.
	for _, sub := range all {
		waitMedia(t, sub, 25, d)
	}

	leaver := a.ID()
	a.Close()
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	for _, o := range []*client.Client{b, c, d} {
		if _, err := o.WaitMessage(ctx, "participant_left", func(m client.Message) bool {
			var v struct{ Participant string }
			return m.Decode(&v) == nil && v.Participant == leaver
		}); err != nil {
			t.Fatalf("%s did not see %s leave: %v", o.ID(), leaver, err)
		}
		err := o.Wait(ctx, func() bool {
			return o.Stream(leaver, "audio").Ended.Load() && o.Stream(leaver, "video").Ended.Load()
		})
		if err != nil {
			t.Fatalf("%s: the leaver's tracks did not end: %v", o.ID(), err)
		}
		unpub := 0
		for _, m := range o.Messages() {
			var v struct{ Participant string }
			if m.Type == "track_unpublished" && m.Decode(&v) == nil && v.Participant == leaver {
				unpub++
			}
		}
		if unpub != 2 {
			t.Errorf("%s saw %d track_unpublished for the leaver, want 2", o.ID(), unpub)
		}
	}
	// Those who stay keep receiving each other.
	for _, o := range []*client.Client{b, c, d} {
		var pubs []*client.Client
		for _, p := range []*client.Client{b, c, d} {
			if p != o {
				pubs = append(pubs, p)
			}
		}
		n := o.Stream(pubs[0].ID(), "audio").Packets.Load()
		waitMedia(t, o, n+25, pubs[0])
	}
}

// sendOffer makes c offer (as a browser renegotiating would): it sets the
// offer as its local description and sends it to the server.
func sendOffer(t *testing.T, c *client.Client, opts *webrtc.OfferOptions) webrtc.SessionDescription {
	t.Helper()
	pc := c.PC()
	offer, err := pc.CreateOffer(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(map[string]any{"type": "offer", "sdp": offer.SDP}); err != nil {
		t.Fatal(err)
	}
	return offer
}
