package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/hearth-rtc/hearth/internal/load"
	"github.com/redis/go-redis/v9"
)

// stringList is a flag that may be repeated.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// spawnCluster starts a redis-server on a free loopback port and n Hearth
// nodes sharing it (as in production: one cluster secret, one token
// secret), and returns them, redis-server first, with what the load run
// needs of each node. On error the caller stops what was started.
func spawnCluster(ctx context.Context, exe string, n int, logPath string, extra []string, log *slog.Logger) ([]*load.Child, []load.Node, string, error) {
	bin := os.Getenv("HEARTH_REDIS_SERVER")
	if bin == "" {
		bin = "redis-server"
	}
	redisBin, err := exec.LookPath(bin)
	if err != nil {
		return nil, nil, "", fmt.Errorf("load: -spawn-nodes needs redis-server (or HEARTH_REDIS_SERVER): %w", err)
	}
	port, _, err := load.FreePorts()
	if err != nil {
		return nil, nil, "", err
	}
	rs, err := load.StartChild(redisBin, []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no"}, nil)
	if err != nil {
		return nil, nil, "", err
	}
	children := []*load.Child{rs}
	redisURL := "redis://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) + "/0"
	if err := waitRedis(ctx, redisURL, rs); err != nil {
		return children, nil, "", err
	}
	secret := func() string {
		b := make([]byte, 24)
		_, _ = rand.Read(b)
		return hex.EncodeToString(b)
	}
	shared := []string{"-secret", secret(), "-cluster-secret", secret()}
	var nodes []load.Node
	for i := range n {
		id := "load-node-" + strconv.Itoa(i)
		path := ""
		if logPath != "" {
			path = logPath + "." + id
		}
		args := append(append([]string{"-node-id", id}, shared...), extra...)
		child, url, udp, err := spawnServer(ctx, exe, redisURL, path, args, log)
		if err != nil {
			return children, nil, "", err
		}
		children = append(children, child)
		nodes = append(nodes, load.Node{ID: id, URL: url, PID: child.PID, UDPPort: udp})
	}
	log.Info("cluster started", "nodes", n, "redis", redisURL)
	return children, nodes, redisURL, nil
}

// waitRedis waits until the redis-server answers PING.
func waitRedis(ctx context.Context, url string, c *load.Child) error {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return fmt.Errorf("load: redis: %w", err)
	}
	opt.DisableIdentity = true
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		if rdb.Ping(ctx).Err() == nil {
			return nil
		}
		if c.Exited() {
			return fmt.Errorf("load: redis-server exited before it was ready")
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("load: waiting for redis-server: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
