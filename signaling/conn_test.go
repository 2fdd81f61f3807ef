package signaling

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestSlowClientDisconnected: a client that stops reading while the server
// has more and more to tell it is disconnected once outQueue messages wait,
// with a policy-violation close, rather than let them pile up in memory;
// what was queued before still reaches it.
func TestSlowClientDisconnected(t *testing.T) {
	srv := New(Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	conns := make(chan *websocket.Conn, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err == nil {
			conns <- ws
		}
	}))
	defer hs.Close()
	client, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	defer client.Close()
	ws := <-conns
	defer ws.Close()

	c := newConn(srv, ws)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writeLoop()
	}()
	// Far more than the socket buffers hold, so the writer blocks while
	// the client reads nothing.
	msg := []byte(`"` + strings.Repeat("x", 64<<10) + `"`)
	sent := 0
	for !c.isClosed() && sent < 4*outQueue+1000 {
		c.sendRaw(msg)
		sent++
	}
	if !c.isClosed() {
		t.Fatalf("%d messages queued for a client that reads nothing, and it is still connected", sent)
	}
	c.mu.Lock()
	code := c.closeCode
	c.mu.Unlock()
	if code != websocket.ClosePolicyViolation {
		t.Errorf("close code %d, want %d (policy violation)", code, websocket.ClosePolicyViolation)
	}
	// The client now reads: the queued messages, then the close frame.
	if err := client.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	got := 0
	for {
		_, _, err := client.ReadMessage()
		if err != nil {
			if !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
				t.Errorf("read ended with %v, want a policy-violation close", err)
			}
			break
		}
		got++
	}
	if got < outQueue || got >= sent {
		t.Errorf("client read %d of %d messages, want the %d+ queued before the cut-off and not all", got, sent, outQueue)
	}
	<-writerDone
}
