package load

import (
	"context"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/pion/rtp"
)

// TestWaveArrivals: a wave fills its rooms exactly, numbers each room's
// members in the order they arrive, and spreads the arrivals evenly over
// the span, the same way on every run.
func TestWaveArrivals(t *testing.T) {
	const n, size, first = 240, 12, 5
	within := 5 * time.Second
	ms := waveArrivals(n, size, first, within, 1)
	if len(ms) != n {
		t.Fatalf("%d arrivals, want %d", len(ms), n)
	}
	next := map[int]int{}
	for i, m := range ms {
		if m.room < first || m.room >= first+n/size {
			t.Fatalf("arrival %d in room %d, want %d to %d", i, m.room, first, first+n/size-1)
		}
		if m.idx != next[m.room] {
			t.Fatalf("arrival %d is member %d of room %d, want %d", i, m.idx, m.room, next[m.room])
		}
		next[m.room]++
		if want := within * time.Duration(i) / (n - 1); m.at != want {
			t.Fatalf("arrival %d at %v, want %v", i, m.at, want)
		}
	}
	for room, k := range next {
		if k != size {
			t.Errorf("room %d has %d members, want %d", room, k, size)
		}
	}
	if ms[0].room == ms[1].room && ms[1].room == ms[2].room {
		t.Error("the first arrivals all went to one room: the order is not mixed")
	}
	again := waveArrivals(n, size, first, within, 1)
	for i := range ms {
		if *again[i] != *ms[i] {
			t.Fatalf("arrival %d differs between two runs: %+v, %+v", i, *ms[i], *again[i])
		}
	}
	// A room left part-filled by a wave that does not divide evenly.
	if ms := waveArrivals(5, 3, 0, time.Second, 1); len(ms) != 5 || ms[4].at != time.Second {
		t.Errorf("5 arrivals in rooms of 3: %d, the last at %v", len(ms), ms[len(ms)-1].at)
	}
}

