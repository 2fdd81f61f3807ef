package sfu

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/crypto/prf"
	"github.com/pion/dtls/v3/pkg/protocol/extension"
	"github.com/pion/dtls/v3/pkg/protocol/handshake"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"
)

// The fast path.
//
// Through pion, each forwarded packet crosses an interceptor chain, pion's
// SRTP session (buffer pool, marshal, lock), the DTLS mux endpoint, the ICE
// conn and candidate pair, and the ICE mux: about 1.5 µs a packet on the
// reference machine, more than the encryption itself and a fifth of the
// server's CPU in a support-group load. None of it is needed on the way
// out: the one header extension the server sends subscribers, video's
// send time, it writes itself (abssend.go); it answers their NACKs from
// its own history (history.go) and makes their sender reports itself
// (Engine.sendReports). So when the server is the DTLS
// server (browsers answer an actpass offer as the DTLS client), the engine
// derives the subscriber's SRTP keys the way pion does (RFC 5764's
// exporter over the handshake's master secret and randoms) and the
// forwarder encrypts audio and video itself, straight into the batched
// socket. Retransmissions in RTX, a stream of their own, and peers where
// the server is the DTLS client keep pion's path. The way in is in
// fastrecv.go.

// keyCapture learns what the exporter needs during a peer connection's DTLS
// handshake: the server random from the ServerHello hook, the client random
// and master secret from pion's key log (the only place pion exposes it;
// it stays in this process).
type keyCapture struct {
	mu           sync.Mutex
	hello        bool
	serverRandom [handshake.RandomLength]byte
	sha384       bool
	profile      srtp.ProtectionProfile
	clientRandom []byte
	master       []byte
}

// Write receives pion's key log ("CLIENT_RANDOM <hex> <hex>").
func (k *keyCapture) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(p, []byte{'\n'}) {
		f := strings.Fields(string(line))
		if len(f) != 3 || f[0] != "CLIENT_RANDOM" {
			continue
		}
		cr, err1 := hex.DecodeString(f[1])
		ms, err2 := hex.DecodeString(f[2])
		if err1 != nil || err2 != nil {
			continue
		}
		k.mu.Lock()
		k.clientRandom, k.master = cr, ms
		k.mu.Unlock()
	}
	return len(p), nil
}

// serverHello is the ServerHello hook: it notes what it needs and changes
// nothing.
func (k *keyCapture) serverHello(m handshake.MessageServerHello) handshake.Message {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.serverRandom = m.Random.MarshalFixed()
	if m.CipherSuiteID != nil {
		// TLS 1.2 suites use SHA-256 in the PRF unless named for SHA-384.
		k.sha384 = strings.Contains(dtls.CipherSuiteName(dtls.CipherSuiteID(*m.CipherSuiteID)), "SHA384")
	}
	for _, e := range m.Extensions {
		if u, ok := e.(*extension.UseSRTP); ok && len(u.ProtectionProfiles) > 0 {
			k.profile = srtp.ProtectionProfile(u.ProtectionProfiles[0])
		}
	}
	k.hello = true
	return &m
}

func (k *keyCapture) sawServerHello() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.hello
}

// ExportKeyingMaterial implements srtp.KeyingMaterialExporter for the
// server side (RFC 5705: seed is client random then server random).
func (k *keyCapture) ExportKeyingMaterial(label string, context []byte, length int) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.hello || k.master == nil || len(context) != 0 {
		return nil, errNoKeys
	}
	seed := append(append([]byte(label), k.clientRandom...), k.serverRandom[:]...)
	h := func() hash.Hash { return sha256.New() }
	if k.sha384 {
		h = sha512.New384
	}
	return prf.PHash(k.master, seed, length, h)
}

var errNoKeys = errors.New("sfu: DTLS keys not captured")

var errTooLarge = errors.New("sfu: packet too large to forward")

// serverKeys derives the SRTP master keys and salts: the server's own and
// the client's.
func (k *keyCapture) serverKeys() (keys srtp.SessionKeys, profile srtp.ProtectionProfile, err error) {
	k.mu.Lock()
	profile = k.profile
	k.mu.Unlock()
	if profile == 0 {
		return keys, 0, errNoKeys
	}
	cfg := srtp.Config{Profile: profile}
	if err := cfg.ExtractSessionKeysFromDTLS(k, false); err != nil {
		return keys, 0, err
	}
	return cfg.Keys, profile, nil
}

