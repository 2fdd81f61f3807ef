package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/room"
)

// NewBenchStore makes a fresh, empty store for a benchmark and arranges for
// it to be closed.
type NewBenchStore func(b *testing.B) membership.Store

// groupSize is the room the benchmarks work in: a support group.
const groupSize = 12

// Bench measures the store operations on a session's paths: a join and a
// leave (AddPresence, RemovePresence), the heartbeat of a full group, reading
// the session and the room configuration, and admitting from the waiting
// room (SetState). Each reports ns per operation.
func Bench(b *testing.B, newStore NewBenchStore) {
	ctx := context.Background()
	seed := func(b *testing.B, s membership.Store, name string) []string {
		b.Helper()
		if _, err := s.CreateRoom(ctx, room.RoomConfig{Name: name, Kind: room.KindOpen}); err != nil {
			b.Fatal(err)
		}
		ids := make([]string, groupSize-1)
		for i := range ids {
			ids[i] = fmt.Sprintf("p_%08x", i)
			if _, err := s.AddPresence(ctx, participant(name, ids[i], room.StateActive), 0); err != nil {
				b.Fatal(err)
			}
		}
		return ids
	}
	b.Run("JoinLeave", func(b *testing.B) {
		s := newStore(b)
		seed(b, s, "bench")
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			id := fmt.Sprintf("p_j%07x", i)
			if _, err := s.AddPresence(ctx, participant("bench", id, room.StateActive), groupSize); err != nil {
				b.Fatal(err)
			}
			if _, err := s.RemovePresence(ctx, "bench", id); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Heartbeat12", func(b *testing.B) {
		s := newStore(b)
		ids := seed(b, s, "bench")
		ids = append(ids, "p_ffffffff")
		if _, err := s.AddPresence(ctx, participant("bench", ids[len(ids)-1], room.StateActive), 0); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			gone, err := s.Heartbeat(ctx, "bench", ids)
			if err != nil || len(gone) != 0 {
				b.Fatalf("heartbeat: gone %v, %v", gone, err)
			}
		}
	})
	b.Run("Session12", func(b *testing.B) {
		s := newStore(b)
		seed(b, s, "bench")
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, err := s.Session(ctx, "bench"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("GetRoom", func(b *testing.B) {
		s := newStore(b)
		seed(b, s, "bench")
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, err := s.GetRoom(ctx, "bench"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("WaitAdmitLeave", func(b *testing.B) {
		s := newStore(b)
		seed(b, s, "bench")
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			id := fmt.Sprintf("p_w%07x", i)
			if _, err := s.AddPresence(ctx, participant("bench", id, room.StateWaiting), groupSize); err != nil {
				b.Fatal(err)
			}
			if _, err := s.SetState(ctx, "bench", id, room.StateActive, "", groupSize); err != nil {
				b.Fatal(err)
			}
			if _, err := s.RemovePresence(ctx, "bench", id); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func participant(roomName, id string, state room.State) room.Participant {
	p := room.Participant{ID: id, Room: roomName, Identity: "id-" + id, Name: id, Role: room.RoleMember,
		Node: "bench", State: state, JoinedAt: time.Now()}
	if state == room.StateWaiting {
		p.Reason = room.WaitKnock
	}
	return p
}
