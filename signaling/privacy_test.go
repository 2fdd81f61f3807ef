package signaling_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/room"
	"golang.org/x/crypto/bcrypt"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLogsCarryNoPrivateData: at the most verbose level, the server's logs
// name participants by identity and id only: never a display name, a join
// token or a passcode, whatever the client sends.
func TestLogsCarryNoPrivateData(t *testing.T) {
	var logs syncBuffer
	srv := hearthtest.Start(t, hearthtest.Options{
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	createRoom(t, srv, room.RoomConfig{Name: "private", Kind: room.KindOpen, Capacity: 5})
	// The passcode is hashed at bcrypt's lowest cost. At the server's, a
	// check takes about 60 ms, and near a second under the race detector:
	// on a busy machine two joins then outlast the 5 s a message may take
	// and are refused as unavailable, which is not what this test is about.
	hash, err := bcrypt.GenerateFromPassword([]byte("river-stone-42"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.App.Store().UpdateRoom(context.Background(), "private", func(c *room.RoomConfig) error {
		c.PasscodeHash = string(hash)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	const secretName = "Zebulon Quince"
	tok := token(t, "private", "client-77", secretName, room.RoleMember, time.Hour, time.Now())
	a := joinWith(t, srv, client.Options{Room: "private", Token: tok, Passcode: "river-stone-42", Audio: true, Video: true})
	b := joinWith(t, srv, client.Options{Room: "private", Name: "Ysolde Marchbanks", Passcode: "river-stone-42", Audio: true})
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	for _, c := range []*client.Client{a, b} {
		if _, err := c.WaitMessage(ctx, "joined", nil); err != nil {
			t.Fatalf("no joined: %v; got %v", err, types(c))
		}
	}
	waitMedia(t, b, 10, a)
	// Refusals and bad input that echo private data.
	bad := joinWith(t, srv, client.Options{Room: "private", Token: tok + "x", Passcode: "wrong-" + secretName})
	waitError(t, bad, "invalid_token")
	wrong := joinWith(t, srv, client.Options{Room: "private", Name: secretName, Passcode: "river-stone-41"})
	waitError(t, wrong, "bad_passcode")
	_ = a.SendRaw(1, []byte(`{"type":"join","name":"`+secretName+`","token":"`+tok+`"}`))
	waitError(t, a, "already_joined")
	a.Close()
	if _, err := b.WaitMessage(ctx, "participant_left", nil); err != nil {
		t.Fatalf("no participant_left: %v; got %v", err, types(b))
	}

	out := logs.String()
	if !strings.Contains(out, "client-77") {
		t.Errorf("logs do not identify the participant by identity:\n%s", out)
	}
	for _, private := range []string{secretName, "Zebulon", "Ysolde", tok, tok[len(tok)-20:], "river-stone"} {
		if strings.Contains(out, private) {
			t.Errorf("logs contain %q", private)
		}
	}
}
