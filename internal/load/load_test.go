package load

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func smokeOptions() Options {
	return Options{
		Rooms: 2, Size: 3,
		Duration: 2 * time.Second, Warmup: 300 * time.Millisecond, Settle: 20 * time.Second,
		JoinRate: 50, Logger: slog.New(slog.DiscardHandler),
	}
}

// checkSmoke asserts what every short run must show: everyone joined and
// received everyone, at about the rate sent, with little loss.
func checkSmoke(t *testing.T, res *Result, kinds int) {
	t.Helper()
	n := res.Rooms * res.RoomSize
	if res.Participants != n || res.Failed != 0 || !res.Settled {
		t.Fatalf("%s: %d of %d joined (%d failed), settled %v", res.Target, res.Participants, n, res.Failed, res.Settled)
	}
	want := res.Rooms * res.RoomSize * (res.RoomSize - 1) * kinds
	if res.StreamsExpected != want || res.Streams != want {
		t.Errorf("%s: %d streams of %d expected, want %d", res.Target, res.Streams, res.StreamsExpected, want)
	}
	// Every packet sent reaches RoomSize-1 others. Measured against what
	// the generator really sent, not the nominal 50/s: on a busy machine
	// the generator falls behind, and that says nothing about forwarding.
	if res.SentPerSec <= 0 {
		t.Fatalf("%s: nothing was sent", res.Target)
	}
	if want := 0.9 * res.SentPerSec * float64(res.RoomSize-1); res.ReceivedPerSec < want {
		t.Errorf("%s: received %.0f packets/s of %.0f sent, want at least %.0f", res.Target, res.ReceivedPerSec, res.SentPerSec, want)
	}
	// A generator on a busy machine falls behind the nominal rate (the
	// run reports it, and TestNominalRate checks the rate itself); one
	// that sends more than it is a bug.
	if res.SentPerSec > 1.1*res.NominalSentPerSec {
		t.Errorf("%s: sent %.0f packets/s of %.0f nominal", res.Target, res.SentPerSec, res.NominalSentPerSec)
	} else if res.SentPerSec < 0.9*res.NominalSentPerSec {
		t.Logf("%s: the generator fell behind: sent %.0f packets/s of %.0f nominal", res.Target, res.SentPerSec, res.NominalSentPerSec)
	}
	if res.Loss > 0.05 {
		t.Errorf("%s: loss %.2f%%", res.Target, res.Loss*100)
	}
	if res.JoinFirstMedia.N != res.Rooms*(res.RoomSize-1) {
		t.Errorf("%s: %d join-to-first-media samples, want %d", res.Target, res.JoinFirstMedia.N, res.Rooms*(res.RoomSize-1))
	}
	if res.ServerForwardedPerSec <= 0 {
		t.Errorf("%s: the server's forwarded count was not read", res.Target)
	}
}

