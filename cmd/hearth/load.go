package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/hearth-rtc/hearth/internal/load"
)

// loadCmd runs synthetic group sessions against a Hearth server (one it
// starts, with -spawn, or a running one) and, with -relay, against the bare
// relay at the same packet rate, then prints what it measured.
func loadCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var urls stringList
	fs.Var(&urls, "url", "websocket URL of a running Hearth, started with -max-conns-per-ip 0 since every client comes from this machine (ignored with -spawn); repeat it for the nodes of a cluster, which the participants of each room join through in turn (default ws://127.0.0.1:8080/ws)")
	spawn := fs.Bool("spawn", false, "start a Hearth server in a child process on free loopback ports (reproducible; lets the tool read its CPU and memory)")
	spawnNodes := fs.Int("spawn-nodes", 0, "start a redis-server and this many Hearth nodes sharing it (a cluster) in child processes; the participants of each room join through every node in turn, and each node's CPU is reported")
	serverPID := fs.Int("server-pid", 0, "pid of the running server, to read its CPU and memory (without -spawn)")
	serverUDP := fs.Int("server-udp-port", 0, "the running server's media port, to read the drops at its socket (without -spawn)")
	redisURL := fs.String("redis", "", "with -spawn: the server's membership store (in memory if empty)")
	serverLog := fs.String("server-log", "", "with -spawn: file for the server's log (discarded if empty)")
	serverPprof := fs.Bool("server-pprof", false, "with -spawn: serve the server's profiler under /debug/pprof/")
	serverExe := fs.String("server-exe", "", "with -spawn: the hearth binary to start as the server (this one if empty), to compare builds under one load tool")
	serverFlags := fs.String("server-flags", "", "with -spawn: more flags for hearth serve, space-separated (e.g. \"-audio-fast-path=false\")")
	rooms := fs.Int("rooms", 20, "rooms")
	size := fs.Int("size", 12, "participants per room")
	video := fs.Bool("video", false, "publish video as well as audio")
	bitrate := fs.Int("video-bitrate", 500_000, "video bitrate per publisher, bits/s")
	fps := fs.Int("fps", 15, "video frames per second")
	keyInt := fs.Duration("keyframe-interval", 3*time.Second, "periodic keyframe interval")
	simulcast := fs.Bool("simulcast", false, "with -video: publish three simulcast layers (150, 400 and 1000 kbit/s; the browser client sends 64 kbit/s at 12 frames a second on the lowest) instead of one stream of -video-bitrate")
	layout := fs.String("layout", load.LayoutMixed, "with -simulcast: how subscribers show the cameras: mixed (each a small, medium or large tile by turns), speaker (one large, the others small) or full (no layout sent: every camera at its highest layer); with -serve-relay, the relay forwards the layers such a layout asks for")
	duration := fs.Duration("duration", 30*time.Second, "measured window")
	warmup := fs.Duration("warmup", 5*time.Second, "time between everyone receiving everyone and the window")
	settle := fs.Duration("settle", 60*time.Second, "longest wait for everyone to receive everyone")
	joinRate := fs.Float64("join-rate", 20, "joins per second")
	wave := fs.Int("wave", 0, "a session start: once the -rooms are running, this many more participants join new rooms of -size within -wave-within (-rooms may be 0)")
	waveWithin := fs.Duration("wave-within", 5*time.Second, "with -wave: the span the wave's joins are spread over")
	waveQuiet := fs.Bool("wave-quiet", false, "with -wave: the wave's joiners send one packet a second per stream until everyone in the wave receives everyone of its room, so the server's CPU over the joins is theirs alone")
	hearth := fs.Bool("hearth", true, "measure Hearth")
	relay := fs.Bool("relay", false, "also measure the bare SRTP relay (started in a child process) at the same load")
	relayPlain := fs.Bool("relay-plain", false, "also measure a plain UDP relay (no SRTP)")
	relayGCC := fs.Bool("relay-gcc", false, "also measure the SRTP relay sending video through pion/interceptor's transport-wide congestion control (transport-cc numbering and GCC's send-side estimator per subscriber)")
	transportCC := fs.Bool("transport-cc", true, "Hearth's clients negotiate transport-wide congestion control and send feedback on the video they receive, as browsers do, so that the server estimates each one's link")
	decrypt := fs.Bool("decrypt", false, "receive through pion's full path (SRTP decryption, tracks) rather than counting RTP headers off the socket; heavier")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	allowRemote := fs.Bool("allow-remote", false, "allow a target that is not a loopback address")
	serveRelay := fs.String("serve-relay", "", "run only a relay on this address (what -relay starts)")
	plain := fs.Bool("plain", false, "with -serve-relay: forward without SRTP")
	gccFlag := fs.Bool("gcc", false, "with -serve-relay: send video through pion's congestion control (what -relay-gcc starts)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error (progress goes to stderr)")
	cpuProfile := fs.String("cpuprofile", "", "write the load tool's own CPU profile to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	if *serveRelay != "" {
		if !*allowRemote {
			if err := load.CheckLoopback(*serveRelay); err != nil {
				return err
			}
		}
		ro := load.RelayOptions{Addr: *serveRelay, Plain: *plain, GCC: *gccFlag, Logger: log}
		if *simulcast {
			ro.Layout = *layout
		}
		r, err := load.ListenRelay(ro)
		if err != nil {
			return err
		}
		log.Info("relay listening", "addr", r.Addr().String(), "plain", *plain)
		return r.Serve(ctx)
	}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("load: cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("load: cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}

	opts := load.Options{
		Rooms: *rooms, Size: *size,
		Media:    load.MediaOptions{Video: *video, VideoBitrate: *bitrate, FPS: *fps, KeyframeInterval: *keyInt, Simulcast: *simulcast},
		Duration: *duration, Warmup: *warmup, Settle: *settle, JoinRate: *joinRate,
		Wave: *wave, WaveWithin: *waveWithin, WaveQuiet: *waveQuiet,
		AllowRemote: *allowRemote, Decrypt: *decrypt, NoTransportCC: !*transportCC, Logger: log,
	}
	if *simulcast {
		opts.Layout = *layout
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	report := &load.Report{Machine: load.DescribeMachine()}
	if *hearth {
		o := opts
		o.URL, o.ServerPID, o.ServerUDPPort = "ws://127.0.0.1:8080/ws", *serverPID, *serverUDP
		if len(urls) > 0 {
			o.URL = urls[0]
		}
		if len(urls) > 1 {
			for _, u := range urls {
				o.Nodes = append(o.Nodes, load.Node{URL: u})
			}
		}
		extra := strings.Fields(*serverFlags)
		if *serverPprof {
			extra = append(extra, "-pprof")
		}
		var children []*load.Child
		stopAll := func() {
			for i := len(children) - 1; i >= 0; i-- {
				if serr := children[i].Stop(10 * time.Second); serr != nil {
					log.Warn("stopping a server", "err", serr)
				}
			}
		}
		switch {
		case *spawnNodes > 0:
			children, o.Nodes, o.RedisURL, err = spawnCluster(ctx, exe, *spawnNodes, *serverLog, extra, log)
			if err != nil {
				stopAll()
				return err
			}
		case *spawn:
			var child *load.Child
			child, o.URL, o.ServerUDPPort, err = spawnServer(ctx, cmp.Or(*serverExe, exe), *redisURL, *serverLog, extra, log)
			if err != nil {
				return err
			}
			children = append(children, child)
			o.ServerPID = child.PID
		}
		res, err := load.RunHearth(ctx, o)
		stopAll()
		if err != nil {
			return err
		}
		report.Results = append(report.Results, res)
	}
	for _, p := range []struct {
		on         bool
		plain, gcc bool
	}{{*relay, false, false}, {*relayGCC, false, true}, {*relayPlain, true, false}} {
		if !p.on {
			continue
		}
		res, err := runRelay(ctx, exe, opts, p.plain, p.gcc, log)
		if err != nil {
			return err
		}
		report.Results = append(report.Results, res)
	}
	if len(report.Results) == 0 {
		return errors.New("load: nothing to measure (-hearth=false without -relay)")
	}
	report.Finish()
	if *asJSON {
		return report.WriteJSON(stdout)
	}
	return report.WriteTable(stdout)
}

