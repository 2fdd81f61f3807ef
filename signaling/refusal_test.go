package signaling_test

import (
	"context"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/room"
)

// TestRefusalAnsweringCommandKeepsSeat: a refusal code that closes the
// socket in answer to join (here room_full) is only an error in answer to
// a command: the facilitator who tried to admit someone into a full room
// keeps their socket and seat, and the person waiting keeps waiting.
func TestRefusalAnsweringCommandKeepsSeat(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{})
	createRoom(t, srv, room.RoomConfig{Name: "tiny", Kind: room.KindOpen, Capacity: 1, Knock: true})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	fac := joinWith(t, srv, client.Options{Room: "tiny", Audio: true,
		Token: token(t, "tiny", "host", "Host", room.RoleFacilitator, time.Hour, time.Now())})
	if _, err := fac.WaitMessage(ctx, "joined", nil); err != nil {
		t.Fatal(err)
	}
	guest := joinWith(t, srv, client.Options{Room: "tiny", Name: "Guest", Audio: true})
	if _, err := guest.WaitMessage(ctx, "waiting", nil); err != nil {
		t.Fatalf("guest not waiting: %v", err)
	}
	if err := fac.Send(map[string]any{"type": "admit", "participant": "*"}); err != nil {
		t.Fatal(err)
	}
	waitError(t, fac, "room_full")
	ping(t, fac)
	ping(t, guest)
	for _, c := range []*client.Client{fac, guest} {
		for _, m := range c.Messages() {
			if m.Type == "_closed" || m.Type == "bye" {
				t.Fatalf("%s after admit into a full room: %v", m.Type, types(c))
			}
		}
	}
}
