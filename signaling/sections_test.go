package signaling_test

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// owners returns whose media each section carries, by mid, as the
// sections messages c has received say.
func owners(c *client.Client) map[string]string {
	out := map[string]string{}
	for _, m := range c.Messages() {
		var v protocol.Sections
		if m.Type != "sections" || m.Decode(&v) != nil {
			continue
		}
		for _, s := range v.Sections {
			if s.Participant == nil {
				delete(out, s.Mid)
			} else {
				out[s.Mid] = *s.Participant
			}
		}
	}
	return out
}

// carriedStreams returns the streams (participant ids, with "-screen"
// for a screen share) c has been told its sections carry.
func carriedStreams(c *client.Client) map[string]bool {
	by := map[string]string{}
	for _, m := range c.Messages() {
		var v protocol.Sections
		if m.Type != "sections" || m.Decode(&v) != nil {
			continue
		}
		for _, s := range v.Sections {
			switch {
			case s.Participant == nil:
				delete(by, s.Mid)
			case s.Screen:
				by[s.Mid] = *s.Participant + "-screen"
			default:
				by[s.Mid] = *s.Participant
			}
		}
	}
	out := map[string]bool{}
	for _, st := range by {
		out[st] = true
	}
	return out
}

// carrying returns the mids of the sections that carry participant's media,
// as c was told.
func carrying(c *client.Client, participant string) []string {
	var mids []string
	for mid, p := range owners(c) {
		if p == participant {
			mids = append(mids, mid)
		}
	}
	return mids
}

// waitEmptied waits until c has been told that no section carries gone's
// media any more.
func waitEmptied(t *testing.T, c *client.Client, gone string) {
	t.Helper()
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	if err := c.Wait(ctx, func() bool { return len(carrying(c, gone)) == 0 }); err != nil {
		t.Fatalf("sections still carry %s's media", gone)
	}
}

// TestArrivalsDrawNoOffers: once the room has audio and video, a newcomer's
// media reaches those already in on spare sections, with a sections
// message and no offer; what the newcomer sends arrives, as theirs; and
// the sections a visitor leaves are said to carry nobody, again with no
// offer.
func TestArrivalsDrawNoOffers(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	stay := joinPeer(t, srv, "dropin", "Stay")
	first := joinPeer(t, srv, "dropin", "First")
	waitMedia(t, stay, 10, first)
	sent := len(offers(stay))
	size := len(stay.PC().GetTransceivers())
	for i := range 4 {
		v := joinPeer(t, srv, "dropin", "Visitor")
		waitMedia(t, stay, 10, v)
		if n := len(carrying(stay, v.ID())); n != 2 {
			t.Errorf("visitor %d: told of %d sections carrying their media, want 2", i+1, n)
		}
		id := v.ID()
		v.Close()
		waitEmptied(t, stay, id)
	}
	if n := len(offers(stay)); n != sent {
		t.Errorf("Stay got %d offers for 4 arrivals and departures, want none", n-sent)
	}
	if n := len(stay.PC().GetTransceivers()); n != size {
		t.Errorf("Stay's connection has %d sections after the visitors, %d before", n, size)
	}
	noErrors(t, stay)
}

// marked is a Counter that checks that each packet carries the mark of the
// participant it was attributed to (its payload's start), and counts them.
type marked struct {
	t     *testing.T
	who   string // "" for no check (the built-in generator's video)
	mu    sync.Mutex
	n     int
	wrong int
}

func (m *marked) Packet(b []byte, _ time.Duration) {
	var p rtp.Packet
	if p.Unmarshal(b) != nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.n++
	if m.who != "" && !bytes.HasPrefix(p.Payload, []byte(m.who+":")) {
		m.wrong++
		if m.wrong == 1 {
			m.t.Errorf("a packet of %q shown as %s's", p.Payload, m.who)
		}
	}
}

func (m *marked) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.n
}

