package app_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/app"
)

// TestCertificateRenewal: certificate files replaced while the server runs
// (a renewal) are presented by HTTPS and TURN over TLS at the next
// handshake, with no restart and no connection dropped.
func TestCertificateRenewal(t *testing.T) {
	certFile, keyFile, oldDER := writeCert(t)
	newCert, newKey, newDER := writeCert(t)
	a, err := app.New(app.Config{Listen: "127.0.0.1:0", LoopbackOnly: true, TLSCert: certFile, TLSKey: keyFile,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		TURN:   app.TURNConfig{Enabled: true, TLSAddr: "127.0.0.1:0"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Error(err)
		}
	}()

	https := strings.TrimPrefix(a.URL(), "https://")
	turns := a.TURN().TLSAddr().String()
	presented := func(addr string) []byte {
		conn, err := tls.Dial("tcp4", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // the certificate is compared
		if err != nil {
			t.Fatalf("TLS to %s: %v", addr, err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].Raw
	}
	for _, addr := range []string{https, turns} {
		if !bytes.Equal(presented(addr), oldDER) {
			t.Fatalf("%s presents another certificate at start", addr)
		}
	}
	held, err := tls.Dial("tcp4", https, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // only kept open
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()

	// The renewal: the files are rewritten in place, key last.
	later := time.Now().Add(time.Minute)
	for _, f := range [][2]string{{newCert, certFile}, {newKey, keyFile}} {
		b, err := os.ReadFile(f[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f[1], b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(f[1], later, later); err != nil {
			t.Fatal(err)
		}
	}
	for _, addr := range []string{https, turns} {
		deadline := time.Now().Add(30 * time.Second)
		for !bytes.Equal(presented(addr), newDER) {
			if time.Now().After(deadline) {
				t.Fatalf("%s still presents the old certificate 30 s after renewal", addr)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// The connection made before the renewal still serves.
	_ = held.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(held, "GET / HTTP/1.1\r\nHost: hearth\r\n\r\n"); err != nil {
		t.Fatalf("a connection made before the renewal was lost: %v", err)
	}
	status := make([]byte, 12)
	if _, err := io.ReadFull(held, status); err != nil || string(status) != "HTTP/1.1 200" {
		t.Fatalf("a connection made before the renewal answered %q, %v", status, err)
	}
}
