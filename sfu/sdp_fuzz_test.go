package sfu

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// sdpRecorder is a Signaler that keeps the last offer and answer.
type sdpRecorder struct {
	mu            sync.Mutex
	offer, answer string
	offers        int
}

func (r *sdpRecorder) SendOffer(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.offer, r.offers = s, r.offers+1
}

func (r *sdpRecorder) SendAnswer(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answer = s
}

func (r *sdpRecorder) SendCandidate(webrtc.ICECandidateInit) {}

func (r *sdpRecorder) SendSections([]Section) {}

func (r *sdpRecorder) last() (offer string, offers int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.offer, r.offers
}

// state is the peer's own view of negotiation and pion's.
func (p *Peer) state() (negotiating bool, st webrtc.SignalingState) {
	p.negMu.Lock()
	defer p.negMu.Unlock()
	return p.negotiating, p.pc.SignalingState()
}

// loopbackClientAPI is a plain pion client restricted to loopback.
func loopbackClientAPI(tb testing.TB) *webrtc.API {
	tb.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		tb.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se))
}

// clientAnswer answers a server offer the way a client publishing audio
// would, and returns the client's own offer for a later round.
func clientAnswer(api *webrtc.API, offer string) (answer, nextOffer string, pc *webrtc.PeerConnection, err error) {
	pc, err = api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return "", "", nil, err
	}
	if err = pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", "", pc, err
	}
	a, err := pc.CreateAnswer(nil)
	if err == nil {
		err = pc.SetLocalDescription(a)
	}
	if err != nil {
		return "", "", pc, err
	}
	if _, err = pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		return "", "", pc, err
	}
	o, err := pc.CreateOffer(nil)
	return a.SDP, o.SDP, pc, err
}

// FuzzSDP applies arbitrary session descriptions to a peer of a real
// router on a loopback engine: as the answer to the server's first offer,
// then as a client offer once that negotiation is done. Nothing panics;
// refusals are ErrBadSDP; after a refused answer the server has an offer
// outstanding (its first, or a new one), which a real client answer
// completes; and a client
// offer, applied or refused, leaves the connection stable (never stuck
// half-way), answered when it was applied.
func FuzzSDP(f *testing.F) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e, err := NewEngine(Config{UDPAddr: "127.0.0.1:0", LoopbackOnly: true, Logger: log})
	if err != nil {
		f.Fatal(err)
	}
	r := e.NewRouter(RouterParams{ID: "fuzz", Logger: log})
	f.Cleanup(func() {
		r.Close()
		_ = e.Close()
	})
	api := loopbackClientAPI(f)

	// Seeds: a real answer and offer, and broken ones.
	seedPeer, err := r.AddPeer(PeerParams{ID: "seed", Signaler: &sdpRecorder{}})
	if err != nil {
		f.Fatal(err)
	}
	rec := seedPeer.sig.(*sdpRecorder)
	offer, _ := rec.last()
	answer, clientOffer, pc, err := clientAnswer(api, offer)
	if err != nil {
		f.Fatal(err)
	}
	_ = pc.Close()
	seedPeer.Close()
	f.Add(answer, clientOffer)
	f.Add("", "")
	f.Add("v=0\r\n", "v=0\r\n")
	f.Add(offer, answer)
	f.Add(answer[:len(answer)/2], clientOffer[:len(clientOffer)/2])
	f.Add("v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\n",
		"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=rtpmap:96 VP8/90000\r\na=sendonly\r\n")

	n := 0
	f.Fuzz(func(t *testing.T, answerSDP, offerSDP string) {
		n++
		sig := &sdpRecorder{}
		p, err := r.AddPeer(PeerParams{ID: fmt.Sprintf("p%d", n), Signaler: sig})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		serverOffer, offers := sig.last()
		if offers != 1 || serverOffer == "" {
			t.Fatalf("the server made %d offers", offers)
		}

		if err := p.HandleAnswer(answerSDP); err != nil {
			if !errors.Is(err, ErrBadSDP) {
				t.Fatalf("HandleAnswer: %v, want ErrBadSDP", err)
			}
			// Either an offer is outstanding (the first, or a new one) and
			// a real answer completes it, or the connection is stable.
			negotiating, st := p.state()
			if negotiating != (st == webrtc.SignalingStateHaveLocalOffer) || (!negotiating && st != webrtc.SignalingStateStable) {
				t.Fatalf("after a refused answer: negotiating=%v, %s", negotiating, st)
			}
			if negotiating {
				outstanding, _ := sig.last()
				answer, _, pc, err := clientAnswer(api, outstanding)
				if pc != nil {
					defer pc.Close()
				}
				if err != nil {
					t.Fatal(err)
				}
				if err := p.HandleAnswer(answer); err != nil {
					t.Fatalf("a real answer after a refused one: %v", err)
				}
			}
		}
		if negotiating, st := p.state(); negotiating || st != webrtc.SignalingStateStable {
			t.Fatalf("after the answer: negotiating=%v, %s", negotiating, st)
		}

		ignored, err := p.HandleOffer(offerSDP)
		if err != nil && !errors.Is(err, ErrBadSDP) {
			t.Fatalf("HandleOffer: %v, want ErrBadSDP", err)
		}
		if ignored && err != nil {
			t.Fatalf("offer both ignored and refused: %v", err)
		}
		if negotiating, st := p.state(); negotiating != (st == webrtc.SignalingStateHaveLocalOffer) ||
			(!negotiating && st != webrtc.SignalingStateStable) {
			t.Fatalf("after a client offer (err %v): negotiating=%v, %s", err, negotiating, st)
		}
		sig.mu.Lock()
		answered := sig.answer != ""
		sig.mu.Unlock()
		if err == nil && !ignored && !answered {
			t.Fatal("an applied offer was not answered")
		}
	})
}
