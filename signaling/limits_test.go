package signaling_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/sfu"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// TestFlood: a client flooding messages is told to slow down, then told it
// is disconnected, then disconnected with a policy-violation close; the
// others' media and signaling carry on. The flooder reads nothing until it
// is cut off, as a hostile client would: what the server said must still
// be there for it to read, in order.
func TestFlood(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	a := joinPeer(t, srv, "flood", "Ann")
	b := joinPeer(t, srv, "flood", "Ben")
	waitMedia(t, a, 10, b)

	deadline := budget.Deadline(t, budget.Test)
	bad, resp, err := websocket.DefaultDialer.Dial(srv.WSURL, nil)
	if resp != nil {
		resp.Body.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	_ = bad.SetReadDeadline(deadline)
	_ = bad.SetWriteDeadline(deadline)
	if err := bad.WriteJSON(map[string]any{"type": "join", "version": 1, "room": "flood", "name": "Mal"}); err != nil {
		t.Fatal(err)
	}
	var told []string // errors and the close, in order
	read := func() (string, bool) {
		_, data, err := bad.ReadMessage()
		if err != nil {
			told = append(told, "closed: "+err.Error())
			return "", false
		}
		var m struct{ Type, Code, Message string }
		_ = json.Unmarshal(data, &m)
		if m.Type == "error" {
			told = append(told, m.Code+": "+m.Message)
		}
		return m.Type, true
	}
	for typ := ""; typ != "joined"; {
		var ok bool
		if typ, ok = read(); !ok {
			t.Fatalf("the flooder could not join: %q", told)
		}
	}
	// Flood until the server hangs up, however long that takes here.
	sent := 0
	for ; time.Now().Before(deadline); sent++ {
		if err := bad.WriteMessage(websocket.TextMessage, []byte(`{"type":"ping","ts":1}`)); err != nil {
			break
		}
	}
	for {
		if _, ok := read(); !ok {
			break
		}
	}
	if len(told) < 3 ||
		!strings.HasPrefix(told[0], "rate_limited: ") || !strings.Contains(told[0], "slow down") ||
		!strings.HasPrefix(told[len(told)-2], "rate_limited: ") || !strings.Contains(told[len(told)-2], "disconnected") ||
		!strings.Contains(told[len(told)-1], "close 1008") {
		t.Errorf("after %d messages the flooder was told %q; want rate_limited slow down, rate_limited disconnected, then a 1008 close", sent, told)
	}
	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	if _, err := a.WaitMessage(ctx, "participant_left", nil); err != nil {
		t.Errorf("others not told the flooder left: %v", err)
	}
	ping(t, a)
	n := a.Stream(b.ID(), "audio").Packets.Load()
	waitMedia(t, a, n+50, b)
	n = b.Stream(a.ID(), "audio").Packets.Load()
	waitMedia(t, b, n+50, a)
}

// TestConnectionsPerIP: one address cannot open more than the limit,
// loopback included (127.0.0.1 is not a trusted proxy here).
func TestConnectionsPerIP(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{MaxConnsPerIP: 3})
	var open []*websocket.Conn
	defer func() {
		for _, ws := range open {
			ws.Close()
		}
	}()
	for i := range 3 {
		ws, resp, err := websocket.DefaultDialer.Dial(srv.WSURL, nil)
		if resp != nil {
			resp.Body.Close()
		}
		if err != nil {
			t.Fatalf("connection %d refused: %v", i+1, err)
		}
		open = append(open, ws)
	}
	ws, resp, err := websocket.DefaultDialer.Dial(srv.WSURL, nil)
	if ws != nil {
		ws.Close()
	}
	if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("fourth connection: err %v, status %v; want 429", err, resp)
	}
	resp.Body.Close()
	// Closing one frees a place.
	open[0].Close()
	open = open[1:]
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	for {
		ws, resp, err := websocket.DefaultDialer.DialContext(ctx, srv.WSURL, nil)
		if resp != nil {
			resp.Body.Close()
		}
		if err == nil {
			open = append(open, ws)
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("place not freed after a close: %v", err)
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
}

// TestTooManyTracks: a participant offering more tracks than allowed gets
// an error, and the extra tracks reach nobody.
func TestTooManyTracks(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	a := joinPeer(t, srv, "tracks", "Ann")
	b := joinPeer(t, srv, "tracks", "Ben")
	waitMedia(t, a, 10, b)
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()

	// Ben's client adds six more audio tracks and offers them.
	pc := b.PC()
	var extra []*webrtc.TrackLocalStaticRTP
	for i := range 6 {
		tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2},
			"extra"+string(rune('a'+i)), "extra")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			t.Fatal(err)
		}
		extra = append(extra, tr)
	}
	sendOffer(t, b, nil)
	if err := b.Wait(ctx, func() bool { return pc.SignalingState() == webrtc.SignalingStateStable }); err != nil {
		t.Fatalf("offer not answered: %v", err)
	}
	// Send on every extra track until the server has refused some.
	payload := make([]byte, 60)
	refused := func() bool {
		for _, m := range b.Messages() {
			if m.Type == "error" && strings.Contains(string(m.Raw), "too_many_tracks") {
				return true
			}
		}
		return false
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for seq := uint16(1); !refused(); seq++ {
		for _, tr := range extra {
			_ = tr.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 960}, Payload: payload})
		}
		select {
		case <-ctx.Done():
			t.Fatal("no too_many_tracks error")
		case <-tick.C:
		}
	}
	// What Ben keeps sending on the refused tracks is read and dropped by
	// the server, not left to pile up in its buffers.
	if err := waitMetric(ctx, srv, "hearth_sfu_refused_packets_total", func(v float64) bool { return v > 0 }); err != nil {
		t.Errorf("packets on refused tracks are not being read: %v", err)
	}
	ping(t, a)
	published := 0
	for _, m := range a.Messages() {
		var v struct{ Participant string }
		if m.Type == "track_published" && m.Decode(&v) == nil && v.Participant == b.ID() {
			published++
		}
	}
	if published > 4 {
		t.Errorf("Ann was told of %d tracks from Ben; at most 4 may be published", published)
	}
	n := a.Stream(b.ID(), "video").Packets.Load()
	waitMedia(t, a, n+20, b)
}

// TestOfferSectionLimit: a client's offer that adds more media sections of
// its own than it could ever publish on is refused with a clear error,
// before the server takes any of it, and the meeting carries on.
func TestOfferSectionLimit(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	a := joinPeer(t, srv, "sections", "Ann")
	b := joinPeer(t, srv, "sections", "Ben")
	waitMedia(t, a, 10, b)
	waitMedia(t, b, 10, a)

	pc := b.PC()
	for i := range 2*sfu.DefaultMaxTracks + 1 {
		tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2},
			fmt.Sprintf("extra%d", i), "extra")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			t.Fatal(err)
		}
	}
	sendOffer(t, b, nil)
	waitError(t, b, "bad_sdp")
	ping(t, b)
	waitMedia(t, a, a.Stream(b.ID(), "audio").Packets.Load()+20, b)
	waitMedia(t, b, b.Stream(a.ID(), "audio").Packets.Load()+20, a)
}

// waitMetric waits until the server's metric (unlabelled) satisfies ok.
func waitMetric(ctx context.Context, srv *hearthtest.Server, name string, ok func(float64) bool) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		v, err := hearthtest.Metric(ctx, srv.URL+"/metrics", name)
		if err == nil && ok(v) {
			return nil
		}
		last = err
		if err == nil {
			last = fmt.Errorf("%s is %v", name, v)
		}
		select {
		case <-ctx.Done():
			return last
		case <-tick.C:
		}
	}
}
