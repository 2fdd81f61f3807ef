package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/hearth-rtc/hearth/room"
)

// The contract for seats: one per identity and no more than the capacity,
// however many joins and admissions race.

// race runs n functions at once, released together.
func race(n int, fn func(i int) error) []error {
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// testOneSeatPerIdentity: an identity has at most one presence in a
// session, seated or waiting, however many joins race for it; once it is
// gone, it may come back under a new id.
func testOneSeatPerIdentity(t *testing.T, newStore NewStore) {
	s, ctx := newStore(t, longTTL), ctxT(t)
	a := person("circle", "p_bbbb0001", "sam", room.RoleMember, room.StateActive)
	_, err := s.AddPresence(ctx, a, 0)
	must(t, err, "add sam")
	again := person("circle", "p_bbbb0002", "sam", room.RoleMember, room.StateActive)
	_, err = s.AddPresence(ctx, again, 0)
	mustErr(t, err, room.ErrIdentityPresent, "sam again")
	waiting := person("circle", "p_bbbb0003", "sam", room.RoleMember, room.StateWaiting)
	_, err = s.AddPresence(ctx, waiting, 0)
	mustErr(t, err, room.ErrIdentityPresent, "sam again, waiting")
	// The same identity in another room is another seat.
	_, err = s.AddPresence(ctx, person("other", "p_bbbb0004", "sam", room.RoleMember, room.StateActive), 0)
	must(t, err, "sam in another room")

	_, err = s.RemovePresence(ctx, "circle", a.ID)
	must(t, err, "remove sam")
	const joins = 20
	errs := race(joins, func(i int) error {
		_, err := s.AddPresence(ctx, person("circle", fmt.Sprintf("p_c%07d", i), "sam", room.RoleMember, room.StateActive), 0)
		return err
	})
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, room.ErrIdentityPresent):
			t.Fatalf("unexpected error: %v", err)
		}
	}
	sess, err := s.Session(ctx, "circle")
	must(t, err, "session")
	if _, found := sess.FindIdentity("sam"); ok != 1 || len(sess.Participants) != 1 || !found {
		t.Fatalf("%d joins of one identity racing: %d succeeded, %d present, want 1", joins, ok, len(sess.Participants))
	}
}

func testCapacityRace(t *testing.T, newStore NewStore) {
	s, ctx := newStore(t, longTTL), ctxT(t)
	const joins, seats = 50, 10
	errs := race(joins, func(i int) error {
		_, err := s.AddPresence(ctx, person("popular", fmt.Sprintf("p_%04d", i), fmt.Sprintf("id-%d", i), room.RoleMember, room.StateActive), seats)
		return err
	})
	ok, full := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, room.ErrRoomFull):
			full++
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if ok != seats || full != joins-seats {
		t.Fatalf("%d joins racing for %d seats: %d admitted, %d full", joins, seats, ok, full)
	}
	sess, err := s.Session(ctx, "popular")
	must(t, err, "session")
	if len(sess.Seated()) != seats {
		t.Fatalf("%d seated, want %d", len(sess.Seated()), seats)
	}
}

func testAdmitRace(t *testing.T, newStore NewStore) {
	s, ctx := newStore(t, longTTL), ctxT(t)
	const waiting, seats = 30, 10
	for i := 0; i < waiting; i++ {
		_, err := s.AddPresence(ctx, person("r", fmt.Sprintf("p_%04d", i), fmt.Sprintf("id-%d", i), room.RoleMember, room.StateWaiting), 0)
		must(t, err, "add waiting")
	}
	errs := race(waiting, func(i int) error {
		_, err := s.SetState(ctx, "r", fmt.Sprintf("p_%04d", i), room.StateActive, "", seats)
		return err
	})
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if !errors.Is(err, room.ErrRoomFull) {
			t.Fatalf("unexpected error: %v", err)
		}
	}
	sess, err := s.Session(ctx, "r")
	must(t, err, "session")
	if ok != seats || len(sess.Seated()) != seats || len(sess.Waiting()) != waiting-seats {
		t.Fatalf("admitted %d, seated %d, waiting %d; want %d seated", ok, len(sess.Seated()), len(sess.Waiting()), seats)
	}
}
