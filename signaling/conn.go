package signaling

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
	"github.com/hearth-rtc/hearth/sfu"
	"github.com/pion/webrtc/v4"
)

// outQueue bounds what may wait for a slow client. A client that falls this
// far behind is disconnected rather than allowed to grow server memory.
const outQueue = 256

// writeWait bounds one websocket write.
const writeWait = 10 * time.Second

type connState int

const (
	stateNew      connState = iota // before join
	stateWaiting                   // in the waiting room: no media, no roster
	stateActive                    // seated, with a peer connection
	stateDetached                  // socket lost; seat held for the grace period
	stateMoved                     // seat taken over by a resuming socket
	stateClosed
)

// conn is one client's websocket.
//
// Lifecycle: serve runs the read loop on its own goroutine; a writer
// goroutine runs while there is something to send, so an idle connection
// costs one goroutine, not two. When the read loop ends (client gone,
// kicked, or shut down) the participant leaves, the last writer sends the
// close frame, and serve returns once it has ended and the client has
// answered the close (or closeWait has passed).
type conn struct {
	srv *Server
	ws  *websocket.Conn
	log *slog.Logger

	mu        sync.Mutex
	state     connState
	part      room.Participant
	sess      *session
	peer      *sfu.Peer
	muted     protocol.Media
	relay     *relay      // the peer's signaler, kept across sockets
	resume    string      // current resume secret
	grace     *time.Timer // releases a detached seat
	explicit  bool        // the client closed the socket on purpose
	byeReason string      // why the server closed it (bye), for the others
	out       [][]byte    // queued for the writer; nil is a ping
	writing   bool        // a writer goroutine owns the socket's writes
	outFailed bool        // the writer stopped on an error: drop what comes
	outClosed bool
	closeCode int
	closeText string
	pinger    *time.Timer
	join      joinWatch // the join deadline (limits.go)
	// writers counts writer goroutines, so that serve returns only when
	// the last has ended.
	writers sync.WaitGroup
}

func newConn(s *Server, ws *websocket.Conn) *conn {
	return &conn{srv: s, ws: ws, log: s.log}
}

func (c *conn) serve() {
	c.mu.Lock()
	if !c.outClosed {
		c.pinger = time.AfterFunc(c.srv.cfg.PingInterval, c.queuePing)
	}
	c.mu.Unlock()
	c.readLoop()
	if !c.detach() {
		c.mu.Lock()
		reason := c.byeReason
		c.mu.Unlock()
		if reason == "" {
			reason = "left"
		}
		c.leave(reason)
	}
	c.closeOut(websocket.CloseNormalClosure, "")
	c.writers.Wait()
	c.drain()
	c.ws.Close()
}

// closeWait bounds how long a closing connection waits, once the close
// frame is written, for the client to answer it.
const closeWait = 2 * time.Second

// drain reads and drops what the client still sends until it answers the
// close frame, hangs up, or closeWait passes. A socket closed with unread
// data is reset by the kernel, which throws away what it had not yet
// delivered: a client cut off while it kept sending (a flood, an oversized
// frame) would lose its last error and the close frame. After a read
// error (the client left first) it returns at once.
func (c *conn) drain() {
	_ = c.ws.NetConn().SetReadDeadline(time.Now().Add(closeWait))
	for {
		if _, _, err := c.ws.NextReader(); err != nil {
			return
		}
	}
}

