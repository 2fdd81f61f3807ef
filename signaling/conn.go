package signaling

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hearth-rtc/hearth/live"
	"github.com/hearth-rtc/hearth/protocol"
)

// outQueue bounds what may wait for a slow client. A client that falls this
// far behind is disconnected rather than allowed to grow server memory.
const outQueue = 256

// writeWait bounds one websocket write.
const writeWait = 10 * time.Second

// conn is one client's websocket. Once joined it speaks for one
// participant of one live room: the room holds the participant's seat or
// waiting place and reaches the client through the conn's live.Conn
// methods (Send, Close).
//
// Lifecycle: serve runs the read loop on its own goroutine; a writer
// goroutine runs while there is something to send, so an idle connection
// costs one goroutine, not two. When the read loop ends (client gone,
// kicked, or shut down) the participant leaves its room, or the room holds
// its seat for a resume; the last writer sends the close frame, and serve
// returns once it has ended and the client has answered the close (or
// closeWait has passed).
type conn struct {
	srv *Server
	ws  *websocket.Conn
	log *slog.Logger

	mu sync.Mutex
	// room and id are where the connection speaks once joined (seated or
	// waiting); joinedAs is how it joined, for the metrics.
	room      *live.Room
	id        string
	joinedAs  string
	resume    string   // current resume secret
	explicit  bool     // the client closed the socket on purpose
	byeReason string   // why the server closed it (bye), for the others
	out       [][]byte // queued for the writer; nil is a ping
	writing   bool     // a writer goroutine owns the socket's writes
	outFailed bool     // the writer stopped on an error: drop what comes
	outClosed bool
	closeCode int
	closeText string
	pinger    *time.Timer
	join      joinWatch  // the join deadline (limits.go)
	relay     relayState // relaying to the room's node (relay.go)
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
	c.endRelay()
	if !c.hold() {
		c.leave()
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
		if up := c.upstream(); up != nil {
			err := forward(up, buf.Bytes())
			c.srv.putMsgBuf(buf)
			if err != nil {
				return
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

// Send queues a message; it never blocks. It implements live.Conn: a
// json.RawMessage is sent as it is; joined's resume secret names this
// connection from now on, and retires its previous one; errors are
// counted.
func (c *conn) Send(msg any) {
	switch m := msg.(type) {
	case json.RawMessage:
		c.sendRaw(m)
		return
	case protocol.Joined:
		c.srv.setResumeSecret(c, m.Resume)
	case protocol.Error:
		c.srv.metrics().ErrorSent(string(m.Code))
	}
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
	c.Send(protocol.Error{Type: "error", Code: e.code, Message: sentence(e.message), Ref: ref})
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

// byeServerShutdown is the bye reason of a server going away.
const byeServerShutdown = "server_shutdown"

// Close sends a last message (a bye, or an error that ends the
// connection) and closes the connection from the server side; the read
// loop notices. It implements live.Conn: the room calls it when the
// participant's part here is over, so the resume secret goes too.
func (c *conn) Close(last any) {
	c.srv.forgetResume(c)
	code, text := websocket.CloseNormalClosure, ""
	switch m := last.(type) {
	case protocol.Bye:
		c.mu.Lock()
		c.byeReason = m.Reason
		c.mu.Unlock()
		if m.Reason == byeServerShutdown {
			code = websocket.CloseGoingAway
		}
	case protocol.Error:
		code, text = closeCodeFor(m.Code), string(m.Code)
	}
	if last != nil {
		c.Send(last)
	}
	c.closeOut(code, text)
}

var _ live.Conn = (*conn)(nil)

func (c *conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.outClosed
}

// joined records the room and participant c speaks for from now on.
func (c *conn) joined(r *live.Room, id, how string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.room, c.id, c.joinedAs = r, id, how
}

// seat returns the room and participant c speaks for: not_joined before
// a join.
func (c *conn) seat() (*live.Room, string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.room == nil {
		return nil, "", perr(protocol.CodeNotJoined, "Join the session first.")
	}
	return c.room, c.id, nil
}

// hold asks the room to hold the seat for a resume, after the socket
// ended without a goodbye (neither side closed it on purpose). It reports
// whether the seat is held.
func (c *conn) hold() bool {
	c.mu.Lock()
	r, id, onPurpose := c.room, c.id, c.explicit || c.outClosed
	c.mu.Unlock()
	return r != nil && !onPurpose && r.Drop(id, c)
}

// leave takes the participant out of its room, if it joined one, with the
// reason the others are told: why the server said bye, or "left".
func (c *conn) leave() {
	c.srv.forgetResume(c)
	c.mu.Lock()
	r, id, reason := c.room, c.id, c.byeReason
	c.mu.Unlock()
	if reason == "" {
		reason = "left"
	}
	if r != nil {
		r.Leave(id, c, reason)
	}
}
