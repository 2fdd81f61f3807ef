package span

import (
	"log/slog"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// maxMessage bounds one message: a link's offer for a full room's tracks,
// every simulcast layer a section, is under a few MB.
const maxMessage = 16 << 20

// queueLen bounds the messages waiting to go: a node that cannot keep up
// with this many is cut off rather than let the queue grow.
const queueLen = 8192

// writeWait bounds one write.
const writeWait = 10 * time.Second

// wire is one websocket between two nodes: messages in order both ways,
// queued without blocking on the way out.
type wire struct {
	ws   *websocket.Conn
	out  chan msg
	done chan struct{}
	once sync.Once
	log  *slog.Logger
	wg   sync.WaitGroup
}

func newWire(ws *websocket.Conn, log *slog.Logger) *wire {
	ws.SetReadLimit(maxMessage)
	w := &wire{ws: ws, out: make(chan msg, queueLen), done: make(chan struct{}), log: log}
	w.wg.Add(1)
	go w.write()
	return w
}

// send queues m; it never blocks. A full queue closes the wire.
func (w *wire) send(m msg) {
	select {
	case <-w.done:
	case w.out <- m:
	default:
		w.log.Warn("span: the other node does not keep up; closing")
		w.close()
	}
}

func (w *wire) write() {
	defer w.wg.Done()
	for {
		select {
		case <-w.done:
			return
		case m := <-w.out:
			_ = w.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := w.ws.WriteJSON(m); err != nil {
				w.log.Info("span: write", "err", err)
				w.close()
				return
			}
		}
	}
}

// read returns the next message.
func (w *wire) read() (msg, error) {
	var m msg
	err := w.ws.ReadJSON(&m)
	return m, err
}

// close ends the wire: its reader's next read fails.
func (w *wire) close() {
	w.once.Do(func() {
		close(w.done)
		_ = w.ws.Close()
	})
}

// wait closes the wire and waits for its writer.
func (w *wire) wait() {
	w.close()
	w.wg.Wait()
}
