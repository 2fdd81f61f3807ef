package client

import (
	"fmt"
	"time"

	"github.com/hearth-rtc/hearth/protocol"
	"github.com/pion/webrtc/v4"
)

// The client's peer connection, and its replacement when the server seats
// the client again on a new one (joined with newPeer, as after a resume on
// a node that took the room over): as the browser does, the old one is
// closed and the same media is published on a new one, which the server's
// next offer negotiates.

// peer is the current peer connection.
func (c *Client) peer() *webrtc.PeerConnection { return c.pc.Load() }

// newPeerConnection makes a peer connection from the client's setup, its
// events wired to the client. Those of a connection that was replaced are
// ignored.
func (c *Client) newPeerConnection() (*webrtc.PeerConnection, error) {
	var pc *webrtc.PeerConnection
	var err error
	if c.opts.Bare != nil {
		pc, err = c.opts.Bare.peerConnection(c.in.onRTP)
	} else {
		pc, err = c.api.NewPeerConnection(webrtc.Configuration{})
	}
	if err != nil {
		return nil, err
	}
	origin := c.origin
	pc.OnICECandidate(func(ci *webrtc.ICECandidate) {
		if ci != nil && c.peer() == pc {
			init := ci.ToJSON()
			_ = c.Send(protocol.Candidate{Type: "candidate", Candidate: &init})
		}
	})
	pc.OnICEConnectionStateChange(func(s webrtc.ICEConnectionState) {
		if s == webrtc.ICEConnectionStateConnected {
			c.iceUp.CompareAndSwap(0, int64(time.Since(origin)))
		}
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			c.connected.CompareAndSwap(0, int64(time.Since(origin)))
		}
	})
	pc.OnTrack(c.in.onTrack)
	return pc, nil
}

// renewPeer replaces the peer connection with a new one publishing the
// same audio and video (a screen share ends with the old one), before the
// server's offer for it arrives. It runs on the websocket's reader, the
// only one applying descriptions, so the old connection closes safely.
func (c *Client) renewPeer() error {
	pc, err := c.newPeerConnection()
	if err != nil {
		return fmt.Errorf("client: new peer connection: %w", err)
	}
	c.negMu.Lock()
	old := c.pc.Swap(pc)
	c.neg = negotiation{}
	c.negMu.Unlock()
	c.in.resetSections()
	c.mu.Lock()
	c.pendingC, c.held = nil, ""
	if c.screen != nil {
		c.screen.paused.Store(true)
	}
	if c.screenAudio != nil {
		c.screenAudio.paused.Store(true)
	}
	c.screen, c.screenAudio = nil, nil
	c.mu.Unlock()
	err = c.out.rebind()
	_ = old.Close()
	if err != nil {
		return fmt.Errorf("client: publish on the new peer connection: %w", err)
	}
	return nil
}
