package signaling_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/pion/rtp"
)

// TestSendingQuality: a participant whose microphone loses a fifth of its
// packets on the way in is told that its sound is breaking up
// (sending_quality, poor, with about a fifth lost), and the others that its
// connection is weak (participant_updated); once nothing is lost, both
// are told it is over.
func TestSendingQuality(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	pub := joinAs(t, srv, client.Options{Room: "uplink", Name: "Pub", Audio: true, ExternalMedia: true})
	listener := joinAs(t, srv, client.Options{Room: "uplink", Name: "Listener", Audio: true})
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()

	// 50 packets a second; while lossy, every fifth is never sent.
	var lossy atomic.Bool
	lossy.Store(true)
	sending, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	defer func() { stop(); <-done }()
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		h := rtp.Header{Version: 2, PayloadType: 111}
		silence := []byte{0xf8, 0xff, 0xfe}
		for {
			select {
			case <-sending.Done():
				return
			case <-tick.C:
			}
			h.SequenceNumber++
			h.Timestamp += 960
			if lossy.Load() && h.SequenceNumber%5 == 0 {
				continue
			}
			_ = pub.WriteAudio(&h, silence)
		}
	}()

	quality := func(poor bool) func(client.Message) bool {
		return func(m client.Message) bool {
			var q protocol.SendingQuality
			return m.Decode(&q) == nil && q.Poor == poor
		}
	}
	m, err := pub.WaitMessage(ctx, "sending_quality", quality(true))
	if err != nil {
		t.Fatalf("a microphone losing a fifth of its packets was not told: %v", err)
	}
	var q protocol.SendingQuality
	if err := m.Decode(&q); err != nil || q.Lost < 0.1 || q.Lost > 0.3 {
		t.Errorf("told %.3f of its sound was lost, a fifth was (%v)", q.Lost, err)
	}
	weak := func(want bool) func(client.Message) bool {
		return func(m client.Message) bool {
			var ev protocol.ParticipantEvent
			return m.Decode(&ev) == nil && ev.Participant.ID == pub.ID() && ev.Participant.WeakConnection == want
		}
	}
	if _, err := listener.WaitMessage(ctx, "participant_updated", weak(true)); err != nil {
		t.Fatalf("the others were not told the connection is weak: %v", err)
	}
	lossy.Store(false)
	if _, err := pub.WaitMessage(ctx, "sending_quality", quality(false)); err != nil {
		t.Fatalf("a microphone no longer losing anything was not told: %v", err)
	}
	// Told after they were told it is weak.
	over := func() bool {
		told := false
		for _, m := range listener.Messages() {
			if m.Type != "participant_updated" {
				continue
			}
			if weak(true)(m) {
				told = true
			} else if told && weak(false)(m) {
				return true
			}
		}
		return false
	}
	if err := listener.Wait(ctx, over); err != nil {
		t.Fatalf("the others were not told the connection is no longer weak: %v", err)
	}
}

// TestHearingQuality: a participant whose client says much of the sound
// it receives is lost (hearing_quality) is shown to the others with a weak
// connection, and no longer once it says that is over; a client not yet
// seated is told to join first, and its connection carries on.
func TestHearingQuality(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	ann := joinAs(t, srv, client.Options{Room: "hearing", Name: "Ann", Audio: true})
	ben := joinAs(t, srv, client.Options{Room: "hearing", Name: "Ben", Audio: true})
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	updates := func(want ...bool) func() bool {
		return func() bool {
			var got []bool
			for _, m := range ben.Messages() {
				var ev protocol.ParticipantEvent
				if m.Type == "participant_updated" && m.Decode(&ev) == nil && ev.Participant.ID == ann.ID() {
					got = append(got, ev.Participant.WeakConnection)
				}
			}
			// Other news of Ann may come between; her connection's
			// changes are what counts.
			return slices.Equal(slices.Compact(got), want)
		}
	}
	if err := ann.Send(protocol.HearingQuality{Type: "hearing_quality", Poor: true}); err != nil {
		t.Fatal(err)
	}
	if err := ben.Wait(ctx, updates(true)); err != nil {
		t.Fatalf("Ben was not told Ann's connection is weak: %v", err)
	}
	if err := ann.Send(protocol.HearingQuality{Type: "hearing_quality", Poor: true}); err != nil {
		t.Fatal(err)
	}
	if err := ann.Send(protocol.HearingQuality{Type: "hearing_quality", Poor: false}); err != nil {
		t.Fatal(err)
	}
	if err := ben.Wait(ctx, updates(true, false)); err != nil {
		t.Fatalf("Ben was not told that Ann's connection is no longer weak: %v", err)
	}

	stranger := dial(t, srv, client.Options{Room: "hearing", Name: "Stranger"})
	if err := stranger.Send(protocol.HearingQuality{Type: "hearing_quality", Poor: true}); err != nil {
		t.Fatal(err)
	}
	m, err := stranger.WaitMessage(ctx, "error", nil)
	if err != nil {
		t.Fatalf("a client not seated got no error: %v", err)
	}
	var e protocol.Error
	if err := m.Decode(&e); err != nil || e.Code != protocol.CodeNotJoined {
		t.Errorf("a client not seated got %+v (%v), want %s", e, err, protocol.CodeNotJoined)
	}
	if err := stranger.Join(); err != nil {
		t.Fatal(err)
	}
	if _, err := stranger.WaitMessage(ctx, "joined", nil); err != nil {
		t.Fatalf("the stranger's connection did not carry on: %v", err)
	}
}
