package turnserver_test

import (
	"context"
	"strings"
	"testing"
	"time"

	hclient "github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/internal/turnserver"
	"github.com/pion/webrtc/v4"
)

// TestRelayOnlyParticipant: a participant that may use TURN relay
// candidates only joins with the iceServers handed out in joined and
// exchanges media with a participant connected directly. Its selected
// candidate pair is a relay candidate of the embedded TURN server, towards
// the SFU's media socket.
func TestRelayOnlyParticipant(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{TURN: true})
	ts := srv.App.TURN()
	if ts == nil {
		t.Fatal("TURN is enabled but the app has no TURN server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()

	direct, err := hclient.Dial(ctx, nil, hclient.Options{URL: srv.WSURL, Room: "relay-room", Name: "Dee", Audio: true})
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

	relay := dialRelay(t, srv.WSURL, "relay-room", "Remy")
	select {
	case <-relay.joined:
	case <-ctx.Done():
		t.Fatalf("relay client not joined: %v", relay.errors())
	}

	// The credentials are the participant's own and short-lived.
	relay.mu.Lock()
	self, servers := relay.self, relay.ice
	relay.mu.Unlock()
	if len(servers) != 1 || len(servers[0].URLs) != 2 || !strings.HasPrefix(servers[0].URLs[0], "turn:127.0.0.1:") {
		t.Fatalf("iceServers = %+v, want the embedded TURN server", servers)
	}
	user, _ := servers[0].Username, servers[0].Credential
	exp, id, err := turnserver.ParseUsername(user)
	if err != nil || id != self {
		t.Fatalf("TURN username %q: user %q (%v), want the participant id %q", user, id, err, self)
	}
	if ttl := time.Until(exp); ttl < time.Hour || ttl > turnserver.DefaultCredentialTTL+time.Minute {
		t.Fatalf("credentials last %v", ttl)
	}

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

	// Through the relay: the selected pair's local candidate is a relay
	// candidate, and its remote one the SFU's media socket.
	pc := relay.peerConn()
	var pair *webrtc.ICECandidatePair
	for _, tr := range pc.GetTransceivers() {
		if s := tr.Sender(); s != nil && s.Transport() != nil {
			if pair, err = s.Transport().ICETransport().GetSelectedCandidatePair(); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if pair == nil {
		t.Fatal("no selected candidate pair")
	}
	if pair.Local.Typ != webrtc.ICECandidateTypeRelay {
		t.Fatalf("selected local candidate is %s, want relay: %s", pair.Local.Typ, pair)
	}
	if media := srv.App.MediaAddr(); pair.Remote.Address != media.IP.String() || int(pair.Remote.Port) != media.Port {
		t.Fatalf("selected remote candidate %s:%d, want the SFU's media socket %s", pair.Remote.Address, pair.Remote.Port, media)
	}
	if errs := relay.errors(); len(errs) > 0 {
		t.Fatalf("relay client errors: %v", errs)
	}
}
