package load

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hearth-rtc/hearth/cluster"
	"github.com/redis/go-redis/v9"
)

// NodeResult is one node of a cluster over the window, and over the wave
// when there was one.
type NodeResult struct {
	ID  string `json:"id"`
	URL string `json:"url"`
	// Joined counts the participants who joined through it; Owned the
	// rooms it runs (every member of those is served there, whichever
	// node they joined through).
	Joined         int     `json:"joined_through"`
	Owned          int     `json:"rooms_owned"`
	CPUCores       float64 `json:"cpu_cores"`
	WaveCPUSeconds float64 `json:"wave_cpu_seconds,omitempty"`
}

func (r *runner) roomName(i int) string { return fmt.Sprintf("%s-%d", r.o.RoomPrefix, i) }

// serverProc reads the servers' CPU (summed, and each node's) and RSS
// (summed); ok is false when no server's pid is known or one could not be
// read.
func (r *runner) serverProc() (cpu time.Duration, each []time.Duration, rss uint64, ok bool) {
	each = make([]time.Duration, len(r.nodes))
	for i, nd := range r.nodes {
		if nd.PID <= 0 {
			return 0, nil, 0, false
		}
		c, err1 := procCPU(nd.PID)
		m, err2 := procRSS(nd.PID)
		if err1 != nil || err2 != nil {
			return 0, nil, 0, false
		}
		each[i] = c
		cpu += c
		rss += m
	}
	return cpu, each, rss, len(r.nodes) > 0
}

// socketDrops sums the drops at the servers' media sockets, when every
// node's port is known.
func (r *runner) socketDrops() (uint64, bool) {
	var sum uint64
	for _, nd := range r.nodes {
		if nd.UDPPort <= 0 {
			return 0, false
		}
		d, err := socketDrops(nd.UDPPort)
		if err != nil {
			return 0, false
		}
		sum += d
	}
	return sum, len(r.nodes) > 0
}

// scrapeAll sums counters over several servers' metrics.
func scrapeAll(ctx context.Context, urls []string, names ...string) ([]float64, error) {
	sum := make([]float64, len(names))
	for _, u := range urls {
		v, err := scrapeCounters(ctx, u, names...)
		if err != nil {
			return nil, err
		}
		for i := range v {
			sum[i] += v[i]
		}
	}
	return sum, nil
}

// roomOwners reads which node owns each of rooms rooms from the cluster's
// Redis ("" for a room with no owner).
func roomOwners(ctx context.Context, redisURL string, name func(int) string, rooms int) ([]string, error) {
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		return nil, fmt.Errorf("load: redis: %w", err)
	}
	opt.DisableIdentity = true
	c := redis.NewClient(opt)
	defer c.Close()
	out := make([]string, rooms)
	for i := range out {
		id, err := c.Get(ctx, cluster.DefaultPrefix+"owner:"+name(i)).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("load: redis: %w", err)
		}
		out[i] = id
	}
	return out, nil
}

// clusterResults fills in, for a run over several nodes, each node's share
// and the joins through the room's owner against those through another
// node (join sent → joined received).
func (r *runner) clusterResults(ctx context.Context, res *Result, members []*member, a, b snapshot, wave *WaveResult) {
	if len(r.nodes) < 2 {
		return
	}
	secs := b.at.Sub(a.at).Seconds()
	res.Nodes = make([]NodeResult, len(r.nodes))
	for i, nd := range r.nodes {
		res.Nodes[i] = NodeResult{ID: nd.ID, URL: nd.URL}
		if len(a.nodeCPU) == len(r.nodes) && len(b.nodeCPU) == len(r.nodes) && secs > 0 {
			res.Nodes[i].CPUCores = (b.nodeCPU[i] - a.nodeCPU[i]).Seconds() / secs
		}
		if wave != nil && len(wave.nodeCPU) == len(r.nodes) {
			res.Nodes[i].WaveCPUSeconds = wave.nodeCPU[i].Seconds()
		}
	}
	rooms := 0
	for _, m := range members {
		rooms = max(rooms, m.room+1)
		if m.p != nil {
			res.Nodes[m.node].Joined++
		}
	}
	if r.owners == nil {
		return
	}
	owners, err := r.owners(ctx, rooms)
	if err != nil {
		r.o.Logger.Warn("reading the rooms' owners", "err", err)
		return
	}
	byID := map[string]int{}
	for i, nd := range r.nodes {
		byID[nd.ID] = i
	}
	for _, id := range owners {
		if i, ok := byID[id]; ok {
			res.Nodes[i].Owned++
		}
	}
	var direct, relayed []time.Duration
	for _, m := range members {
		if m.p == nil || owners[m.room] == "" {
			continue
		}
		t := m.p.times()
		if t.answered.IsZero() {
			continue
		}
		if r.nodes[m.node].ID == owners[m.room] {
			direct = append(direct, t.answered.Sub(t.join))
		} else {
			relayed = append(relayed, t.answered.Sub(t.join))
		}
	}
	res.JoinAnswerOwner, res.JoinAnswerRelayed = percentiles(direct), percentiles(relayed)
}