func (c *conn) readLoop() {
	// The hard limit protects memory; frames between the soft and the hard
	// limit get a clear too_large error before the close.
	c.ws.SetReadLimit(c.srv.cfg.MaxMessageBytes * 4)
	// A client that answers neither messages nor pings for this long is
	// gone (half-open TCP after a network change); its seat is then held
	// for the reconnect grace period.
	idle := 2*c.srv.cfg.PingInterval + 5*time.Second
	limiter := newRateLimiter(c.srv.cfg.MessageRate, c.srv.cfg.MessageBurst)
	c.ws.SetPongHandler(func(string) error {
		if c.isClosed() {
			return nil // keep the short deadline closeOut set
		}
		return c.ws.SetReadDeadline(time.Now().Add(idle))
	})
	for {
		if !c.isClosed() {
			_ = c.ws.SetReadDeadline(time.Now().Add(idle))
		}
		typ, r, err := c.ws.NextReader()
		if err != nil {
			// A normal close is a goodbye; anything else may be a blip.
			if websocket.IsCloseError(err, websocket.CloseNormalClosure) {
				c.mu.Lock()
				c.explicit = true
				c.mu.Unlock()
			}
			if !websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway) && !errors.Is(err, io.EOF) {
				c.log.Debug("websocket read ended", "err", err)
			}
			return
		}
		if typ != websocket.TextMessage {
			if ok, _, disconnect := limiter.allow(time.Now()); !ok {
				if disconnect {
					c.sendError(&protoError{code: protocol.CodeRateLimited, close: true, message: "too many messages; disconnected"}, "")
					return
				}
				continue
			}
			c.sendError(perr(protocol.CodeBinary, "binary frames are not supported; send JSON text frames"), "")
			continue
		}
		buf := c.srv.msgBuf()
		_, err = buf.ReadFrom(io.LimitReader(r, c.srv.cfg.MaxMessageBytes+1))
		if err != nil {
			return
		}
		if int64(buf.Len()) > c.srv.cfg.MaxMessageBytes {
			c.sendError(&protoError{code: protocol.CodeTooLarge, close: true,
				message: fmt.Sprintf("message larger than the %d KiB limit", c.srv.cfg.MaxMessageBytes>>10)}, "")
			return
		}
		if c.isClosed() {
			return
		}
		if ok, warn, disconnect := limiter.allow(time.Now()); !ok {
			c.srv.putMsgBuf(buf)
			if disconnect {
				c.log.Info("disconnecting a client that keeps flooding")
				c.sendError(&protoError{code: protocol.CodeRateLimited, close: true,
					message: "too many messages; disconnected"}, "")
				return
			}
			if warn {
				c.sendError(perr(protocol.CodeRateLimited, "too many messages; slow down (messages are being dropped)"), "")
			}
			continue
		}
		c.dispatch(buf.Bytes())
		c.srv.putMsgBuf(buf)
		if c.isClosed() {
			return
		}
	}
}

// maxPooledMsg bounds the buffers kept for reading messages: a rare large
// one is let go rather than kept for every later small one.
const maxPooledMsg = 64 << 10

// msgBuf returns an empty buffer to read a message into.
func (s *Server) msgBuf() *bytes.Buffer {
	if b, ok := s.msgBufs.Get().(*bytes.Buffer); ok {
		return b
	}
	return &bytes.Buffer{}
}

// putMsgBuf takes back a buffer once the message in it is handled.
func (s *Server) putMsgBuf(b *bytes.Buffer) {
	if b.Cap() > maxPooledMsg {
		return
	}
	b.Reset()
	s.msgBufs.Put(b)
}

// flush is the only writer of frames while it runs: it writes what is
// queued, and ends when the queue is empty (the next send starts another)
// or once it has sent the close frame after closeOut. On a write error it
// stops and leaves the socket to the read loop: the client's close frame
// may still be there to read, telling a goodbye from a drop; if not, its
// deadline ends the loop.
func (c *conn) flush() {
	defer c.writers.Done()
	for {
		q, closed, more := c.takeOut()
		if !more {
			return
		}
		for _, b := range q {
			var err error
			if b == nil {
				err = c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait))
			} else {
				_ = c.ws.SetWriteDeadline(time.Now().Add(writeWait))
				err = c.ws.WriteMessage(websocket.TextMessage, b)
			}
			if err != nil {
				c.stopWriting()
				return
			}
		}
		if closed {
			c.mu.Lock()
			code, text := c.closeCode, c.closeText
			c.mu.Unlock()
			_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
			return
		}
	}
}

// queuePing queues a keepalive ping, every PingInterval until closeOut.
func (c *conn) queuePing() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.outClosed || c.outFailed {
		return
	}
	c.out = append(c.out, nil)
	c.startWriterLocked()
	c.pinger.Reset(c.srv.cfg.PingInterval)
}

// takeOut returns what is queued, emptying the queue, and whether the
// connection is closing (nothing more will be queued). more is false when
// there is nothing left to do: the writer then ends, and the next send
// starts another.
func (c *conn) takeOut() (q [][]byte, closed, more bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.out) == 0 && !c.outClosed {
		c.writing = false
		return nil, false, false
	}
	// A queue is short and mostly empty: a slice made per burst costs less
	// than a channel sized for the worst case on every connection.
	q, c.out = c.out, nil
	return q, c.outClosed, true
}

// stopWriting drops what is queued and whatever is sent later.
func (c *conn) stopWriting() {
	c.mu.Lock()
	c.outFailed = true
	c.out = nil
	c.mu.Unlock()
}

// startWriterLocked starts a writer unless one is running (it will see
// what was just queued). Under mu.
func (c *conn) startWriterLocked() {
	if c.writing {
		return
	}
	c.writing = true
	c.writers.Add(1)
	go c.flush()
}

// send queues a message; it never blocks.
func (c *conn) send(msg any) {
	b, err := json.Marshal(msg)
	if err != nil {
		c.log.Error("marshal", "err", err)
		return
	}
	c.sendRaw(b)
}

