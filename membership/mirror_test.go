package membership_test

import (
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/room"
)

// TestAdoptAndMirror: the room's next node reads the mirror its previous
// node wrote and adopts its seated presences, held (reconnecting) and
// hosted here from now on; someone waiting is not adopted this way (they
// come back by joining), and someone gone is not found.
func TestAdoptAndMirror(t *testing.T) {
	h := newHarness(t)
	h.create(room.RoomConfig{Name: "circle", Kind: room.KindOpen, Knock: true, Capacity: 10})
	other, err := membership.NewService(membership.ServiceConfig{Store: h.store, Secret: testSecret, NodeID: "node-b",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	fran, err := other.Join(h.ctx, membership.JoinRequest{Room: "circle", Token: h.token("circle", "fran", room.RoleFacilitator)})
	if err != nil {
		t.Fatal(err)
	}
	milo, err := other.Join(h.ctx, membership.JoinRequest{Room: "circle", Token: h.token("circle", "milo", room.RoleMember)})
	if err != nil || milo.Status != membership.JoinWaiting {
		t.Fatalf("milo: %+v, %v", milo, err)
	}
	if _, _, ok, err := h.svc.Mirrored(h.ctx, "circle"); ok || err != nil {
		t.Fatalf("a mirror before any was written: %v, %v", ok, err)
	}
	if err := other.Mirror(h.ctx, "circle", 0, 7, []byte(`{"state":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := other.Mirror(h.ctx, "circle", 0, 6, []byte(`{"state":0}`)); err != nil {
		t.Fatal(err)
	}
	v, data, ok, err := h.svc.Mirrored(h.ctx, "circle")
	if !ok || err != nil || v != 7 || string(data) != `{"state":1}` {
		t.Fatalf("mirrored: %d %s %v %v", v, data, ok, err)
	}

	p, seen, err := h.svc.Adopt(h.ctx, "circle", fran.Participant.ID)
	if err != nil || p.Node != "node-a" || p.State != room.StateReconnecting || p.Role != room.RoleFacilitator || seen.IsZero() {
		t.Fatalf("adopt fran: %+v, last seen %v, %v", p, seen, err)
	}
	if _, _, err := h.svc.Adopt(h.ctx, "circle", milo.Participant.ID); !errors.Is(err, room.ErrForbidden) {
		t.Fatalf("adopt milo, waiting: %v", err)
	}
	if _, _, err := h.svc.Adopt(h.ctx, "circle", "p_gone"); !errors.Is(err, room.ErrNotFound) {
		t.Fatalf("adopt someone gone: %v", err)
	}
	if got := h.svc.Hosted("circle"); !slices.Equal(got, []string{fran.Participant.ID}) {
		t.Fatalf("hosted here: %v", got)
	}
	if err := h.svc.Leave(h.ctx, "circle", fran.Participant.ID); err != nil {
		t.Fatal(err)
	}
	if err := other.Leave(h.ctx, "circle", milo.Participant.ID); err != nil {
		t.Fatal(err)
	}
	// The session is over: so is its mirror.
	if _, _, ok, err := h.svc.Mirrored(h.ctx, "circle"); ok || err != nil {
		t.Fatalf("a mirror after the session: %v, %v", ok, err)
	}
}
