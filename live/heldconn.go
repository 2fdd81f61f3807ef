package live

import "sync"

// A held connection: what a room sends a client is queued, in order,
// until release, so that joined (and whatever follows it) reaches the
// client only once the hash of the resume secret it carries is in the
// store (mirror_room.go). The queue is bounded: past maxHeld messages
// the connection is released at once.

// maxHeld bounds the messages a held connection queues.
const maxHeld = 256

// heldConn is a Conn that queues for to until release; from then on, and
// after Close, it passes everything straight on.
type heldConn struct {
	to Conn

	mu       sync.Mutex
	queue    []any
	released bool
}

func newHeldConn(to Conn) *heldConn { return &heldConn{to: to} }

// Send implements Conn.
func (h *heldConn) Send(msg any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.released {
		h.to.Send(msg)
		return
	}
	h.queue = append(h.queue, msg)
	if len(h.queue) >= maxHeld {
		h.flushLocked()
	}
}

// Close implements Conn: what was queued goes first.
func (h *heldConn) Close(last any) {
	h.release()
	h.to.Close(last)
}

// release sends what was queued, in order; later messages pass straight on.
func (h *heldConn) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.flushLocked()
}

func (h *heldConn) flushLocked() {
	for _, msg := range h.queue {
		h.to.Send(msg)
	}
	h.queue, h.released = nil, true
}
