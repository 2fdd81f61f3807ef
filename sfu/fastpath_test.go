package sfu

import (
	"bytes"
	"context"
	"crypto/tls"
	"testing"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/crypto/selfsign"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"go.uber.org/goleak"
)

// TestKeyCaptureMatchesDTLS runs a real DTLS handshake on loopback, the
// server side hooked like a peer's, and checks that the keys the fast path
// derives are the ones the client's own stack exports, for each profile
// and for both PRF hashes.
func TestKeyCaptureMatchesDTLS(t *testing.T) {
	defer goleak.VerifyNone(t)
	cases := []struct {
		suite   dtls.CipherSuiteID
		profile dtls.SRTPProtectionProfile
	}{
		{dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, dtls.SRTP_AEAD_AES_256_GCM},
		{dtls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, dtls.SRTP_AEAD_AES_128_GCM},
		{dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, dtls.SRTP_AES128_CM_HMAC_SHA1_80},
	}
	for _, tc := range cases {
		t.Run(dtls.CipherSuiteName(tc.suite), func(t *testing.T) {
			f := &peerFast{}
			clientState := dtlsHandshake(t, f, tc.suite, tc.profile)
			if f.state.Load() != fastPending {
				t.Fatalf("state %d after the ServerHello, want pending", f.state.Load())
			}
			keys, profile, err := f.keys.serverKeys()
			key, salt := keys.LocalMasterKey, keys.LocalMasterSalt
			if err != nil {
				t.Fatal(err)
			}
			if profile != srtp.ProtectionProfile(tc.profile) {
				t.Fatalf("profile %v, want %v", profile, tc.profile)
			}
			// What the client's stack derives for the server's direction.
			want := srtp.Config{Profile: profile}
			if err := want.ExtractSessionKeysFromDTLS(&clientState, true); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(key, want.Keys.RemoteMasterKey) || !bytes.Equal(salt, want.Keys.RemoteMasterSalt) {
				t.Fatal("derived keys differ from the DTLS stack's")
			}
			// The client's own, with which the server opens what it sends.
			if !bytes.Equal(keys.RemoteMasterKey, want.Keys.LocalMasterKey) || !bytes.Equal(keys.RemoteMasterSalt, want.Keys.LocalMasterSalt) {
				t.Fatal("derived client keys differ from the DTLS stack's")
			}
			// And a packet sealed with them opens on the client's side.
			tx, err := srtp.CreateContext(key, salt, profile)
			if err != nil {
				t.Fatal(err)
			}
			rx, err := srtp.CreateContext(want.Keys.RemoteMasterKey, want.Keys.RemoteMasterSalt, profile)
			if err != nil {
				t.Fatal(err)
			}
			pkt, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 7, SequenceNumber: 9}, Payload: []byte("hello")}).Marshal()
			enc, err := tx.EncryptRTP(nil, pkt, nil)
			if err != nil {
				t.Fatal(err)
			}
			dec, err := rx.DecryptRTP(nil, enc, nil)
			if err != nil || !bytes.Equal(dec, pkt) {
				t.Fatalf("decrypt: %v", err)
			}
		})
	}
}

// dtlsHandshake connects a DTLS client to a server hooked by f and returns the
// client's connection state.
func dtlsHandshake(t *testing.T, f *peerFast, suite dtls.CipherSuiteID, profile dtls.SRTPProtectionProfile) dtls.State {
	t.Helper()
	cert := func() tls.Certificate {
		c, err := selfsign.GenerateSelfSigned()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	sc, cc := loopbackUDP(t), loopbackUDP(t)
	serverCfg := &dtls.Config{
		Certificates: []tls.Certificate{cert()}, CipherSuites: []dtls.CipherSuiteID{suite},
		SRTPProtectionProfiles: []dtls.SRTPProtectionProfile{profile},
		ExtendedMasterSecret:   dtls.RequireExtendedMasterSecret,
		KeyLogWriter:           &f.keys, ServerHelloMessageHook: f.serverHello,
	}
	clientCfg := &dtls.Config{
		Certificates: []tls.Certificate{cert()}, CipherSuites: []dtls.CipherSuiteID{suite},
		SRTPProtectionProfiles: []dtls.SRTPProtectionProfile{profile},
		ExtendedMasterSecret:   dtls.RequireExtendedMasterSecret,
		InsecureSkipVerify:     true,
	}
	srv, err := dtls.Server(sc, cc.LocalAddr(), serverCfg)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := dtls.Client(cc, sc.LocalAddr(), clientCfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- srv.HandshakeContext(ctx) }()
	if err := cli.HandshakeContext(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	state, ok := cli.ConnectionState()
	if !ok {
		t.Fatal("no client state")
	}
	_ = cli.Close()
	_ = srv.Close()
	return state
}

// BenchmarkForwardFast is BenchmarkForward's audio fan-out through the fast
// path: header rewrite, SRTP encryption (AES-256-GCM, as negotiated with
// pion and browsers) and the batched socket, to loopback sinks nobody
// reads (the kernel drops what does not fit; the send cost is the same).
func BenchmarkForwardFast(b *testing.B) {
	for _, c := range []struct {
		name string
		subs int
		gcm  bool
	}{{"subs=7", 7, true}, {"subs=11", 11, true}, {"subs=11/pion-srtp", 11, false}} {
		subs := c.subs
		b.Run(c.name, func(b *testing.B) {
			src := loopbackUDP(b)
			u, err := newUDPBatcher(src, &Stats{})
			if err != nil {
				b.Fatal(err)
			}
			sink := loopbackUDP(b)
			dst := addrOf(sink)
			t := benchTrack(subs, func(int) rtpWriter { return &discardWriter{} })
			t.batch = u
			key := make([]byte, 32)
			salt := make([]byte, 12)
			for _, d := range *t.downs.Load() {
				f := &peerFast{}
				var err error
				if c.gcm {
					f.gcm, err = newGCMSealer(key, salt, srtp.ProtectionProfileAeadAes256Gcm)
				} else {
					f.ctx, err = srtp.CreateContext(key, salt, srtp.ProtectionProfileAeadAes256Gcm)
				}
				if err != nil {
					b.Fatal(err)
				}
				f.addr.Store(&dst)
				f.state.Store(fastReady)
				d.sub.fast = f
			}
			benchFanout(b, t, subs, &t.stats.FastForwarded)
		})
	}
}
