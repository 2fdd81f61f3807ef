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
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
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
	if err := client.SetReadDeadline(budget.Deadline(t, budget.Step)); err != nil {
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
	c.writers.Wait()
}

// TestIdleConnectionPinged: a connection with nothing to say is still
// pinged every PingInterval (which keeps NAT mappings open and tells a
// dead client from a quiet one), and between pings the server holds no
// writer for it: an idle participant costs one goroutine, its reader.
func TestIdleConnectionPinged(t *testing.T) {
	srv := New(Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), PingInterval: 50 * time.Millisecond})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	client, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	pings := make(chan struct{}, 100)
	client.SetPingHandler(func(data string) error {
		pings <- struct{}{}
		return client.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		for {
			if _, _, err := client.ReadMessage(); err != nil {
				return
			}
		}
	}()
	ctx, cancel := budget.Context(t, budget.Test)
	defer cancel()
	deadline := ctx.Done()
	for range 3 {
		select {
		case <-pings:
		case <-deadline:
			t.Fatal("an idle connection was not pinged three times at a 50 ms interval")
		}
	}
	srv.mu.Lock()
	var c *conn
	for x := range srv.conns {
		c = x
	}
	srv.mu.Unlock()
	if c == nil {
		t.Fatal("the server does not know the connection")
	}
	idle := false
	for !idle {
		select {
		case <-deadline:
			t.Fatal("a writer stays busy for a connection that has nothing to send but pings")
		case <-time.After(5 * time.Millisecond):
		}
		c.mu.Lock()
		idle = !c.writing && len(c.out) == 0
		c.mu.Unlock()
	}
	client.Close()
	<-readDone
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}