func (c *conn) sendRaw(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.outClosed || c.outFailed {
		return
	}
	if len(c.out) >= outQueue {
		// The writer still flushes what is queued, within its deadline.
		c.log.Warn("client too slow; disconnecting")
		c.closeOutLocked(websocket.ClosePolicyViolation, "too slow")
		return
	}
	c.out = append(c.out, b)
	c.startWriterLocked()
}

func (c *conn) sendError(e *protoError, ref string) {
	c.srv.metrics().ErrorSent(string(e.code))
	c.send(protocol.Error{Type: "error", Code: e.code, Message: sentence(e.message), Ref: ref})
	if e.close {
		c.closeOut(closeCodeFor(e.code), string(e.code))
	}
}

// closeOut stops further sends; the writer flushes what is queued, then
// sends a close frame with code.
func (c *conn) closeOut(code int, text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeOutLocked(code, text)
}

func (c *conn) closeOutLocked(code int, text string) {
	if c.outClosed {
		return
	}
	c.outClosed = true
	c.closeCode, c.closeText = code, text
	if c.pinger != nil {
		c.pinger.Stop()
	}
	c.startWriterLocked()
	// Wake the read loop even if the client never answers the close frame.
	// net.Conn deadlines may be set from any goroutine.
	_ = c.ws.NetConn().SetReadDeadline(time.Now().Add(closeWait))
}

// kick sends a last message and closes the connection from the server side.
// The read loop notices, and the participant leaves.
func (c *conn) kick(last any, code int) {
	if c.isDetached() {
		// Nobody to tell: release the held seat now.
		reason := "left"
		if b, ok := last.(protocol.Bye); ok {
			reason = b.Reason
		}
		c.leave(reason)
		return
	}
	if b, ok := last.(protocol.Bye); ok {
		c.mu.Lock()
		c.byeReason = b.Reason
		c.mu.Unlock()
	}
	c.send(last)
	c.closeOut(code, "")
}

func (c *conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.outClosed
}

func (c *conn) isActive() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state == stateActive
}

// isSeated: active, or holding the seat while reconnecting.
func (c *conn) isSeated() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state == stateActive || c.state == stateDetached
}

func (c *conn) participantID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.part.ID
}

func (c *conn) role() room.Role {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.part.Role
}

func (c *conn) setActive(p room.Participant) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stateWaiting {
		return // closed, or moved to a newer connection meanwhile
	}
	c.state = stateActive
	c.part = p
}

// info describes this participant to others; tracks, when given, are
// filtered to its own.
func (c *conn) info(tracks []sfu.TrackInfo) protocol.Participant {
	c.mu.Lock()
	defer c.mu.Unlock()
	pi := protocol.Participant{ID: c.part.ID, Identity: c.part.Identity, Name: c.part.Name, Role: c.part.Role,
		Muted: c.muted, State: "active", Tracks: []protocol.Track{}}
	if c.state == stateDetached {
		pi.State = "reconnecting"
	}
	for _, t := range tracks {
		if t.Publisher == c.part.ID {
			pi.Tracks = append(pi.Tracks, toTrackInfo(t))
		}
	}
	return pi
}

// leave takes the participant out of its session and the room service.
// It is called once, when the read loop ends.
func (c *conn) leave(reason string) {
	c.mu.Lock()
	sess, peer, part := c.sess, c.peer, c.part
	wasActive := c.state == stateActive || c.state == stateDetached
	c.sess, c.peer = nil, nil
	c.state = stateClosed
	if c.grace != nil {
		c.grace.Stop()
		c.grace = nil
	}
	c.mu.Unlock()
	if sess == nil {
		return
	}
	c.srv.forgetResume(c)
	sess.remove(c)
	if peer != nil {
		peer.Close()
	}
	// Leaving must be recorded even if the client's context is gone.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.srv.cfg.Rooms.Leave(ctx, part.Room, part.ID); err != nil {
		c.log.Warn("leave", "err", err)
	}
	if wasActive {
		sess.broadcast(protocol.ParticipantLeft{Type: "participant_left", Participant: part.ID, Reason: reason}, c)
	} else {
		c.srv.sendWaitingList(ctx, sess)
	}
	c.srv.dropSessionIfEmpty(sess)
}

// Signaler for the SFU.

func (c *conn) SendOffer(sdp string)  { c.send(protocol.SDP{Type: "offer", SDP: sdp}) }
func (c *conn) SendAnswer(sdp string) { c.send(protocol.SDP{Type: "answer", SDP: sdp}) }
func (c *conn) SendCandidate(ci webrtc.ICECandidateInit) {
	c.send(protocol.Candidate{Type: "candidate", Candidate: &ci})
}
