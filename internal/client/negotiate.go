package client

import (
	"errors"
	"fmt"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/hearth-rtc/hearth/protocol"
)

// The client's side of negotiation. The server is impolite: an offer of
// the client's that crosses one of the server's is ignored, and the client
// must answer the server's instead. pion cannot roll back a local offer, so
// the client does not set its offer until the server answers it: the
// connection stays stable while the offer is out, an offer of the server's
// that crosses it is answered as usual, and the client then offers again.

// negotiation is the client's own offer, if one is out.
type negotiation struct {
	// out is the offer sent and not yet answered, not yet set locally.
	out string
	// again: the client's connection changed while out was on its way;
	// it offers again once out is answered or ignored.
	again bool
	// mids counts the sections the client added for offers of its own.
	mids int
}

// errNoOffer is an answer that arrived with no offer of the client's out.
var errNoOffer = errors.New("client: an answer to no offer of this client's")

// Negotiated reports whether the client has no offer of its own out and
// its connection is stable: everything it offered has been answered and
// every offer of the server's it received, answered.
func (c *Client) Negotiated() bool {
	c.negMu.Lock()
	defer c.negMu.Unlock()
	return c.neg.out == "" && !c.neg.again && c.peer().SignalingState() == webrtc.SignalingStateStable
}

// addOwnSection adds a send-only section for track, to go in an offer of
// the client's own. Its mid is the client's ("c1", "c2", ...), never one of
// the numbers pion gives the server's sections: were it given one by the
// client's offer, an offer of the server's crossing that one could name
// the same mid for a section of its own, and take the client's.
func (c *Client) addOwnSection(track webrtc.TrackLocal) (*webrtc.RTPTransceiver, error) {
	c.negMu.Lock()
	defer c.negMu.Unlock()
	tr, err := c.peer().AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return nil, err
	}
	c.neg.mids++
	if err := tr.SetMid(fmt.Sprintf("c%d", c.neg.mids)); err != nil {
		return nil, err
	}
	return tr, nil
}

// offer offers the changes the client made to its connection, or, if an
// offer of its own is out, offers again once that is answered.
func (c *Client) offer() error {
	c.negMu.Lock()
	defer c.negMu.Unlock()
	if c.neg.out != "" {
		c.neg.again = true
		return nil
	}
	return c.offerLocked()
}

// offerLocked sends an offer of the current connection. Under negMu.
func (c *Client) offerLocked() error {
	c.neg.again = false
	o, err := c.peer().CreateOffer(nil)
	if err != nil {
		return err
	}
	c.neg.out = o.SDP
	return c.Send(protocol.SDP{Type: "offer", SDP: o.SDP})
}

// applyAnswer sets the client's offer and the server's answer to it. A
// test may also have set an offer of its own on the connection: the
// answer then goes to that.
func (c *Client) applyAnswer(sdp string) {
	c.negMu.Lock()
	defer c.negMu.Unlock()
	pc := c.peer()
	if out := c.neg.out; out != "" {
		c.neg.out = ""
		if err := pc.SetLocalDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: out}); err != nil {
			c.negError(err)
			return
		}
	} else if pc.SignalingState() != webrtc.SignalingStateHaveLocalOffer {
		c.negError(errNoOffer)
		return
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
		c.negError(err)
	}
	c.flushCandidates()
	c.offerAgainLocked()
}

// answer applies a server offer and answers it. An offer of the client's
// own that is out was ignored by the server: the client offers again
// after answering.
func (c *Client) answer(sdp string) {
	c.negMu.Lock()
	defer c.negMu.Unlock()
	if c.neg.out != "" {
		c.neg.out, c.neg.again = "", true
	}
	if err := c.peer().SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		c.negError(err)
		return
	}
	if c.opts.Bare != nil && c.opts.Bare.light {
		if err := c.in.mapSSRCs(sdp); err != nil {
			c.negError(err)
		}
	}
	c.flushCandidates()
	ans, err := c.peer().CreateAnswer(nil)
	if err == nil {
		err = c.peer().SetLocalDescription(ans)
	}
	if err != nil {
		c.negError(err)
		return
	}
	out := ans.SDP
	if c.opts.Simulcast {
		out = ridsOnly(out)
	}
	_ = c.Send(protocol.SDP{Type: "answer", SDP: out})
	c.in.answers.Add(1)
	c.answered.CompareAndSwap(0, int64(time.Since(c.origin)))
	c.offerAgainLocked()
}

// offerAgainLocked offers the changes made while an offer of the client's
// was out, if any. Under negMu.
func (c *Client) offerAgainLocked() {
	if !c.neg.again {
		return
	}
	if err := c.offerLocked(); err != nil {
		c.negError(err)
	}
}
