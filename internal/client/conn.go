package client

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// wsConn is one websocket to the server and the goroutine reading it.
//
// Lifecycle: dialWS → read (once) → … → close or drop; done is closed when
// the reader has returned.
type wsConn struct {
	ws      *websocket.Conn
	timeout time.Duration // per write

	wmu  sync.Mutex // writes
	done chan struct{}
}

func dialWS(ctx context.Context, url string, header http.Header, timeout time.Duration) (*wsConn, error) {
	d := websocket.Dialer{} // bounded by ctx
	ws, resp, err := d.DialContext(ctx, url, header)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("client: dial %s: %w", url, err)
	}
	return &wsConn{ws: ws, timeout: timeout, done: make(chan struct{})}, nil
}

// read starts the reader: handle gets each frame, then ended the error that
// stopped it.
func (w *wsConn) read(handle func([]byte), ended func(error)) {
	go func() {
		defer close(w.done)
		for {
			_, b, err := w.ws.ReadMessage()
			if err != nil {
				ended(err)
				return
			}
			handle(b)
		}
	}()
}

// write sends one frame as is.
func (w *wsConn) write(typ int, b []byte) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	_ = w.ws.SetWriteDeadline(time.Now().Add(w.timeout))
	return w.ws.WriteMessage(typ, b)
}

// close says goodbye and closes the socket.
func (w *wsConn) close() {
	w.wmu.Lock()
	_ = w.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	w.wmu.Unlock()
	w.ws.Close()
}

// drop cuts the socket without a goodbye, as a network failure would.
func (w *wsConn) drop() { _ = w.ws.NetConn().Close() }
