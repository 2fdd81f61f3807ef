package load

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// join dials every member at its own time (m.at from now), each in its
// own goroutine, and returns once every dial has ended.
func (r *runner) join(ctx context.Context, members []*member) error {
	start := time.Now()
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, m := range members {
		if err := sleep(ctx, time.Until(start.Add(m.at))); err != nil {
			return err
		}
		phase := time.Duration(rand.Int64N(int64(audioInterval)))
		m.node = (m.room + m.idx) % len(r.nodes)
		wg.Add(1)
		go func() {
			defer wg.Done()
			dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			defer cancel()
			m.p, m.err = r.dial(dctx, m.room, m.idx, m.node, phase)
		}()
	}
	return nil
}

// countFailed counts the members whose join failed, logging the first few.
func countFailed(members []*member, log *slog.Logger) int {
	failed := 0
	for _, m := range members {
		if m.err != nil {
			failed++
			if failed <= 3 {
				log.Warn("participant failed to join", "room", m.room, "member", m.idx, "err", m.err)
			}
		}
	}
	return failed
}

// sleep waits d, or less if ctx ends first.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// joinLatencies times the join steps of the members who joined: the
// server's answer, ICE connected, DTLS up and the first media heard.
//
// The first participant of a room has nobody to hear; for the others,
// media can flow once both they and someone before them are connected, so
// first media is timed from the later of their join and the earliest
// connection among those who joined before them.
func joinLatencies(members []*member) (answer, ice, conn, first Percentiles) {
	byRoom := map[int][]joinTimes{}
	for _, m := range members {
		if m.p != nil {
			byRoom[m.room] = append(byRoom[m.room], m.p.times())
		}
	}
	var an, ic, co, fi []time.Duration
	for _, ts := range byRoom {
		slices.SortStableFunc(ts, func(a, b joinTimes) int { return a.join.Compare(b.join) })
		var earliest time.Time // the earliest connection so far in the room
		for n, t := range ts {
			if !t.answered.IsZero() {
				an = append(an, t.answered.Sub(t.join))
			}
			if !t.iceUp.IsZero() {
				ic = append(ic, t.iceUp.Sub(t.join))
			}
			if !t.connected.IsZero() {
				co = append(co, t.connected.Sub(t.join))
			}
			if n > 0 && !t.firstMedia.IsZero() {
				base := t.join
				if earliest.After(base) {
					base = earliest
				}
				fi = append(fi, t.firstMedia.Sub(base))
			}
			if c := t.connected; !c.IsZero() && (earliest.IsZero() || c.Before(earliest)) {
				earliest = c
			}
		}
	}
	return percentiles(an), percentiles(ic), percentiles(co), percentiles(fi)
}

// JoinPhases are the steps of a join one after another, for the members
// who took each: join sent → the server's first offer received → the
// answer sent (the client's own work) → ICE connected → DTLS up.
type JoinPhases struct {
	JoinOffer   Percentiles `json:"join_to_offer"`
	OfferAnswer Percentiles `json:"offer_to_answer_sent"`
	AnswerICE   Percentiles `json:"answer_sent_to_ice_connected"`
	ICEDTLS     Percentiles `json:"ice_connected_to_dtls_up"`
}

// joinPhases times the steps of the members' joins.
func joinPhases(members []*member) JoinPhases {
	var jo, oa, ai, id []time.Duration
	add := func(to *[]time.Duration, from, until time.Time) {
		if !from.IsZero() && !until.IsZero() {
			*to = append(*to, until.Sub(from))
		}
	}
	for _, m := range members {
		if m.p == nil {
			continue
		}
		t := m.p.times()
		add(&jo, t.join, t.offered)
		add(&oa, t.offered, t.answerSent)
		add(&ai, t.answerSent, t.iceUp)
		add(&id, t.iceUp, t.connected)
	}
	return JoinPhases{JoinOffer: percentiles(jo), OfferAnswer: percentiles(oa), AnswerICE: percentiles(ai), ICEDTLS: percentiles(id)}
}

// waveArrivals returns n arrivals spread evenly over within, in rooms of
// size numbered from firstRoom; arrival i joins at out[i].at. Rooms are
// filled in a random order (seeded, so repeatable), as people arrive for
// sessions starting at once.
func waveArrivals(n, size, firstRoom int, within time.Duration, seed uint64) []*member {
	order := rand.New(rand.NewPCG(seed, 17)).Perm(n)
	out := make([]*member, n)
	next := map[int]int{}
	for i, k := range order {
		room := firstRoom + k/size
		var at time.Duration
		if n > 1 {
			at = within * time.Duration(i) / time.Duration(n-1)
		}
		out[i] = &member{room: room, idx: next[room], at: at}
		next[room]++
	}
	return out
}