// TestHearthSmoke runs a short load against an in-process Hearth, with
// video, and reports it.
func TestHearthSmoke(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	o := smokeOptions()
	o.URL = srv.WSURL
	o.Media = MediaOptions{Video: true, VideoBitrate: 200_000, FPS: 10, KeyframeInterval: time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := RunHearth(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	checkSmoke(t, res, 2)
	// Bytes forwarded, per packet forwarded, must look like RTP packets.
	if per := res.ServerForwardedMbps * 1e6 / 8 / res.ServerForwardedPerSec; per < 12 || per > 1500 {
		t.Errorf("server forwarded %.1f Mbit/s at %.0f packets/s: %.0f bytes a packet", res.ServerForwardedMbps, res.ServerForwardedPerSec, per)
	}
	// The server's collector worked during the joins (a join allocates
	// hundreds of kilobytes), and its CPU was read.
	if res.ServerJoinGCCPUSeconds <= 0 {
		t.Errorf("the server's collector CPU during joins was not read: %v s", res.ServerJoinGCCPUSeconds)
	}
	if res.JitterVideo.N == 0 || res.JitterAudio.N == 0 {
		t.Errorf("jitter not measured: %+v %+v", res.JitterAudio, res.JitterVideo)
	}

	rep := &Report{Machine: DescribeMachine(), Results: []*Result{res}}
	rep.Finish()
	var table, js bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"receive loss", "join→first media", "server CPU µs / forwarded pkt", "forwarded RTP Mbit/s"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Results) != 1 {
		t.Fatalf("JSON report does not read back: %v", err)
	}
}

// TestHearthDecryptPath: the full pion receive path counts the same media.
func TestHearthDecryptPath(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	o := smokeOptions()
	o.URL, o.Rooms, o.Decrypt = srv.WSURL, 1, true
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := RunHearth(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	checkSmoke(t, res, 1)
}

// TestRelaySmoke runs the same load through the relay, encrypted and plain,
// in this process.
func TestRelaySmoke(t *testing.T) {
	for _, plain := range []bool{false, true} {
		r, err := ListenRelay(RelayOptions{Addr: "127.0.0.1:0", Plain: plain, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.Serve(ctx) }()
		o := smokeOptions()
		o.RelayAddr, o.RelayPlain = r.Addr().String(), plain
		res, err := RunRelay(ctx, o)
		cancel()
		if serr := <-done; serr != nil {
			t.Errorf("relay: %v", serr)
		}
		if err != nil {
			t.Fatal(err)
		}
		checkSmoke(t, res, 1)
	}
}

func TestRefusesRemoteTargets(t *testing.T) {
	for _, h := range []string{"127.0.0.1:8080", "localhost", "[::1]:9", "127.3.2.1"} {
		if err := CheckLoopback(h); err != nil {
			t.Errorf("%s refused: %v", h, err)
		}
	}
	for _, h := range []string{"10.0.0.1:8080", "example.com:80", "192.168.1.2"} {
		if err := CheckLoopback(h); err == nil {
			t.Errorf("%s accepted", h)
		}
	}
	_, err := RunHearth(context.Background(), Options{URL: "ws://10.1.2.3:8080/ws", Rooms: 1, Size: 2})
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("remote URL: %v", err)
	}
}

// TestRxStream: loss from sequence numbers across a wrap, and jitter from
// arrival times against RTP timestamps (RFC 3550 A.8).
func TestRxStream(t *testing.T) {
	s := newRxStream(audioClock)
	seq := uint16(65530)
	var ts uint32
	at := time.Duration(0)
	var a rxSnapshot
	for i := range 100 {
		if i == 10 {
			a = s.snapshot()
		}
		seq++
		ts += 960
		at += 20 * time.Millisecond
		if i == 50 || i == 51 {
			continue // lost
		}
		s.packet(seq, ts, 100, at)
	}
	b := s.snapshot()
	exp, got := windowLoss(a, b)
	if exp != 90 || got != 88 {
		t.Fatalf("window: expected %d received %d, want 90 and 88", exp, got)
	}
	if b.jitterSec > 1e-9 {
		t.Fatalf("jitter %v for perfectly paced packets", b.jitterSec)
	}
	// A 10 ms hiccup on every other packet shows as jitter of about 10 ms.
	j := newRxStream(audioClock)
	for i := range 400 {
		late := time.Duration(i%2) * 10 * time.Millisecond
		j.packet(uint16(i), uint32(i*960), 100, time.Duration(i)*20*time.Millisecond+late)
	}
	if js := j.snapshot().jitterSec; js < 0.008 || js > 0.012 {
		t.Fatalf("jitter %.4f s, want about 0.010", js)
	}
}

func TestNominalRate(t *testing.T) {
	all := [3]bool{true, true, true}
	if r := nominalRate(MediaOptions{}, all); r != 50 {
		t.Errorf("audio: %v packets/s, want 50", r)
	}
	// 500 kbit/s at 15 fps, keyframes every 3 s four times the size:
	// 44 delta frames of 4 packets and a keyframe of 15, per 3 s.
	v := nominalRate(MediaOptions{Video: true, VideoBitrate: 500_000, FPS: 15, KeyframeInterval: 3 * time.Second}, all)
	if want := 50 + (44*4+15)/3.0; v < want-0.01 || v > want+0.01 {
		t.Errorf("video: %v packets/s, want %v", v, want)
	}
}
