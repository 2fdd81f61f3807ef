package cluster

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"
)

// Headers between the nodes of a cluster.
const (
	// SecretHeader carries the cluster secret: a request with it comes
	// from another node, and is refused if the secret is wrong.
	SecretHeader = "Hearth-Cluster-Secret"
	// ClientHeader names, on a relayed websocket, the client's address as
	// the receiving node saw it; believed only with the right secret.
	ClientHeader = "Hearth-Client"
	// NodeHeader names, on an admin answer, the node that served it; on
	// a relayed websocket, the node that relays it (believed only with
	// the secret); on a span connection, the room's owner.
	NodeHeader = "Hearth-Node"
)

// Secret is a cluster's shared secret, compared in constant time.
type Secret struct{ sum [sha256.Size]byte }

// NewSecret returns the secret s.
func NewSecret(s string) Secret { return Secret{sum: sha256.Sum256([]byte(s))} }

// Matches reports whether got is the secret.
func (s Secret) Matches(got string) bool {
	h := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(h[:], s.sum[:]) == 1
}

// FromPeer reports whether r carries the cluster secret (peer), and
// whether it carries a wrong one (refuse).
func (s Secret) FromPeer(r *http.Request) (peer, refuse bool) {
	v, ok := r.Header[http.CanonicalHeaderKey(SecretHeader)]
	if !ok {
		return false, false
	}
	if len(v) == 1 && s.Matches(v[0]) {
		return true, false
	}
	return false, true
}

// AdminForwarder serves the admin API of a cluster: a request about a
// room (/admin/rooms/{name}/...) that another live node runs is proxied
// to that node, with the cluster secret, and the owner serves it; every
// other request is served here. Answers name the node that served them
// (NodeHeader).
type AdminForwarder struct {
	node      *Node
	secret    Secret
	raw       string
	next      http.Handler
	prefix    string
	transport http.RoundTripper
	log       *slog.Logger
}

// NewAdminForwarder wraps next, the admin API mounted at prefix
// ("/admin").
func NewAdminForwarder(node *Node, secret, prefix string, next http.Handler) *AdminForwarder {
	return &AdminForwarder{node: node, secret: NewSecret(secret), raw: secret, next: next,
		prefix: strings.TrimSuffix(prefix, "/"), log: node.log,
		transport: &http.Transport{ResponseHeaderTimeout: 15 * time.Second, MaxIdleConnsPerHost: 4}}
}

func (f *AdminForwarder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	peer, refuse := f.secret.FromPeer(r)
	if refuse {
		writeError(w, http.StatusForbidden, "forbidden", "This request claims to come from another Hearth server, and does not.")
		return
	}
	name := f.roomOf(r)
	if !peer && name != "" {
		rec, ok, err := f.node.CurrentOwner(r.Context(), name)
		if err != nil {
			// The API's own answer to a store outage follows.
			f.log.Warn("cluster: admin: look up a room's node", "room", name, "err", err)
		}
		if ok && rec.ID != f.node.ID() {
			f.forward(w, r, rec)
			return
		}
	}
	w.Header().Set(NodeHeader, f.node.ID())
	f.next.ServeHTTP(w, r)
}

// roomOf returns the room a request is about, or "".
func (f *AdminForwarder) roomOf(r *http.Request) string {
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), f.prefix+"/rooms/")
	if !ok {
		return ""
	}
	seg, _, _ := strings.Cut(rest, "/")
	name, err := url.PathUnescape(seg)
	if err != nil {
		return ""
	}
	return name
}

// forward proxies r to the node rec.
func (f *AdminForwarder) forward(w http.ResponseWriter, r *http.Request, rec Record) {
	target, err := url.Parse(rec.URL)
	if err != nil {
		f.log.Error("cluster: a node's URL does not parse", "peer", rec.ID, "err", err)
		writeError(w, http.StatusBadGateway, "unavailable", "The server running this room cannot be reached; try again shortly.")
		return
	}
	p := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Header.Set(SecretHeader, f.raw)
		},
		Transport: f.transport,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			f.log.Warn("cluster: admin: forward", "peer", rec.ID, "err", err)
			writeError(w, http.StatusBadGateway, "unavailable", "The server running this room cannot be reached; try again shortly.")
		},
	}
	p.ServeHTTP(w, r)
}

// writeError answers as the admin API does.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]map[string]string{"error": {"code": code, "message": msg}})
}

// WebsocketURL is the websocket URL of a node's base URL (http://host:port
// gives ws://host:port, https gives wss).
func WebsocketURL(base string) string {
	base = strings.TrimSuffix(base, "/")
	if rest, ok := strings.CutPrefix(base, "https://"); ok {
		return "wss://" + rest
	}
	if rest, ok := strings.CutPrefix(base, "http://"); ok {
		return "ws://" + rest
	}
	return base
}
