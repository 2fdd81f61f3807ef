package turnserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/rtp"
	"github.com/pion/transport/v5"
	"github.com/pion/webrtc/v4"
)

// relayClient is a Hearth participant whose peer connection may use relay
// candidates only: it builds the connection from the iceServers of its
// joined message, so every packet it sends or receives goes through the
// TURN server those name.
type relayClient struct {
	ws  *websocket.Conn
	wmu sync.Mutex
	net transport.Net // the client's network; nil: the machine's

	mu       sync.Mutex
	pc       *webrtc.PeerConnection
	audio    *webrtc.TrackLocalStaticRTP
	self     string
	ice      []webrtc.ICEServer
	pending  []webrtc.ICECandidateInit
	received map[string]*atomic.Uint64 // stream id -> packets
	errs     []error

	joined chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// dialRelay joins roomName as name, on network (nil: the machine's).
func dialRelay(t *testing.T, wsURL, roomName, name string, network transport.Net) *relayClient {
	t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial(wsURL, nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &relayClient{ws: ws, net: network, received: map[string]*atomic.Uint64{}, joined: make(chan struct{}), ctx: ctx, cancel: cancel}
	t.Cleanup(c.close)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.readLoop()
	}()
	if err := c.send(map[string]any{"type": "join", "version": 1, "room": roomName, "name": name}); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *relayClient) send(v any) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteJSON(v)
}

func (c *relayClient) fail(err error) {
	c.mu.Lock()
	c.errs = append(c.errs, err)
	c.mu.Unlock()
}

func (c *relayClient) readLoop() {
	for {
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		var m struct {
			Type string `json:"type"`
			Self struct {
				ID string `json:"id"`
			} `json:"self"`
			ICEServers []struct {
				URLs       []string `json:"urls"`
				Username   string   `json:"username"`
				Credential string   `json:"credential"`
			} `json:"iceServers"`
			SDP       string                   `json:"sdp"`
			Candidate *webrtc.ICECandidateInit `json:"candidate"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			c.fail(err)
			continue
		}
		switch m.Type {
		case "joined":
			var servers []webrtc.ICEServer
			for _, s := range m.ICEServers {
				servers = append(servers, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
			}
			if err := c.setup(m.Self.ID, servers); err != nil {
				c.fail(err)
				return
			}
			close(c.joined)
		case "offer":
			if err := c.answer(m.SDP); err != nil {
				c.fail(err)
			}
		case "candidate":
			if m.Candidate != nil {
				c.addCandidate(*m.Candidate)
			}
		case "error":
			c.fail(fmt.Errorf("server error: %s", b))
		}
	}
}

// setup builds the relay-only peer connection with one audio track.
func (c *relayClient) setup(self string, servers []webrtc.ICEServer) error {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return err
	}
	se := webrtc.SettingEngine{}
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeTCP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if c.net != nil {
		se.SetNet(c.net)
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{ICEServers: servers, ICETransportPolicy: webrtc.ICETransportPolicyRelay})
	if err != nil {
		return err
	}
	audio, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "self")
	if err == nil {
		_, err = pc.AddTransceiverFromTrack(audio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	}
	if err != nil {
		_ = pc.Close()
		return err
	}
	pc.OnICECandidate(func(ci *webrtc.ICECandidate) {
		if ci != nil {
			_ = c.send(map[string]any{"type": "candidate", "candidate": ci.ToJSON()})
		}
	})
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		c.mu.Lock()
		n := c.received[tr.StreamID()]
		if n == nil {
			n = &atomic.Uint64{}
			c.received[tr.StreamID()] = n
		}
		c.mu.Unlock()
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			buf := make([]byte, 1500)
			for {
				if _, _, err := tr.Read(buf); err != nil {
					return
				}
				n.Add(1)
			}
		}()
	})
	c.mu.Lock()
	c.pc, c.audio, c.self, c.ice = pc, audio, self, servers
	c.mu.Unlock()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.generate()
	}()
	return nil
}

func (c *relayClient) peerConn() *webrtc.PeerConnection {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pc
}

func (c *relayClient) answer(sdp string) error {
	pc := c.peerConn()
	if pc == nil {
		return fmt.Errorf("offer before joined")
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		return err
	}
	c.mu.Lock()
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	for _, ci := range pending {
		if err := pc.AddICECandidate(ci); err != nil {
			return err
		}
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return err
	}
	if err := pc.SetLocalDescription(ans); err != nil {
		return err
	}
	return c.send(map[string]any{"type": "answer", "sdp": ans.SDP})
}

func (c *relayClient) addCandidate(ci webrtc.ICECandidateInit) {
	c.mu.Lock()
	pc := c.pc
	if pc == nil || pc.RemoteDescription() == nil {
		c.pending = append(c.pending, ci)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	if err := pc.AddICECandidate(ci); err != nil {
		c.fail(err)
	}
}

// generate sends 50 audio packets a second until closed.
func (c *relayClient) generate() {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	payload := make([]byte, 80)
	var seq uint16
	var ts uint32
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		seq++
		ts += 960
		_ = c.audio.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: seq, Timestamp: ts, SSRC: 7}, Payload: payload})
	}
}

func (c *relayClient) packetsFrom(stream string) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.received[stream]; n != nil {
		return n.Load()
	}
	return 0
}

func (c *relayClient) errors() []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]error(nil), c.errs...)
}

func (c *relayClient) close() {
	c.cancel()
	c.wmu.Lock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	c.wmu.Unlock()
	c.ws.Close()
	if pc := c.peerConn(); pc != nil {
		_ = pc.Close()
	}
	c.wg.Wait()
}

// waitFor polls cond every 20 ms until it holds or ctx ends.
func waitFor(ctx context.Context, cond func() bool) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// relayProtocol is how the client reaches the TURN server on its selected
// candidate pair ("udp", "tcp" or "tls"), and that pair.
func (c *relayClient) relayProtocol() (string, *webrtc.ICECandidatePair, error) {
	pc := c.peerConn()
	var pair *webrtc.ICECandidatePair
	for _, tr := range pc.GetTransceivers() {
		if s := tr.Sender(); s != nil && s.Transport() != nil {
			var err error
			if pair, err = s.Transport().ICETransport().GetSelectedCandidatePair(); err != nil {
				return "", nil, err
			}
			break
		}
	}
	if pair == nil {
		return "", nil, errors.New("no selected candidate pair")
	}
	for _, st := range pc.GetStats() {
		if cs, ok := st.(webrtc.ICECandidateStats); ok && cs.Type == webrtc.StatsTypeLocalCandidate &&
			cs.IP == pair.Local.Address && cs.Port == int32(pair.Local.Port) {
			return cs.RelayProtocol, pair, nil
		}
	}
	return "", pair, fmt.Errorf("no stats for the local candidate %s", pair.Local)
}
