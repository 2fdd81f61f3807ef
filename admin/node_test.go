package admin_test

import (
	"net/http"
	"testing"

	"github.com/hearth-rtc/hearth/membership"
)

// TestNodeAlone: a server on its own has no /node: it says so, whoever
// asks, once authenticated.
func TestNodeAlone(t *testing.T) {
	s := membership.NewMemStore(membership.MemStoreOptions{})
	t.Cleanup(func() { _ = s.Close() })
	c := start(t, s)
	for _, m := range []string{http.MethodGet, http.MethodPut} {
		r := c.do(m, "/admin/node", `{"draining": true}`)
		if r.status != http.StatusNotFound || r.body["error"] == nil {
			t.Fatalf("%s /admin/node on a lone server: %d %s", m, r.status, r.raw)
		}
	}
}