// Fast path states of a peer.
const (
	fastOff     int32 = iota // pion's path (no ServerHello seen, or it failed)
	fastPending              // handshake under way as DTLS server: hold audio
	fastReady                // keys and address known: encrypt here
)

// peerFast is one subscriber's fast path.
type peerFast struct {
	state atomic.Int32
	keys  keyCapture

	// One cipher per subscriber, as pion and the relay have, shared by the
	// readers of every track it receives: eleven per participant would not
	// stay in cache (each carries its key schedule and GHASH tables). One
	// of the two is set before state becomes fastReady: gcm, which seals
	// without a lock (srtpgcm.go), for the AES-GCM profiles browsers and
	// pion negotiate with Hearth; otherwise pion's ctx, under mu.
	gcm *gcmSealer
	mu  sync.Mutex
	ctx *srtp.Context
	// rtcp seals the server's reports with gcm's profile (reports.go);
	// rtcpIndex is the next SRTCP index, owned by the report ticker.
	rtcp      *gcmSealer
	rtcpIndex uint32

	addr atomic.Pointer[netip.AddrPort] // the selected candidate pair's remote

	// in is the receive side (fastrecv.go), set with fastReady for the
	// AES-GCM profiles; fb and guard are what it is made with
	// (feedback.go, ingresslayers.go), fb nil when video stays on pion's
	// path.
	in    atomic.Pointer[fastIn]
	fb    *feedback
	guard *ingress
}

// activate derives the keys and the destination once the connection is up,
// and has mux hand the peer's media to the receive fast path. It runs on
// pion's callback goroutine; failure leaves pion's path in use.
func (f *peerFast) activate(pc *webrtc.PeerConnection, mux *udpMux) error {
	if f.state.Load() == fastReady {
		return nil
	}
	if !f.keys.sawServerHello() {
		f.state.Store(fastOff)
		return nil
	}
	keys, profile, err := f.keys.serverKeys()
	if err == nil {
		err = f.watchAddr(pc, mux)
	}
	if err != nil {
		f.state.Store(fastOff)
		return err
	}
	if g, err := newGCMSealer(keys.LocalMasterKey, keys.LocalMasterSalt, profile); err == nil {
		f.gcm = g
		open, err := newGCMSealer(keys.RemoteMasterKey, keys.RemoteMasterSalt, profile)
		if err == nil {
			f.rtcp, err = newRTCPSealer(keys.LocalMasterKey, keys.LocalMasterSalt, profile)
		}
		if err != nil {
			f.state.Store(fastOff)
			return fmt.Errorf("sfu: fast path: %w", err)
		}
		f.in.Store(&fastIn{open: open, fb: f.fb, guard: f.guard})
		if d := pc.LocalDescription(); d != nil && mux != nil {
			mux.attach(localUfrag(d.SDP), f)
		}
	} else {
		ctx, err := srtp.CreateContext(keys.LocalMasterKey, keys.LocalMasterSalt, profile)
		if err != nil {
			f.state.Store(fastOff)
			return fmt.Errorf("sfu: fast path: %w", err)
		}
		f.ctx = ctx
	}
	f.state.Store(fastReady)
	return nil
}

// watchAddr keeps the destination the selected candidate pair's, and the
// receive fast path attached to the ICE agent's conn on mux: an ICE
// restart brings a new local ufrag, and with it a new conn.
func (f *peerFast) watchAddr(pc *webrtc.PeerConnection, mux *udpMux) error {
	ice := pc.SCTP().Transport().ICETransport()
	set := func(p *webrtc.ICECandidatePair) bool {
		if p == nil || p.Remote == nil {
			return false
		}
		a, err := netip.ParseAddr(p.Remote.Address)
		if err != nil {
			return false
		}
		ap := netip.AddrPortFrom(a.Unmap(), p.Remote.Port)
		f.addr.Store(&ap)
		return true
	}
	ice.OnSelectedCandidatePairChange(func(p *webrtc.ICECandidatePair) {
		set(p)
		if d := pc.LocalDescription(); d != nil && mux != nil && f.in.Load() != nil {
			mux.attach(localUfrag(d.SDP), f)
		}
	})
	pair, err := ice.GetSelectedCandidatePair()
	if err != nil {
		return fmt.Errorf("sfu: fast path: selected pair: %w", err)
	}
	if !set(pair) {
		return errors.New("sfu: fast path: no usable remote address")
	}
	return nil
}

