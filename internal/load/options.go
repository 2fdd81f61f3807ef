package load

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"time"
)

// Options describe a run.
type Options struct {
	// URL is the Hearth websocket, e.g. ws://127.0.0.1:8080/ws.
	URL string
	// MetricsURL is Hearth's /metrics, for the server's own forwarded
	// count; derived from URL if empty.
	MetricsURL string
	// RelayAddr is the relay's host:port (RunRelay).
	RelayAddr string
	// RelayPlain: the relay forwards without SRTP.
	RelayPlain bool
	// RelayGCC: the relay sends video through pion's congestion control
	// (RelayOptions.GCC); it names the run's target.
	RelayGCC bool
	// NoTransportCC leaves transport-wide congestion control out of what
	// Hearth's clients negotiate; with it, as browsers do, they send the
	// server feedback on the video they receive, and the server estimates
	// each one's link (a cost of its own per packet and per feedback).
	NoTransportCC bool
	// Decrypt counts received media through pion's full receive path
	// (SRTP decryption, remote tracks) instead of reading RTP headers off
	// the socket; it costs the generator several times more CPU.
	Decrypt bool

	Rooms, Size int
	Media       MediaOptions
	// Layout is how subscribers show simulcast cameras (LayoutMixed if
	// empty); only with Media.Simulcast. A relay run needs a relay
	// started with the same RelayOptions.Layout.
	Layout string
	// Duration of the measured window; Warmup before it, once everyone
	// receives everyone or Settle has passed.
	Duration, Warmup, Settle time.Duration
	// JoinRate is how many participants join per second.
	JoinRate float64
	// Wave, when positive, is a session start: once the Rooms×Size
	// participants (the rooms already running; Rooms may be 0) receive
	// everyone, Wave more join new rooms of Size, spread evenly over
	// WaveWithin (5 s if zero). Result.Wave reports it.
	Wave       int
	WaveWithin time.Duration
	// WaveQuiet holds the wave's media back until everyone in it receives
	// everyone of its room: until then each of its streams sends one
	// packet a second (enough for the server to see the track and offer
	// it), so the server's CPU over the joins is their own work, not
	// forwarding. WaveResult.Quiet reports it.
	WaveQuiet bool
	// ServerPID, if known, lets the run read the server's CPU and memory.
	ServerPID int
	// ServerUDPPort, if known, lets the run read the drops at the
	// server's media socket.
	ServerUDPPort int
	// Nodes, when set, are several Hearth processes sharing one Redis (a
	// cluster): participant k of room r joins through Nodes[(r+k) mod
	// len(Nodes)], so that a room's members come through every node; URL,
	// ServerPID and ServerUDPPort are then not used. RedisURL, with
	// Nodes, is the cluster's Redis, where the run reads which node owns
	// each room.
	Nodes    []Node
	RedisURL string
	// AllowRemote permits a non-loopback target.
	AllowRemote bool
	// RoomPrefix names the rooms (prefix-0, prefix-1, …).
	RoomPrefix string
	Logger     *slog.Logger
}

// Node is one Hearth process of several.
type Node struct {
	// ID is its -node-id, as the cluster names room owners.
	ID  string
	URL string
	// PID and UDPPort, if known, let the run read its CPU, memory and
	// socket drops.
	PID, UDPPort int
}

// nodes are the run's servers: Nodes, or the one server URL names.
func (o *Options) nodes() []Node {
	if len(o.Nodes) > 0 {
		return o.Nodes
	}
	return []Node{{URL: o.URL, PID: o.ServerPID, UDPPort: o.ServerUDPPort}}
}

func (o *Options) defaults() error {
	if o.Size <= 0 || o.Rooms < 0 || o.Wave < 0 || (o.Rooms == 0 && o.Wave == 0) {
		return errors.New("load: rooms and size must be positive (rooms may be 0 with a wave)")
	}
	if o.Size > 1<<15 || o.Rooms > 1<<15 || o.Wave > 1<<15 {
		return errors.New("load: too many rooms or participants")
	}
	if o.Wave > 0 && o.WaveWithin <= 0 {
		o.WaveWithin = 5 * time.Second
	}
	if o.Duration <= 0 {
		o.Duration = 30 * time.Second
	}
	if o.Settle <= 0 {
		o.Settle = 60 * time.Second
	}
	if o.JoinRate <= 0 {
		o.JoinRate = 20
	}
	if o.RoomPrefix == "" {
		o.RoomPrefix = "load-" + strconv.FormatInt(time.Now().Unix()%100000, 10)
	}
	if o.Media.Video {
		if o.Media.VideoBitrate <= 0 {
			o.Media.VideoBitrate = 500_000
		}
		if o.Media.FPS <= 0 {
			o.Media.FPS = 15
		}
		if o.Media.KeyframeInterval <= 0 {
			o.Media.KeyframeInterval = 3 * time.Second
		}
	}
	if o.Media.Simulcast {
		if !o.Media.Video {
			return errors.New("load: simulcast needs video")
		}
		if o.Layout == "" {
			o.Layout = LayoutMixed
		}
		if err := checkLayout(o.Layout); err != nil {
			return err
		}
		// The relay's clients name a layer in bits 29 and 30 of its SSRC,
		// above the room's index (layerSSRC).
		if o.Rooms >= 1<<13 {
			return errors.New("load: simulcast runs take at most 8191 rooms")
		}
	} else if o.Layout != "" {
		return errors.New("load: a layout needs simulcast")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// CheckLoopback refuses a target host that is not a loopback address, so a
// load run cannot be pointed at someone else's server by mistake.
func CheckLoopback(host string) error {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "localhost" {
		return nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("load: target %q is not an IP address; use 127.0.0.1 (or -allow-remote)", host)
	}
	if !ip.IsLoopback() {
		return fmt.Errorf("load: target %s is not a loopback address (use -allow-remote to load another machine)", ip)
	}
	return nil
}
