package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestTrustedProxiesSetting: HEARTH_TRUSTED_PROXIES and
// HEARTH_MAX_CONNS_PER_IP reach the server: behind a trusted proxy each
// forwarded client has its own limit, held to the value set.
func TestTrustedProxiesSetting(t *testing.T) {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HEARTH_") {
			env = append(env, kv)
		}
	}
	env = append(env, "HEARTH_TRUSTED_PROXIES=10.0.0.0/8, 127.0.0.1", "HEARTH_MAX_CONNS_PER_IP=1")
	_, base := startBinaryEnv(t, env)
	ws := "ws" + strings.TrimPrefix(base, "http") + "/ws"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dial := func(xff string) int {
		ws, resp, err := websocket.DefaultDialer.DialContext(ctx, ws, http.Header{"X-Forwarded-For": {xff}})
		if resp == nil {
			t.Fatalf("dial: %v", err)
		}
		resp.Body.Close()
		if err == nil {
			t.Cleanup(func() { ws.Close() })
		}
		return resp.StatusCode
	}
	if got := dial("198.51.100.1"); got != http.StatusSwitchingProtocols {
		t.Fatalf("first client: status %d", got)
	}
	if got := dial("198.51.100.2"); got != http.StatusSwitchingProtocols {
		t.Fatalf("second client: status %d; want its own limit", got)
	}
	if got := dial("198.51.100.1"); got != http.StatusTooManyRequests {
		t.Fatalf("first client again: status %d; want 429 at a limit of 1", got)
	}
}

// TestLimitFlagsRefuseNonsense: a malformed -trusted-proxies stops the
// server before it starts, naming the flag.
func TestLimitFlagsRefuseNonsense(t *testing.T) {
	for _, v := range []string{"10.0.0.0/40", "proxy.example", "127.0.0.1:443"} {
		err := serve(context.Background(), []string{"-listen", "127.0.0.1:0", "-udp-port", "0", "-trusted-proxies", v}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "-trusted-proxies") {
			t.Errorf("-trusted-proxies %s: %v; want an error naming the flag", v, err)
		}
	}
}
