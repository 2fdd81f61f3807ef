package span

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/hearth-rtc/hearth/cluster"
	"github.com/hearth-rtc/hearth/sfu"
)

const testSecret = "a cluster secret of some length"

// TestHostRefusesStrangers: only a node with the cluster secret, naming
// itself, may drive rooms' media here; anyone else is refused before the
// websocket opens.
func TestHostRefusesStrangers(t *testing.T) {
	e, err := sfu.NewEngine(sfu.Config{UDPAddr: "127.0.0.1:0", LoopbackOnly: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	h := NewHost(e, testSecret, slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		h.Close()
		_ = e.Close()
	})
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + Path
	for _, c := range []struct {
		name   string
		header http.Header
		status int
	}{
		{"no secret", http.Header{cluster.NodeHeader: {"node-x"}}, http.StatusForbidden},
		{"a wrong secret", http.Header{cluster.SecretHeader: {"not the secret at all"}, cluster.NodeHeader: {"node-x"}}, http.StatusForbidden},
		{"no node", http.Header{cluster.SecretHeader: {testSecret}}, http.StatusBadRequest},
	} {
		ws, resp, err := websocket.DefaultDialer.Dial(url, c.header)
		if err == nil {
			ws.Close()
			t.Errorf("%s: connected", c.name)
			continue
		}
		if resp == nil || resp.StatusCode != c.status {
			t.Errorf("%s: %v, want status %d", c.name, resp, c.status)
		}
	}
	ws, _, err := websocket.DefaultDialer.Dial(url, http.Header{cluster.SecretHeader: {testSecret}, cluster.NodeHeader: {"node-x"}})
	if err != nil {
		t.Fatalf("a node with the secret: %v", err)
	}
	ws.Close()
}