func spawnServer(ctx context.Context, exe, redisURL, logPath string, extra []string, log *slog.Logger) (*load.Child, string, int, error) {
	httpPort, udpPort, err := load.FreePorts()
	if err != nil {
		return nil, "", 0, err
	}
	var out io.Writer
	if logPath != "" {
		f, err := os.Create(logPath)
		if err != nil {
			return nil, "", 0, fmt.Errorf("load: server log: %w", err)
		}
		// The child holds its own descriptor; ours can go.
		defer f.Close()
		out = f
	}
	listen := "127.0.0.1:" + strconv.Itoa(httpPort)
	// Every synthetic client connects from 127.0.0.1.
	args := []string{"serve", "-listen", listen, "-udp-port", strconv.Itoa(udpPort), "-log-level", "warn", "-max-conns-per-ip", "0"}
	if redisURL != "" {
		args = append(args, "-redis", redisURL)
	}
	args = append(args, extra...)
	child, err := load.StartChild(exe, args, out)
	if err != nil {
		return nil, "", 0, err
	}
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := load.WaitHTTP(wctx, "http://"+listen+"/healthz", child); err != nil {
		_ = child.Stop(5 * time.Second)
		return nil, "", 0, err
	}
	log.Info("server started", "pid", child.PID, "listen", listen, "udp", udpPort)
	return child, "ws://" + listen + "/ws", udpPort, nil
}

func runRelay(ctx context.Context, exe string, opts load.Options, plain, gcc bool, log *slog.Logger) (*load.Result, error) {
	_, udpPort, err := load.FreePorts()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(udpPort)
	args := []string{"load", "-serve-relay", addr, "-log-level", "warn"}
	if plain {
		args = append(args, "-plain")
	}
	if gcc {
		args = append(args, "-gcc")
	}
	if opts.Media.Simulcast {
		args = append(args, "-simulcast", "-layout", opts.Layout)
	}
	child, err := load.StartChild(exe, args, nil)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := child.Stop(5 * time.Second); err != nil {
			log.Warn("stopping the relay", "err", err)
		}
	}()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := load.WaitRelay(wctx, addr, child); err != nil {
		return nil, err
	}
	log.Info("relay started", "pid", child.PID, "addr", addr, "plain", plain)
	opts.RelayAddr, opts.RelayPlain, opts.RelayGCC, opts.ServerPID = addr, plain, gcc, child.PID
	return load.RunRelay(ctx, opts)
}
