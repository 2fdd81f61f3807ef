package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	"github.com/hearth-rtc/hearth/internal/app"
	"github.com/hearth-rtc/hearth/internal/clientaddr"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/sfu"
)

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "HTTP address for the web client, /ws signaling, /healthz and /admin/")
	udpPort := fs.Int("udp-port", 7882, "the single UDP port carrying all media, bound on the -listen host")
	publicIP := fs.String("public-ip", "", "public IP(s) to announce for media, comma-separated (NAT 1:1)")
	iceServers := fs.String("ice-servers", "", "STUN/TURN URLs handed to clients, comma-separated (none by default)")
	iceUser := fs.String("ice-username", "", "username for the -ice-servers TURN servers")
	iceCred := fs.String("ice-credential", "", "credential for the -ice-servers TURN servers")
	turnFlags := addTURNFlags(fs)
	origins := fs.String("allow-origin", "", "extra origins allowed to open the websocket, comma-separated (* for any)")
	redisURL := fs.String("redis", "", "membership store, e.g. redis://127.0.0.1:6379/0 (in memory if empty)")
	attendanceDays := fs.Int("attendance-days", 180, "days attendance (who came when; never what was said) is kept before it is deleted")
	secret := fs.String("secret", "", "secret that signs join tokens (at least 16 bytes; random per process if empty)")
	apiKey := fs.String("api-key", "", "admin API key (admin API disabled without key and secret)")
	apiSecret := fs.String("api-secret", "", "admin API secret")
	nodeID := fs.String("node-id", "", "this process's name in presence records and in the cluster (host-pid by default)")
	clusterSecret := fs.String("cluster-secret", "", "with -redis: run as one node of several sharing this secret (at least 16 characters); a room runs on one node and the others relay to it")
	spanAfter := fs.Int("span-after", 0, "with -cluster-secret: once this many participants' media is served by a room's node, serve a further participant's on the node they came in through, linked to the room's (0: never)")
	advertiseURL := fs.String("advertise-url", "", "with -cluster-secret: where the other nodes reach this one's websocket and admin API, e.g. http://10.0.0.5:8080 (default: the -listen address)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	pprof := fs.Bool("pprof", false, "serve the Go profiler under /debug/pprof/ on the -listen address")
	fastAudio := fs.Bool("audio-fast-path", true, "decrypt and encrypt media in the SFU itself (both ways) rather than through pion's media path")
	fastVideo := fs.Bool("video-fast-path", true, "with -audio-fast-path: decrypt publishers' video in the SFU itself too, making their NACKs and congestion feedback (false: pion's path, for comparison)")
	mediaSockets := fs.Int("media-sockets", 0, "sockets sharing the media port, each with a reader (0: one per core)")
	negBatch := fs.Duration("negotiation-batch", sfu.DefaultNegotiationBatch, "how long a participant's media changes (people joining, leaving, sharing) are gathered into one offer (0: an offer for each)")
	grace := fs.Duration("reconnect-grace", 20*time.Second, "how long a dropped participant's seat is held for them to reconnect")
	trustedProxies := fs.String("trusted-proxies", "", "reverse proxies whose X-Forwarded-For or Forwarded header names the client, comma-separated addresses or CIDRs (e.g. 127.0.0.1)")
	maxConns := fs.Int("max-conns-per-ip", 20, "websockets per client address (an IPv6 client's /64), loopback included (0: no limit)")
	joinTimeout := fs.Duration("join-timeout", 10*time.Second, "how long a new websocket has to send join before it is closed (0: no deadline)")
	agreementTimeout := fs.Duration("agreement-timeout", 10*time.Minute, "how long someone shown the group agreement has to accept or decline it before the connection is closed")
	maxUnjoined := fs.Int("max-unjoined", 1000, "websockets that have not joined yet, per server; more are refused with HTTP 503 (0: no limit)")
	tlsCert := fs.String("tls-cert", "", "TLS certificate file (PEM); with -tls-key, serve HTTPS and wss directly")
	tlsKey := fs.String("tls-key", "", "TLS private key file (PEM)")
	gcPercent := fs.Int("gc-percent", defaultGCPercent, "how far the heap may grow past live memory before the collector runs, in percent, as GOGC (which applies instead when set and this flag is not)")
	gcBurst := fs.Int("gc-burst-percent", 100, "the collector's percent while the server allocates fast (a wave of joins), back to -gc-percent 2 s after (0: always -gc-percent)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := envDefaults(fs); err != nil {
		return err
	}
	gcBase, gcSet := gcPercentToSet(fs, *gcPercent, os.LookupEnv)
	if gcSet {
		debug.SetGCPercent(gcBase)
	}
	if *attendanceDays < 1 || *attendanceDays > 3650 {
		return fmt.Errorf("-attendance-days must be 1-3650")
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return fmt.Errorf("-tls-cert and -tls-key go together")
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	var ice []protocol.ICEServer
	if urls := splitList(*iceServers); len(urls) > 0 {
		ice = append(ice, protocol.ICEServer{URLs: urls, Username: *iceUser, Credential: *iceCred})
	}
	proxies, err := clientaddr.ParseProxies(splitList(*trustedProxies))
	if err != nil {
		return fmt.Errorf("-trusted-proxies: %w", err)
	}
	turn, err := turnFlags.config(*tlsCert)
	if err != nil {
		return err
	}
	a, err := app.New(app.Config{
		Listen:         *listen,
		TLSCert:        *tlsCert,
		ReconnectGrace: *grace,
		TLSKey:         *tlsKey,
		UDPPort:        *udpPort,
		PublicIPs:      splitList(*publicIP),
		RedisURL:       *redisURL,
		Secret:         []byte(*secret),
		APIKey:         *apiKey,
		APISecret:      *apiSecret,
		AllowedOrigins: splitList(*origins),
		ICEServers:     ice,
		TURN:           turn,
		NodeID:         *nodeID,
		Logger:         log,
		Pprof:          *pprof,
		TrustedProxies: proxies,
		// Zero in these flags means none; in the config, the default.
		MaxConnsPerIP:    noneIfZero(*maxConns),
		JoinTimeout:      noneIfZero(*joinTimeout),
		AgreementTimeout: *agreementTimeout,
		MaxUnjoined:      noneIfZero(*maxUnjoined),
		// The flag reads positively; the config's zero value is on.
		DisableAudioFastPath: !*fastAudio,
		DisableVideoFastPath: !*fastVideo,
		MediaSockets:         *mediaSockets,
		NegotiationBatch:     noneIfZero(*negBatch),
		AttendanceRetention:  time.Duration(*attendanceDays) * 24 * time.Hour,
		Cluster:              app.ClusterConfig{Secret: *clusterSecret, AdvertiseURL: *advertiseURL, SpanAfter: *spanAfter},
	})
	if err != nil {
		return err
	}
	start := time.Now()
	if gcSet && *gcBurst > gcBase {
		gcGov := app.NewGCBurst(app.GCBurstConfig{Base: gcBase, Burst: *gcBurst, Logger: log})
		gctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			gcGov.Run(gctx)
		}()
		defer func() {
			stop()
			<-done
		}()
	}
	err = a.Serve(ctx)
	log.Info("hearth stopped", "uptime", time.Since(start).Round(time.Second).String())
	return err
}

// defaultGCPercent keeps the heap within a tenth of what is live. Media
// forwarding allocates next to nothing (audio nothing at all), so the
// collector works after joins and renegotiations, which leave about 1 MB
// of garbage each: a tight heap costs some 10 ms of CPU per join and saves
// a third of the memory per participant (PERFORMANCE.md).
const defaultGCPercent = 10

// gcPercentToSet says what -gc-percent asks of the collector: nothing when
// the flag is at its default and GOGC is in the environment (the
// operator's GOGC stands).
func gcPercentToSet(fs *flag.FlagSet, percent int, lookupEnv func(string) (string, bool)) (int, bool) {
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "gc-percent" })
	if _, ok := lookupEnv(envName("gc-percent")); ok {
		explicit = true
	}
	if _, ok := lookupEnv("GOGC"); ok && !explicit {
		return 0, false
	}
	return percent, true
}

// noneIfZero maps a flag's "0: none" to the config's "negative: none"
// (whose zero means the default).
func noneIfZero[T int | time.Duration](v T) T {
	if v == 0 {
		return -1
	}
	return v
}
