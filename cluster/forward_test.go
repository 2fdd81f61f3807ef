package cluster_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hearth-rtc/hearth/cluster"
	"github.com/hearth-rtc/hearth/internal/testutil/redistest"
)

// TestAdminForwarder: an admin request about a room another node runs is
// served by that node, whichever node it reached; a request claiming to
// come from a peer with the wrong secret is refused.
func TestAdminForwarder(t *testing.T) {
	rs := redistest.Start(t)
	ctx := context.Background()
	const secret = "cluster-secret-for-tests"
	serve := func(id string) (*cluster.Node, *httptest.Server) {
		var h http.Handler
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
		t.Cleanup(srv.Close)
		n := newNode(t, rs, id, cluster.Options{AdvertiseURL: srv.URL,
			Rooms: func() []string {
				if id == "b" {
					return []string{"evening"}
				}
				return nil
			}})
		h = cluster.NewAdminForwarder(n, secret, "/admin", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "served by "+id+" "+r.URL.Path)
		}))
		return n, srv
	}
	a, srvA := serve("a")
	b, _ := serve("b")
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	get := func(path string, header http.Header) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srvA.URL+path, nil)
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	resp, body := get("/admin/rooms/evening/session", nil)
	if body != "served by b /admin/rooms/evening/session" || resp.Header.Get(cluster.NodeHeader) != "b" {
		t.Fatalf("a room b runs, asked of a: %q (node %q)", body, resp.Header.Get(cluster.NodeHeader))
	}
	resp, body = get("/admin/rooms/quiet", nil)
	if body != "served by a /admin/rooms/quiet" || resp.Header.Get(cluster.NodeHeader) != "a" {
		t.Fatalf("a room nobody runs: %q", body)
	}
	if _, body = get("/admin/rooms", nil); body != "served by a /admin/rooms" {
		t.Fatalf("the list of rooms: %q", body)
	}
	resp, body = get("/admin/rooms/evening", http.Header{cluster.SecretHeader: {"guess"}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `"forbidden"`) || strings.Contains(body, "served") {
		t.Fatalf("a wrong cluster secret: %d %q", resp.StatusCode, body)
	}
	// A peer's request is served where it lands (no second hop).
	if _, body = get("/admin/rooms/evening", http.Header{cluster.SecretHeader: {secret}}); body != "served by a /admin/rooms/evening" {
		t.Fatalf("a peer's request: %q", body)
	}
}
