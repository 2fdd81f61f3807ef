package web_test

// TestMediaEcho checks the client's WebRTC side against a small pion peer
// that plays the server's part: it offers recvonly m-lines for publishing
// and sendonly m-lines for others' tracks, and sends the client's own camera
// and microphone back as if they were another participant's. It runs without
// the real server, and only on 127.0.0.1.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/hearth-rtc/hearth/internal/testutil/browser"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
)

type echoServer struct {
	t      *testing.T
	wg     sync.WaitGroup
	addTwo chan struct{}
	// silence closes the server's peer connection and keeps the socket,
	// as if the media path broke; offers gets the client's offers.
	silence chan struct{}
	offers  chan string

	mu    sync.Mutex
	conns []*websocket.Conn
	pcs   []*webrtc.PeerConnection
}

func newEchoServer(t *testing.T) *echoServer {
	e := &echoServer{t: t, addTwo: make(chan struct{}, 1), silence: make(chan struct{}, 1), offers: make(chan string, 8)}
	t.Cleanup(func() {
		e.mu.Lock()
		for _, pc := range e.pcs {
			pc.Close()
		}
		for _, c := range e.conns {
			c.Close()
		}
		e.mu.Unlock()
		e.wg.Wait()
	})
	return e
}

func (e *echoServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.wg.Add(1)
	defer e.wg.Done()
	ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	e.mu.Lock()
	e.conns = append(e.conns, ws)
	e.mu.Unlock()
	err = e.serve(ws)
	var closeErr *websocket.CloseError
	if err != nil && !errors.As(err, &closeErr) && !errors.Is(err, net.ErrClosed) {
		e.t.Errorf("echo server: %v", err)
	}
}

func (e *echoServer) serve(ws *websocket.Conn) error {
	var writeMu sync.Mutex
	send := func(v any) error {
		writeMu.Lock()
		defer writeMu.Unlock()
		return ws.WriteJSON(v)
	}
	var join map[string]any
	if err := ws.ReadJSON(&join); err != nil {
		return err
	}
	if err := send(json.RawMessage(`{"type":"joined","version":1,
		"room":{"name":"echo","kind":"open","locked":false},
		"self":{"id":"p_me","identity":"me","name":"Me","role":"member"},
		"participants":[{"id":"p_echo","identity":"echo","name":"Echo","role":"member",
			"muted":{"audio":false,"video":false},"tracks":[]}],
		"iceServers":[]}`)); err != nil {
		return err
	}

	// Loopback only: no other interface, no mDNS.
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	// Set up like the real server: Opus and VP8, NACK, RTCP reports and
	// transport-wide congestion control, and not pion's default simulcast
	// header extensions, with which the browser could not make an offer of
	// its own (an ICE restart) that tells the m-lines apart.
	var me webrtc.MediaEngine
	for _, c := range []struct {
		p    webrtc.RTPCodecParameters
		kind webrtc.RTPCodecType
	}{
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, PayloadType: 111}, webrtc.RTPCodecTypeAudio},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, PayloadType: 96}, webrtc.RTPCodecTypeVideo},
	} {
		if err := me.RegisterCodec(c.p, c.kind); err != nil {
			return err
		}
	}
	ir := &interceptor.Registry{}
	if err := webrtc.ConfigureNack(&me, ir); err != nil {
		return err
	}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return err
	}
	if err := webrtc.ConfigureTWCCSender(&me, ir); err != nil {
		return err
	}
	pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(&me), webrtc.WithInterceptorRegistry(ir)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.pcs = append(e.pcs, pc)
	e.mu.Unlock()
	defer pc.Close()

	recv := webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, recv); err != nil {
		return err
	}
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, recv); err != nil {
		return err
	}
	echoAudio, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "p_echo-audio-1", "p_echo")
	if err != nil {
		return err
	}
	echoVideo, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "p_echo-video-1", "p_echo")
	if err != nil {
		return err
	}
	// The second participant's video joins later, by renegotiation.
	twoVideo, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "p_two-video-1", "p_two")
	if err != nil {
		return err
	}
	sendonly := webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}
	for _, tr := range []webrtc.TrackLocal{echoAudio, echoVideo} {
		if _, err := pc.AddTransceiverFromTrack(tr, sendonly); err != nil {
			return err
		}
	}

	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			send(map[string]any{"type": "candidate", "candidate": c.ToJSON()})
		}
	})
	var videoSSRC sync.Map
	pc.OnTrack(func(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		e.wg.Go(func() {
			outs := []*webrtc.TrackLocalStaticRTP{echoAudio}
			if track.Kind() == webrtc.RTPCodecTypeVideo {
				outs = []*webrtc.TrackLocalStaticRTP{echoVideo, twoVideo}
				videoSSRC.Store("ssrc", uint32(track.SSRC()))
			}
			for {
				p, _, err := track.ReadRTP()
				if err != nil {
					return
				}
				for _, out := range outs {
					out.WriteRTP(p)
				}
			}
		})
	})
	// New receivers need key frames; ask the publisher for one now and then.
	stopPLI := make(chan struct{})
	defer close(stopPLI)
	e.wg.Go(func() {
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopPLI:
				return
			case <-tick.C:
				if v, ok := videoSSRC.Load("ssrc"); ok {
					pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: v.(uint32)}})
				}
			}
		}
	})

	offer := func() error {
		o, err := pc.CreateOffer(nil)
		if err != nil {
			return err
		}
		if err := pc.SetLocalDescription(o); err != nil {
			return err
		}
		// Whose each section carries, before the offer, as the server
		// says it (PROTOCOL.md, "sections").
		var sections []map[string]any
		for _, tr := range pc.GetTransceivers() {
			if t := tr.Sender(); t != nil && t.Track() != nil {
				sections = append(sections, map[string]any{"mid": tr.Mid(), "participant": t.Track().StreamID(), "kind": t.Track().Kind().String()})
			}
		}
		if err := send(map[string]any{"type": "sections", "sections": sections}); err != nil {
			return err
		}
		return send(map[string]any{"type": "offer", "sdp": o.SDP})
	}
	if err := offer(); err != nil {
		return err
	}

	msgs := make(chan map[string]any)
	readErr := make(chan error, 1)
	e.wg.Go(func() {
		for {
			var m map[string]any
			if err := ws.ReadJSON(&m); err != nil {
				readErr <- err
				return
			}
			msgs <- m
		}
	})
	addTwo := e.addTwo
	silence := e.silence
	silent := false
	for {
		select {
		case err := <-readErr:
			return err
		case <-silence:
			silence = nil
			silent = true
			pc.Close()
		case <-addTwo:
			addTwo = nil
			if _, err := pc.AddTransceiverFromTrack(twoVideo, sendonly); err != nil {
				return err
			}
			send(json.RawMessage(`{"type":"participant_joined","participant":{"id":"p_two","identity":"two","name":"Second Echo","role":"member","muted":{"audio":false,"video":false},"tracks":[]}}`))
			send(json.RawMessage(`{"type":"track_published","participant":"p_two","track":{"id":"p_two-video-1","kind":"video","streamId":"p_two"}}`))
			if err := offer(); err != nil {
				return err
			}
		case m := <-msgs:
			if silent {
				if m["type"] == "offer" {
					sdp, _ := m["sdp"].(string)
					select {
					case e.offers <- sdp:
					default:
					}
				}
				continue
			}
			switch m["type"] {
			case "answer":
				sdp, _ := m["sdp"].(string)
				if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
					return err
				}
			case "candidate":
				raw, _ := json.Marshal(m["candidate"])
				var c webrtc.ICECandidateInit
				if json.Unmarshal(raw, &c) != nil || c.Candidate == "" {
					continue
				}
				// Only loopback candidates are used, so no traffic leaves
				// the loopback interface.
				if f := strings.Fields(c.Candidate); len(f) < 5 || !net.ParseIP(f[4]).IsLoopback() {
					continue
				}
				if err := pc.AddICECandidate(c); err != nil {
					return err
				}
			}
		}
	}
}