// speak sends c's audio, each packet marked with c's id, until the test
// ends or c closes.
func speak(t *testing.T, c *client.Client) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		payload := append([]byte(c.ID()+":"), make([]byte, 40)...)
		h := rtp.Header{Version: 2, PayloadType: 111}
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			h.SequenceNumber++
			h.Timestamp += 960
			_ = c.WriteAudio(&h, payload) // fails once c has closed

		}
	}()
	t.Cleanup(func() { close(done); wg.Wait() })
}

// TestReusedSectionWaitsForClient: a member leaves, and another joins
// and takes the section they left; the subscriber attributes every packet
// to whoever sent it, never one of the newcomer's to the one who left,
// and the section is handed on only after the subscriber has answered an
// offer sent after it was said to carry nobody.
func TestReusedSectionWaitsForClient(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	var mu sync.Mutex
	counters := map[string]*marked{}
	stay := dial(t, srv, client.Options{Room: "handon", Name: "Stay", NewCounter: func(publisher, kind string) client.Counter {
		mu.Lock()
		defer mu.Unlock()
		m := &marked{t: t}
		if kind == "audio" {
			m.who = publisher
		}
		counters[publisher+"/"+kind] = m
		return m
	}})
	if err := stay.Join(); err != nil {
		t.Fatal(err)
	}
	got := func(c *client.Client, kind string) func() bool {
		return func() bool {
			mu.Lock()
			m := counters[c.ID()+"/"+kind]
			mu.Unlock()
			return m != nil && m.count() >= 20
		}
	}
	speaker := func(name string) *client.Client {
		c := dial(t, srv, client.Options{Room: "handon", Name: name, Audio: true, ExternalMedia: true})
		if err := c.Join(); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := budget.Context(t, budget.Step)
		defer cancel()
		if _, err := c.WaitMessage(ctx, "joined", nil); err != nil {
			t.Fatal(err)
		}
		speak(t, c)
		return c
	}
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()

	// Ben speaks; Stay, in before anyone published, gets a section for
	// him and spares, in one offer.
	ben := speaker("Ben")
	if err := stay.Wait(ctx, got(ben, "audio")); err != nil {
		t.Fatal("Stay does not hear Ben")
	}
	benMids := carrying(stay, ben.ID())
	if len(benMids) != 1 {
		t.Fatalf("Ben's audio on sections %v, want one", benMids)
	}
	ben.Close()
	waitEmptied(t, stay, ben.ID())

	// Cat arrives before Stay has answered an offer since: she gets a
	// spare, not Ben's section.
	cat := speaker("Cat")
	if err := stay.Wait(ctx, got(cat, "audio")); err != nil {
		t.Fatal("Stay does not hear Cat")
	}
	if mids := carrying(stay, cat.ID()); len(mids) != 1 || mids[0] == benMids[0] {
		t.Errorf("Cat's audio on sections %v; Ben's was %s, which Stay has not been offered since it emptied", mids, benMids[0])
	}

	// The first camera draws an offer (Stay has no video sections yet);
	// once Stay has answered it, Ben's section is free for the next.
	sent := len(offers(stay))
	cam := dial(t, srv, client.Options{Room: "handon", Name: "Cam", Video: true})
	if err := cam.Join(); err != nil {
		t.Fatal(err)
	}
	if err := stay.Wait(ctx, func() bool {
		return len(offers(stay)) > sent && stay.PC().SignalingState() == webrtc.SignalingStateStable && got(cam, "video")()
	}); err != nil {
		t.Fatal("Stay does not see Cam")
	}
	ping(t, stay) // the server has the answer
	dee := speaker("Dee")
	if err := stay.Wait(ctx, got(dee, "audio")); err != nil {
		t.Fatal("Stay does not hear Dee")
	}
	if mids := carrying(stay, dee.ID()); len(mids) != 1 || mids[0] != benMids[0] {
		t.Errorf("Dee's audio on sections %v, want Ben's former %s", mids, benMids[0])
	}
	mu.Lock()
	defer mu.Unlock()
	for key, m := range counters {
		if m.wrong > 0 {
			t.Errorf("%s: %d of %d packets attributed wrongly", key, m.wrong, m.n)
		}
	}
}
