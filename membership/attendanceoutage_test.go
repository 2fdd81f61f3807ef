package membership_test

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/redistest"
	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/membership/redisstore"
	"github.com/hearth-rtc/hearth/room"
)

// TestAttendanceThroughOutage, on a real redis-server stopped and
// restarted: Ann leaves (no error: the leave is queued) and Ben is
// removed while Redis is down; Cai stays.
// Once Redis is back the session's attendance is complete: three seats,
// Ann's and Ben's closed at the times they went, Cai's still open. Redis
// restarted with its data (persistence), and without it (the node writes
// the seats back with the leaves).
func TestAttendanceThroughOutage(t *testing.T) {
	for _, tc := range []struct {
		name string
		stop func(*redistest.Server, testing.TB)
	}{
		{"kept", (*redistest.Server).StopSaving},
		{"lost", (*redistest.Server).Stop},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rdb := redistest.Start(t)
			store, err := redisstore.New(redisstore.Options{URL: rdb.URL(), TTL: time.Minute,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = store.Close() })
			svc, err := membership.NewService(membership.ServiceConfig{Store: store, Secret: testSecret, NodeID: "node-a",
				PresenceTTL: time.Minute, HeartbeatInterval: time.Second, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			cfg := room.DefaultRoomConfig("circle")
			if _, err := store.CreateRoom(ctx, cfg); err != nil {
				t.Fatal(err)
			}
			ids := map[string]string{}
			for _, who := range []string{"ann", "ben", "cai"} {
				res, err := svc.Join(ctx, membership.JoinRequest{Room: "circle", Token: token(t, "circle", who, room.RoleMember)})
				if err != nil {
					t.Fatal(err)
				}
				if !res.Participant.State.Seated() {
					t.Fatalf("%s not seated: %+v", who, res.Participant)
				}
				ids[who] = res.Participant.ID
			}

			tc.stop(rdb, t)
			down := time.Now()
			// Ann's leave is queued, which is no failure.
			if err := svc.Leave(ctx, "circle", ids["ann"]); err != nil {
				t.Fatalf("leave while Redis is down: %v; want it queued, no error", err)
			}
			if _, err := svc.Remove(ctx, "circle", ids["ben"], false); err != nil {
				t.Fatalf("remove while Redis is down: %v", err)
			}
			if err := svc.Heartbeat(ctx); err == nil {
				t.Fatal("a heartbeat wrote to a stopped Redis")
			}
			up := time.Now()
			rdb.Restart(t)

			// The pending writes go out with the heartbeats once Redis
			// answers.
			wctx, cancel := budget.Context(t, budget.Step)
			defer cancel()
			for {
				err := svc.Heartbeat(wctx)
				if err == nil {
					break
				}
				if wctx.Err() != nil {
					t.Fatalf("pending writes never written: %v", err)
				}
			}

			recs, err := store.Attendance(ctx, "circle", time.Time{}, time.Now().Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			byID := map[string]room.PresenceRecord{}
			for _, r := range recs {
				byID[r.ID] = r
			}
			if len(byID) != 3 {
				t.Fatalf("after the outage %d records: %+v", len(byID), recs)
			}
			for _, who := range []string{"ann", "ben"} {
				r := byID[ids[who]]
				if r.Identity != who || r.JoinedAt.IsZero() || r.LeftAt.Before(down) || r.LeftAt.After(up) {
					t.Errorf("%s's record %+v, want a leave between %v and %v", who, r, down, up)
				}
			}
			if r := byID[ids["cai"]]; r.Identity != "cai" || !r.LeftAt.IsZero() {
				t.Errorf("Cai's record %+v, want the seat still held", r)
			}
			// The session's attendance says the same: Cai alone is present.
			sessions, err := svc.Attendance(ctx, "circle")
			if err != nil || len(sessions) != 1 {
				t.Fatalf("sessions %+v, %v", sessions, err)
			}
			for _, row := range sessions[0].Rows {
				if want := row.Identity == "cai"; row.Present != want || !row.Attended {
					t.Errorf("%s: present %v, attended %v", row.Identity, row.Present, row.Attended)
				}
			}
			if sess, err := store.Session(ctx, "circle"); err != nil || len(sess.Participants) != 1 {
				t.Errorf("the store's session after the outage: %+v, %v", sess, err)
			}
		})
	}
}