// fastTrack is a downTrack's fast-path state, and what a sender report
// needs (for streams on either path), read by the report ticker.
type fastTrack struct {
	hdr rtp.Header // EncryptRTP's scratch, under peerFast.mu
	roc rocTracker // for gcmSealer, owned by the track's reader
	iv  [12]byte   // gcmSealer's scratch, owned by the track's reader

	// For sender reports, under the track's fwdMu.
	packets, octets uint32
	lastTS          uint32
	lastAt          int64 // unix ns of the last packet
}

// writeFast encrypts one packet for the subscriber and queues it on the
// batched socket. buf is the reader's scratch buffer.
func (d *downTrack) writeFast(f *peerFast, batch *udpBatcher, h *rtp.Header, payload []byte, buf []byte) error {
	ft := &d.fast
	hl, err := h.MarshalTo(buf)
	if err != nil {
		return err
	}
	if hl+len(payload)+sealTag > len(buf) {
		return errTooLarge
	}
	n := hl + copy(buf[hl:], payload)
	// Encrypted in place: the cipher supports it and the tag fits.
	var enc []byte
	if g := f.gcm; g != nil {
		enc = g.seal(buf, n, hl, h.SSRC, ft.roc.next(h.SequenceNumber), h.SequenceNumber, &ft.iv)
	} else {
		f.mu.Lock()
		enc, err = f.ctx.EncryptRTP(buf[:0], buf[:n], &ft.hdr)
		f.mu.Unlock()
		if err != nil {
			return err
		}
	}
	if _, err := batch.WriteToAddrPort(enc, *f.addr.Load()); err != nil {
		return err
	}
	return nil
}

// sent notes a packet sent on either path, for the stream's sender reports.
func (ft *fastTrack) sent(ts uint32, payload int, now int64) {
	ft.packets++
	ft.octets += uint32(payload)
	ft.lastTS = ts
	ft.lastAt = now
}

// peerAPI builds a peer's own API: the shared one with the peer's stream
// buffers (buffers.go) and hooks that capture its DTLS keys into keys (f's
// own when the fast path is on, f not nil), which the fast path and the
// ingress guard (ingress.go) use.
func (e *Engine) peerAPI(p *apiParts, link bool, f *peerFast, keys *keyCapture, bufs *streamBuffers, fb *feedback) *webrtc.API {
	ir := &interceptor.Registry{}
	for _, i := range p.interceptors {
		ir.Add(i)
	}
	if fb != nil {
		ir.Add(feedbackFactory{fb: fb})
	}
	se := p.settings
	if link {
		se = p.linkSettings
	}
	se.BufferFactory = bufs.factory
	se.SetDTLSKeyLogWriter(keys)
	hello := keys.serverHello
	if f != nil {
		hello = f.serverHello
	}
	se.SetDTLSServerHelloMessageHook(hello)
	return webrtc.NewAPI(webrtc.WithMediaEngine(p.media), webrtc.WithInterceptorRegistry(ir),
		webrtc.WithSettingEngine(se))
}

// serverHello is the peer's ServerHello hook: the server is the DTLS server,
// so audio waits for the fast path rather than start on pion's.
func (f *peerFast) serverHello(m handshake.MessageServerHello) handshake.Message {
	msg := f.keys.serverHello(m)
	f.state.CompareAndSwap(fastOff, fastPending)
	return msg
}

func (e *Engine) addPeer(p *Peer) {
	e.peersMu.Lock()
	e.peers[p] = struct{}{}
	e.peersMu.Unlock()
}

func (e *Engine) removePeer(p *Peer) {
	e.peersMu.Lock()
	delete(e.peers, p)
	e.peersMu.Unlock()
}
