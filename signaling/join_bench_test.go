package signaling_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
)

// BenchmarkJoin measures the server's join path, one participant at a time,
// on a real server over loopback: websocket upgrade, join (token-less, open
// room, in-memory store), the joined snapshot, the peer connection and the
// first offer. Each iteration then leaves. A seated participant keeps the
// room's session (and router) alive, as in a session in progress.
func BenchmarkJoin(b *testing.B) {
	srv := hearthtest.Start(b, hearthtest.Options{})
	host := openSocket(b, srv.WSURL)
	defer host.Close()
	joinAndOffer(b, host, "bench-room", "host")
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		ws := openSocket(b, srv.WSURL)
		joinAndOffer(b, ws, "bench-room", fmt.Sprint("guest ", i))
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		ws.Close()
	}
}

func openSocket(b *testing.B, url string) *websocket.Conn {
	b.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial(url, nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		b.Fatal(err)
	}
	return ws
}

// joinAndOffer joins and reads until the server's first offer.
func joinAndOffer(b *testing.B, ws *websocket.Conn, room, name string) {
	b.Helper()
	if err := ws.WriteJSON(map[string]any{"type": "join", "version": 1, "room": room, "name": name}); err != nil {
		b.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	joined := false
	for {
		var m struct {
			Type string `json:"type"`
			Code string `json:"code"`
		}
		_, data, err := ws.ReadMessage()
		if err != nil {
			b.Fatalf("%s: %v", name, err)
		}
		if err := json.Unmarshal(data, &m); err != nil {
			b.Fatal(err)
		}
		switch m.Type {
		case "joined":
			joined = true
		case "offer":
			if joined {
				return
			}
		case "error":
			b.Fatalf("%s: error %s", name, m.Code)
		}
	}
}