type inbound struct {
	Participant     *string
	Kind            string
	PacketsReceived int
	BytesReceived   int
	FramesDecoded   *int
}

func TestMediaEcho(t *testing.T) {
	echo := newEchoServer(t)
	srv := serveClient(t, echo)
	b := browser.New(t, browser.Desktop)
	if err := b.Navigate(t.Context(), srv.URL+"/r/echo"); err != nil {
		t.Fatal(err)
	}
	wait(t, b, `document.body.dataset.ready === "true"`)
	fill(t, b, "#name", "Me")
	click(t, b, "#join-button")
	wait(t, b, `hearth.screen === "call"`)
	if err := b.WaitJS(t.Context(), `hearth.state === "connected"`, budget.Step); err != nil {
		t.Fatal(err)
	}
	if got := eval[string](t, b, `document.getElementById("status").dataset.state`); got != "connected" {
		t.Errorf("status = %q, want connected", got)
	}

	// Video and sound come back attributed to p_echo, and keep coming.
	rising := func(participant, kind, field string) {
		t.Helper()
		expr := `hearth.inboundStats().then(s => s.filter(x => x.participant === ` + jsString(participant) +
			` && x.kind === ` + jsString(kind) + `).reduce((n, x) => n + (x.` + field + ` || 0), 0))`
		var first int
		if err := b.WaitJS(t.Context(), `(`+expr+`).then(n => n > 0)`, budget.Step); err != nil {
			t.Fatalf("%s %s %s: %v\nstats: %v", participant, kind, field, err, stats(t, b))
		}
		if err := b.Eval(t.Context(), expr, &first); err != nil {
			t.Fatal(err)
		}
		if err := b.WaitJS(t.Context(), `(`+expr+`).then(n => n > `+itoa(first)+`)`, budget.Step); err != nil {
			t.Fatalf("%s %s %s stopped at %d: %v", participant, kind, field, first, err)
		}
	}
	rising("p_echo", "video", "framesDecoded")
	rising("p_echo", "audio", "packetsReceived")
	wait(t, b, `document.querySelector('[data-participant="p_echo"]').dataset.camOff === "false"`)
	wait(t, b, `document.querySelector('[data-participant="p_echo"] video').videoWidth > 0`)
	wait(t, b, `document.querySelector('[data-participant="p_echo"] audio') !== null`)
	// The fake microphone beeps; the speaking ring follows the sound.
	wait(t, b, `document.querySelector('[data-participant="p_echo"]').dataset.speaking === "true"`)
	wait(t, b, `document.querySelector('[data-self]').dataset.speaking === "true"`)

	// A renegotiation adds a second participant's video and keeps ours.
	echo.addTwo <- struct{}{}
	wait(t, b, `document.querySelector('[data-participant="p_two"]') !== null`)
	rising("p_two", "video", "framesDecoded")
	rising("p_echo", "video", "framesDecoded")
	var pub struct{ Audio, Video bool }
	if err := b.Eval(t.Context(), `(() => { const tr = hearth.pc.getTransceivers().filter(t => t.currentDirection === "sendonly");
		return {Audio: tr.some(t => t.sender.track && t.sender.track.kind === "audio"), Video: tr.some(t => t.sender.track && t.sender.track.kind === "video")}; })()`, &pub); err != nil {
		t.Fatal(err)
	}
	if !pub.Audio || !pub.Video {
		t.Errorf("after renegotiation the client publishes %+v, want audio and video", pub)
	}
	for _, s := range stats(t, b) {
		if s.Participant == nil {
			t.Errorf("inbound %s stream with no participant", s.Kind)
		}
	}
	shot(t, b, "call-echo-desktop")
	checkClean(t, b)
}

