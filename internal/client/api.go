package client

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"net"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Clock rates of the synthetic media.
const (
	audioClock = 48000
	videoClock = 90000
)

// NewAPI builds the full pion API a test client uses: pion's default
// codecs, the audio level header extension, NACK and RTCP reports, ICE on
// loopback only.
func NewAPI() (*webrtc.API, error) { return NewAPIWith() }

// NewAPIWith is NewAPI with extra interceptors, for tests that tamper with
// what the client sends.
func NewAPIWith(extra ...interceptor.Factory) (*webrtc.API, error) {
	return NewAPIFrom(LoopbackSettings(), extra...)
}

// NewAPIFrom is NewAPIWith on settings of the caller's own (start from
// LoopbackSettings).
func NewAPIFrom(se webrtc.SettingEngine, extra ...interceptor.Factory) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, fmt.Errorf("client: codecs: %w", err)
	}
	// Audio levels tell the server who is speaking.
	if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("client: audio level: %w", err)
	}
	// Simulcast layers name their section and rid in header extensions.
	if err := webrtc.ConfigureSimulcastExtensionHeaders(m); err != nil {
		return nil, fmt.Errorf("client: simulcast extensions: %w", err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.ConfigureNack(m, ir); err != nil {
		return nil, fmt.Errorf("client: nack: %w", err)
	}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, fmt.Errorf("client: reports: %w", err)
	}
	for _, f := range extra {
		ir.Add(f)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// loopbackDTLSRetransmission is when a browser on loopback first resends
// a DTLS handshake flight not answered (Bare).
const loopbackDTLSRetransmission = 50 * time.Millisecond

// LoopbackSettings keeps ICE on UDP over loopback, without mDNS.
func LoopbackSettings() webrtc.SettingEngine {
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	return se
}

// BareOptions shape a Bare setup.
type BareOptions struct {
	// AllowRemote lets ICE use addresses other than loopback.
	AllowRemote bool
	// Light counts received RTP straight off the socket instead of through
	// pion's tracks (see tap.go).
	Light bool
	// Simulcast negotiates the mid and rid header extensions, which
	// clients that send simulcast layers (Options.Simulcast) need.
	Simulcast bool
	// TransportCC negotiates transport-wide congestion control for video
	// and sends the server feedback on when each numbered packet arrived,
	// as browsers do (feedback.go), so that the server estimates each
	// client's link, at the cost it has with browsers.
	TransportCC bool
}

// Bare is the cheap setup the many clients of a load run share: two codecs
// (Opus, and VP8 with NACK and PLI negotiated, as browsers do, so that the
// server keeps for each subscription what it keeps for theirs), no header
// extensions but simulcast's when asked, no interceptors (no NACK, reports
// or TWCC: the clients never ask for a resend, and nothing is lost on
// loopback), SRTP replay protection off, one certificate for all. The
// clients spend their CPU on moving packets, not on bookkeeping the server
// does not need from them.
// A client with a Bare setup reads no RTCP about what it receives.
//
// A Bare is read-only once made, and safe for any number of clients.
type Bare struct {
	media    *webrtc.MediaEngine
	settings webrtc.SettingEngine
	api      *webrtc.API // shared, for the full (decrypting) receive path
	cert     webrtc.Certificate
	light    bool
	// transportCC: see BareOptions. feedback is pion's interceptor that
	// sends it for what pion reads (off the light path), nil otherwise.
	transportCC bool
	feedback    interceptor.Factory
}

// NewBare makes a Bare setup.
func NewBare(o BareOptions) (*Bare, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: audioClock, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1",
	}, PayloadType: 111}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("client: register opus: %w", err)
	}
	// VP8 is registered even for clients that send no video: the server
	// offers video sections, and a client without the codec would reject
	// them noisily.
	fb := []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}}
	if o.TransportCC {
		fb = append(fb, webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBTransportCC})
		if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.TransportCCURI}, webrtc.RTPCodecTypeVideo); err != nil {
			return nil, fmt.Errorf("client: transport-cc: %w", err)
		}
	}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeVP8, ClockRate: videoClock, RTCPFeedback: fb,
	}, PayloadType: 96}, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, fmt.Errorf("client: register vp8: %w", err)
	}
	if o.Simulcast {
		if err := webrtc.ConfigureSimulcastExtensionHeaders(m); err != nil {
			return nil, fmt.Errorf("client: simulcast extensions: %w", err)
		}
	}
	se := webrtc.SettingEngine{}
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(true)
	if !o.AllowRemote {
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
		// Browsers start the DTLS handshake's retransmission timer at
		// twice the ICE round trip, at least 50 ms (Chromium), not at
		// pion's 1 s: on loopback a lost flight costs them 50 ms.
		se.SetDTLSRetransmissionInterval(loopbackDTLSRetransmission)
	}
	// Replay protection costs a window update per packet and guards
	// against nothing on loopback.
	se.DisableSRTPReplayProtection(true)
	se.DisableSRTCPReplayProtection(true)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("client: key: %w", err)
	}
	cert, err := webrtc.GenerateCertificate(key)
	if err != nil {
		return nil, fmt.Errorf("client: certificate: %w", err)
	}
	b := &Bare{media: m, settings: se, cert: *cert, light: o.Light, transportCC: o.TransportCC}
	if o.TransportCC && !o.Light {
		if b.feedback, err = twcc.NewSenderInterceptor(); err != nil {
			return nil, fmt.Errorf("client: transport-cc feedback: %w", err)
		}
	}
	b.api = b.newAPI(se)
	return b, nil
}

func (b *Bare) newAPI(se webrtc.SettingEngine) *webrtc.API {
	// An empty registry, not none: without one pion installs its default
	// interceptors (NACK, reports, TWCC, stats). With transport-cc, what
	// pion reads gets its feedback from pion's interceptor, and what the
	// light path reads from the client (feedback.go).
	ir := &interceptor.Registry{}
	if b.feedback != nil {
		ir.Add(b.feedback)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(b.media), webrtc.WithSettingEngine(se),
		webrtc.WithInterceptorRegistry(ir))
}

// peerConnection makes one client's peer connection. On the light path its
// sockets hand received RTP to onRTP.
func (b *Bare) peerConnection(onRTP func([]byte)) (*webrtc.PeerConnection, error) {
	api := b.api
	if b.light {
		n, err := newTapNet(onRTP)
		if err != nil {
			return nil, fmt.Errorf("client: network: %w", err)
		}
		se := b.settings
		se.SetNet(n)
		api = b.newAPI(se)
	}
	return api.NewPeerConnection(webrtc.Configuration{Certificates: []webrtc.Certificate{b.cert}})
}