// TestWaveSmoke runs a small session start against an in-process Hearth:
// one room running, then a wave of two more rooms; everyone joins and
// hears everyone, and the wave's joins and the running room are reported.
func TestWaveSmoke(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	o := smokeOptions()
	o.URL = srv.WSURL
	o.Rooms, o.Size = 1, 3
	o.Wave, o.WaveWithin = 6, 500*time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	res, err := RunHearth(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rooms != 3 {
		t.Errorf("%d rooms in the result, want 3 (1 running, 2 in the wave)", res.Rooms)
	}
	checkSmoke(t, res, 1)
	w := res.Wave
	if w == nil {
		t.Fatal("no wave in the result")
	}
	if w.Participants != 6 || w.Failed != 0 || w.Rooms != 2 || !w.Settled {
		t.Fatalf("wave: %d joined, %d failed, %d rooms, settled %v", w.Participants, w.Failed, w.Rooms, w.Settled)
	}
	if w.JoinFirstMedia.N != 2*2 || w.JoinAnswer.N != 6 {
		t.Errorf("wave: %d first-media and %d answer samples, want 4 and 6", w.JoinFirstMedia.N, w.JoinAnswer.N)
	}
	if w.SpanSeconds < 0.5 {
		t.Errorf("wave: span %.2f s, shorter than the joins were spread over", w.SpanSeconds)
	}
	// Each joined and answered its first offer at least.
	if w.AllocMBPerJoin <= 0 || w.AnswersPerJoin < 1 {
		t.Errorf("wave: %.2f MB allocated and %.2f answers per join", w.AllocMBPerJoin, w.AnswersPerJoin)
	}
	if w.ServerForwarded == 0 {
		t.Error("wave: the server's forwarded count was not read")
	}
	// The running room: three members hearing two others each, all along.
	if w.Running.Participants != 3 || w.Running.Streams != 6 {
		t.Errorf("running: %d participants, %d streams, want 3 and 6", w.Running.Participants, w.Running.Streams)
	}
	if w.Running.Loss > 0.05 {
		t.Errorf("running: loss %.2f%% during the wave", w.Running.Loss*100)
	}
	if w.Running.MaxGapMs <= 0 {
		t.Error("running: no gap measured: the streams' arrivals were not followed")
	}
}

// countWriter counts what a source sends.
type countWriter struct{ audio, video int }

func (c *countWriter) writeAudio(*rtp.Header, []byte)           { c.audio++ }
func (c *countWriter) writeVideo(*rtp.Header, []byte)           { c.video++ }
func (c *countWriter) writeVideoLayer(int, *rtp.Header, []byte) { c.video++ }

// TestPacerHold: a source added while the pacer holds sends one audio
// packet and one video frame a second, none counted as skipped; released,
// it sends at its full rate from where it is, and sources added before
// the hold never slow down. The clock is the test's.
func TestPacerHold(t *testing.T) {
	opts := MediaOptions{Video: true, VideoBitrate: 100_000, FPS: 10, KeyframeInterval: time.Hour}
	var p pacer
	t0 := time.Now()
	var wBefore, wHeld countWriter
	before := newMediaSource(&wBefore, opts, 0, 1, 2)
	p.add(before)
	p.hold()
	held := newMediaSource(&wHeld, opts, 0, 3, 4)
	p.add(held)
	// 3 s in 10 ms steps.
	for i := range 300 {
		now := t0.Add(time.Duration(i) * 10 * time.Millisecond)
		before.due(now)
		held.due(now)
	}
	if wHeld.audio != 3 || held.skipped.Load() != 0 {
		t.Errorf("held: %d audio packets in 3 s (%d skipped), want 3 and 0", wHeld.audio, held.skipped.Load())
	}
	if frames := wHeld.video; frames < 3 || frames > 3*5 {
		t.Errorf("held: %d video packets in 3 s, want 3 frames' worth", frames)
	}
	if wBefore.audio < 149 {
		t.Errorf("added before the hold: %d audio packets in 3 s, want 150", wBefore.audio)
	}
	p.release()
	held.due(t0.Add(3 * time.Second))
	a0 := wHeld.audio
	for i := range 100 {
		held.due(t0.Add(3*time.Second + time.Duration(i+1)*10*time.Millisecond))
	}
	if got := wHeld.audio - a0; got < 49 || got > 51 || held.skipped.Load() != 0 {
		t.Errorf("released: %d audio packets in 1 s (%d skipped), want 50 and none skipped", got, held.skipped.Load())
	}
	var wAfter countWriter
	after := newMediaSource(&wAfter, opts, 0, 5, 6)
	p.add(after)
	if after.quiet.Load() {
		t.Error("a source added after the release is held")
	}
}

// TestWaveQuietSmoke: a quiet wave against an in-process Hearth joins,
// reports its quiet span and work, then lets the media go: everyone hears
// everyone in the window after.
func TestWaveQuietSmoke(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	o := smokeOptions()
	o.URL = srv.WSURL
	o.Rooms, o.Size = 1, 3
	o.Wave, o.WaveWithin, o.WaveQuiet = 6, 500*time.Millisecond, true
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	res, err := RunHearth(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	checkSmoke(t, res, 1)
	w := res.Wave
	if w == nil || w.Quiet == nil {
		t.Fatal("no quiet wave in the result")
	}
	q := w.Quiet
	if !q.Settled || q.SpanSeconds < 0.5 || q.SpanSeconds > w.SpanSeconds {
		t.Errorf("quiet: settled %v over %.2f s (the whole wave %.2f s)", q.Settled, q.SpanSeconds, w.SpanSeconds)
	}
	if q.AllocMBPerJoin <= 0 || q.AnswersPerJoin < 1 {
		t.Errorf("quiet: %.2f MB allocated and %.2f answers per join", q.AllocMBPerJoin, q.AnswersPerJoin)
	}
	if q.ServerForwarded == 0 {
		t.Error("quiet: the server's forwarded count was not read")
	}
}
