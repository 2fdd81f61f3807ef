package sfu

import (
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/pion/webrtc/v4"
	"go.uber.org/goleak"
)

// guardOf is the guard the mux holds under ufrag.
func guardOf(m *udpMux, ufrag string) (g *ingress, guards int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.guards[ufrag], len(m.guards)
}

// TestPeerBounds: a client may trickle maxCandidates candidates for an ICE
// session (counted from before its answer, the end of candidates aside),
// and as many again after an ICE restart. The peer's guard is registered
// with the mux under its local ufrag, the new one after a restart, and
// forgotten when the peer closes.
func TestPeerBounds(t *testing.T) {
	defer goleak.VerifyNone(t)
	log := slog.New(slog.DiscardHandler)
	e, err := NewEngine(Config{UDPAddr: "127.0.0.1:0", LoopbackOnly: true, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	r := e.NewRouter(RouterParams{ID: "bounds", Logger: log})
	defer r.Close()
	rec := &sdpRecorder{}
	p, err := r.AddPeer(PeerParams{ID: "p", Signaler: rec})
	if err != nil {
		t.Fatal(err)
	}
	mux := e.parts.mux
	offer, _ := rec.last()
	if g, n := guardOf(mux, localUfrag(offer)); g != p.in || n != 1 {
		t.Fatalf("guard %p of %d under the offer's ufrag, want the peer's", g, n)
	}

	cand := func(i int) webrtc.ICECandidateInit {
		return webrtc.ICECandidateInit{Candidate: fmt.Sprintf("candidate:%d 1 udp 2130706431 127.0.0.1 %d typ host", i, 20000+i)}
	}
	add := func(c webrtc.ICECandidateInit, ok bool) {
		t.Helper()
		err := p.AddICECandidate(c)
		if ok && err != nil || !ok && !errors.Is(err, ErrBadCandidate) {
			t.Fatalf("candidate %q: %v, want ok %v", c.Candidate, err, ok)
		}
	}
	for i := range maxCandidates - 1 {
		add(cand(i), true) // queued
	}
	answer, _, pc, err := clientAnswer(loopbackClientAPI(t), offer)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if err := p.HandleAnswer(answer); err != nil {
		t.Fatal(err)
	}
	add(cand(maxCandidates), true)
	add(webrtc.ICECandidateInit{}, true)
	add(cand(maxCandidates+1), false)

	restart, err := pc.CreateOffer(&webrtc.OfferOptions{ICERestart: true})
	if err == nil {
		err = pc.SetLocalDescription(restart)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.HandleOffer(restart.SDP); err != nil {
		t.Fatal(err)
	}
	add(cand(maxCandidates+2), true)
	rec.mu.Lock()
	newUfrag := localUfrag(rec.answer)
	rec.mu.Unlock()
	if g, n := guardOf(mux, newUfrag); newUfrag == localUfrag(offer) || g != p.in || n != 1 {
		t.Fatalf("after an ICE restart: guard %p of %d under the answer's ufrag, want the peer's alone", g, n)
	}

	p.Close()
	if _, n := guardOf(mux, newUfrag); n != 0 {
		t.Fatalf("%d guards left after the peer closed", n)
	}
}