// TestIceRestart breaks the media path while the websocket stays up: the
// client says it is reconnecting and, after a few seconds, restarts ICE by
// offering with new credentials.
func TestIceRestart(t *testing.T) {
	echo := newEchoServer(t)
	srv := serveClient(t, echo)
	b := browser.New(t, browser.Desktop)
	if err := b.Navigate(t.Context(), srv.URL+"/r/echo"); err != nil {
		t.Fatal(err)
	}
	wait(t, b, `document.body.dataset.ready === "true"`)
	fill(t, b, "#name", "Me")
	click(t, b, "#join-button")
	if err := b.WaitJS(t.Context(), `hearth.state === "connected"`, budget.Step); err != nil {
		t.Fatal(err)
	}
	ufrag := func(sdp string) string {
		for line := range strings.SplitSeq(sdp, "\r\n") {
			if v, ok := strings.CutPrefix(line, "a=ice-ufrag:"); ok {
				return v
			}
		}
		return ""
	}
	first := ufrag(eval[string](t, b, `hearth.pc.localDescription.sdp`))
	if first == "" {
		t.Fatal("no ice-ufrag in the client's answer")
	}
	echo.silence <- struct{}{}
	if err := b.WaitJS(t.Context(), `hearth.state === "reconnecting" && !document.getElementById("connection-banner").hidden`, budget.Step); err != nil {
		t.Fatalf("the client did not notice: %v (ICE %s)", err, eval[string](t, b, `hearth.pc.iceConnectionState`))
	}
	if got := text(t, b, "#connection-text"); got != "The connection is unsteady. Reconnecting sound and video…" {
		t.Errorf("banner = %q", got)
	}
	select {
	case sdp := <-echo.offers:
		if got := ufrag(sdp); got == "" || got == first {
			t.Errorf("the client's offer has ice-ufrag %q, want a new one (was %q)", got, first)
		}
	case <-time.After(budget.Timeout(t, budget.Step)):
		t.Fatalf("no ICE restart offer (ICE %s, restarts %d, signaling %s)\nconsole: %q", eval[string](t, b, `hearth.pc.iceConnectionState`),
			eval[int](t, b, `hearth.iceRestarts`), eval[string](t, b, `hearth.pc.signalingState`), b.ConsoleMessages())
	}
	if n := eval[int](t, b, `hearth.iceRestarts`); n < 1 {
		t.Errorf("iceRestarts = %d", n)
	}
	if got := eval[any](t, b, `[hearth.received.joined, hearth.resumes]`); fmt.Sprint(got) != "[1 0]" {
		t.Errorf("the websocket was replaced: joined, resumes = %v", got)
	}
	checkClean(t, b)
}

func stats(t *testing.T, b *browser.Browser) []inbound {
	var s []inbound
	if err := b.Eval(t.Context(), `hearth.inboundStats()`, &s); err != nil {
		t.Logf("stats: %v", err)
	}
	return s
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
