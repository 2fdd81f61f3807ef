package turnserver_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	hclient "github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/internal/turnserver"
	"github.com/pion/transport/v5"
	"github.com/pion/webrtc/v4"
)

// startTURN starts a Hearth with the embedded TURN server on UDP, TCP and
// TLS (with the certificate TestMain made trusted).
func startTURN(t *testing.T) (*hearthtest.Server, *turnserver.Server) {
	t.Helper()
	certFile, keyFile := trustedCert(t)
	srv := hearthtest.Start(t, hearthtest.Options{TURN: true, TURNTLSCert: certFile, TURNTLSKey: keyFile})
	ts := srv.App.TURN()
	if ts == nil || ts.TLSAddr() == nil {
		t.Fatal("TURN with TLS is enabled but the app has no such TURN server")
	}
	return srv, ts
}

// relayCall joins roomName with a participant connected directly and a
// relay-only one on network (nil: the machine's), and waits until each
// receives the other's audio.
func relayCall(ctx context.Context, t *testing.T, srv *hearthtest.Server, roomName string, network transport.Net) *relayClient {
	t.Helper()
	direct, err := hclient.Dial(ctx, nil, hclient.Options{URL: srv.WSURL, Room: roomName, Name: "Dee", Audio: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(direct.Close)
	if err := direct.Join(); err != nil {
		t.Fatal(err)
	}
	if _, err := direct.WaitMessage(ctx, "joined", nil); err != nil {
		t.Fatal(err)
	}

	relay := dialRelay(t, srv.WSURL, roomName, "Remy", network)
	select {
	case <-relay.joined:
	case <-ctx.Done():
		t.Fatalf("relay client not joined: %v", relay.errors())
	}
	relay.mu.Lock()
	self := relay.self
	relay.mu.Unlock()

	// Media both ways.
	if err := waitFor(ctx, func() bool {
		s := direct.Stream(self, "audio")
		return relay.packetsFrom(direct.ID()) > 20 && s != nil && s.Packets.Load() > 20
	}); err != nil {
		var got uint64
		if s := direct.Stream(self, "audio"); s != nil {
			got = s.Packets.Load()
		}
		t.Fatalf("media through the relay: relay client got %d packets, direct client got %d (%v); errors %v",
			relay.packetsFrom(direct.ID()), got, err, relay.errors())
	}
	if errs := relay.errors(); len(errs) > 0 {
		t.Fatalf("relay client errors: %v", errs)
	}
	return relay
}

// checkRelayed checks that the relay client's selected candidate pair is a
// relay of the embedded TURN server reached over want ("udp", "tcp" or
// "tls", or "" for any of them), towards the SFU's media socket.
func checkRelayed(t *testing.T, srv *hearthtest.Server, relay *relayClient, want string) {
	t.Helper()
	proto, pair, err := relay.relayProtocol()
	if err != nil {
		t.Fatal(err)
	}
	if pair.Local.Typ != webrtc.ICECandidateTypeRelay {
		t.Fatalf("selected local candidate is %s, want relay: %s", pair.Local.Typ, pair)
	}
	if want == "" && !slices.Contains([]string{"udp", "tcp", "tls"}, proto) || want != "" && proto != want {
		t.Fatalf("the relay is reached over %q, want %q: %s", proto, want, pair)
	}
	if media := srv.App.MediaAddr(); pair.Remote.Address != media.IP.String() || int(pair.Remote.Port) != media.Port {
		t.Fatalf("selected remote candidate %s:%d, want the SFU's media socket %s", pair.Remote.Address, pair.Remote.Port, media)
	}
}

// TestRelayOnlyParticipant: a participant that may use TURN relay
// candidates only joins with the iceServers handed out in joined: the
// embedded TURN server on UDP, TCP and TLS, in that order, with
// credentials of its own. It exchanges media with a participant connected
// directly, through a relay towards the SFU's media socket. Which of the
// three its ICE agent settles on is the agent's choice, made by timing as
// much as by preference: TestRelayFallback shows each one works alone.
func TestRelayOnlyParticipant(t *testing.T) {
	srv, ts := startTURN(t)
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	relay := relayCall(ctx, t, srv, "relay-room", nil)

	relay.mu.Lock()
	self, servers := relay.self, relay.ice
	relay.mu.Unlock()
	want := []string{
		fmt.Sprintf("turn:127.0.0.1:%d?transport=udp", ts.UDPAddr().Port),
		fmt.Sprintf("turn:127.0.0.1:%d?transport=tcp", ts.TCPAddr().Port),
		fmt.Sprintf("turns:127.0.0.1:%d?transport=tcp", ts.TLSAddr().Port),
	}
	if len(servers) != 1 || !slices.Equal(servers[0].URLs, want) {
		t.Fatalf("iceServers = %+v, want one with the URLs %q", servers, want)
	}
	// The credentials are the participant's own and short-lived.
	exp, id, err := turnserver.ParseUsername(servers[0].Username)
	if err != nil || id != self {
		t.Fatalf("TURN username %q: user %q (%v), want the participant id %q", servers[0].Username, id, err, self)
	}
	if ttl := time.Until(exp); ttl < time.Hour || ttl > turnserver.DefaultCredentialTTL+time.Minute {
		t.Fatalf("credentials last %v", ttl)
	}
	checkRelayed(t, srv, relay, "")
}

// TestRelayFallback: a relay-only participant given the same iceServers as
// everyone uses TURN over UDP on a network that lets out UDP and no TCP;
// on a network that blocks UDP it falls back by itself to TURN over TCP;
// on one that lets out only TCP to the TLS port, to TURN over TLS,
// checking the server's certificate. Each way it exchanges media with a
// participant connected directly.
func TestRelayFallback(t *testing.T) {
	srv, ts := startTURN(t)
	for _, tc := range []struct {
		name string
		udp  bool // whether the client's network lets UDP out
		port int  // the one TCP port it lets out, if any
	}{
		{"udp", true, 0},
		{"tcp", false, ts.TCPAddr().Port},
		{"tls", false, ts.TLSAddr().Port},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := budget.Context(t, budget.Test)
			defer cancel()
			network, err := newFirewall(tc.udp, tc.port)
			if err != nil {
				t.Fatal(err)
			}
			relay := relayCall(ctx, t, srv, "fallback-"+tc.name, network)
			checkRelayed(t, srv, relay, tc.name)
		})
	}
}
