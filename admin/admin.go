// Package admin serves the room-configuration admin API: create, read,
// update, list and delete rooms (with their schedule and group agreement),
// manage their rosters, and read attendance. JSON in and out (attendance
// also as CSV); every error is {"error":{"code":"...","message":"..."}}.
//
// Authentication is HTTP Basic with the API key as user name and the API
// secret as password, compared in constant time; an address that fails it
// too often is refused for a while (signin.go).
//
// Routes (relative to Config.Prefix, "/admin" by default):
//
//	GET    /rooms                      list rooms
//	POST   /rooms                      create a room (201)
//	GET    /rooms/{name}               get a room
//	PATCH  /rooms/{name}               change the fields given
//	DELETE /rooms/{name}               delete a room (204)
//	GET    /rooms/{name}/roster        get the roster
//	PUT    /rooms/{name}/roster        replace the roster
//	PUT    /rooms/{name}/roster/{id}   add (201) or update (200) one entry
//	DELETE /rooms/{name}/roster/{id}   remove one entry (204)
//	GET    /rooms/{name}/session       who is present now, lock, blocked
//	GET    /rooms/{name}/attendance    attendance by session (?session=N, ?format=csv)
//	POST   /rooms/{name}/end           end the running session (everyone told)
//	GET    /node                       this node of a cluster: id, draining
//	PUT    /node                       {"draining": true}: take no new rooms
package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/hearth-rtc/hearth/internal/clientaddr"
	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/room"
)

// DefaultMaxBodyBytes bounds request bodies (a full roster fits easily).
const DefaultMaxBodyBytes = 1 << 20

// Config configures NewHandler.
type Config struct {
	Store     membership.Store // required
	APIKey    string           // required; without key and secret every request gets 503
	APISecret string           // required
	Logger    *slog.Logger
	// Prefix is the path the handler is mounted at; "/admin" by default.
	// Mount it without stripping: mux.Handle("/admin/", h).
	Prefix string
	// MaxBodyBytes limits request bodies; DefaultMaxBodyBytes if zero.
	MaxBodyBytes int64
	// Timeout bounds each request's store calls; 10 s if zero.
	Timeout time.Duration
	// Now is the clock for a closed cohort's roster and for attendance;
	// time.Now if nil.
	Now func() time.Time
	// Node, on a node of a cluster, serves /node (node.go); nil otherwise.
	Node Node
	// Sessions ends live sessions (end.go); without it /end is not served.
	Sessions Sessions
	// TrustedProxies are the reverse proxies believed about the client
	// address, which failed sign-ins are counted against and logs show.
	TrustedProxies []netip.Prefix
}

// Handler serves the admin API.
type Handler struct {
	store   membership.Store
	keyHash [sha256.Size]byte
	secHash [sha256.Size]byte
	enabled bool
	log     *slog.Logger
	prefix  string
	maxBody int64
	timeout time.Duration
	now     func() time.Time
	node    Node
	live    Sessions
	proxies clientaddr.Proxies
	signIns signIns
}

// NewHandler returns the admin API handler.
func NewHandler(cfg Config) *Handler {
	h := &Handler{
		store:   cfg.Store,
		keyHash: sha256.Sum256([]byte(cfg.APIKey)),
		secHash: sha256.Sum256([]byte(cfg.APISecret)),
		enabled: cfg.APIKey != "" && cfg.APISecret != "" && cfg.Store != nil,
		log:     cfg.Logger,
		prefix:  strings.TrimSuffix(cfg.Prefix, "/"),
		maxBody: cfg.MaxBodyBytes,
		timeout: cfg.Timeout,
		now:     cfg.Now,
		node:    cfg.Node,
		live:    cfg.Sessions,
		proxies: clientaddr.Proxies(cfg.TrustedProxies),
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	if cfg.Prefix == "" {
		h.prefix = "/admin"
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	if h.timeout <= 0 {
		h.timeout = 10 * time.Second
	}
	if !h.enabled {
		h.log.Warn("admin API disabled: API key, API secret and store are all required")
	}
	return h
}

// apiError is an error with its HTTP status and code.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.message }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.signIn(w, r) {
		return
	}
	status, body, err := h.route(r.Context(), w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if r.Method != http.MethodGet {
		h.log.Info("admin request", "method", r.Method, "path", r.URL.Path, "status", status, "remote", h.proxies.Of(r))
	}
	if c, ok := body.(csvBody); ok {
		writeCSV(w, c)
		return
	}
	writeJSON(w, status, body)
}

// authorized compares both credentials in constant time (hashes make the
// comparison independent of the lengths too).
func (h *Handler) authorized(r *http.Request) bool {
	key, secret, ok := r.BasicAuth()
	kh := sha256.Sum256([]byte(key))
	sh := sha256.Sum256([]byte(secret))
	keyOK := subtle.ConstantTimeCompare(kh[:], h.keyHash[:])
	secOK := subtle.ConstantTimeCompare(sh[:], h.secHash[:])
	return ok && keyOK&secOK == 1
}

// bounded limits the store calls a request makes to the handler's timeout,
// counted from when they start (not from the request's start: a passcode's
// hashing comes first).
func (h *Handler) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, h.timeout)
}

// route dispatches on the path segments after the prefix.
func (h *Handler) route(ctx context.Context, w http.ResponseWriter, r *http.Request) (int, any, error) {
	path := r.URL.EscapedPath()
	if !strings.HasPrefix(path, h.prefix+"/") {
		return 0, nil, errorf(http.StatusNotFound, "not_found", "no such endpoint")
	}
	rest := strings.TrimSuffix(strings.TrimPrefix(path, h.prefix+"/"), "/")
	var seg []string
	for _, s := range strings.Split(rest, "/") {
		u, err := url.PathUnescape(s)
		if err != nil {
			return 0, nil, errorf(http.StatusBadRequest, "bad_request", "bad path escape")
		}
		seg = append(seg, u)
	}
	if len(seg) == 1 && seg[0] == "node" {
		return h.nodeRoute(ctx, w, r)
	}
	if len(seg) == 0 || seg[0] != "rooms" {
		return 0, nil, errorf(http.StatusNotFound, "not_found", "no such endpoint")
	}
	switch {
	case len(seg) == 1:
		switch r.Method {
		case http.MethodGet:
			return h.listRooms(ctx)
		case http.MethodPost:
			return h.createRoom(ctx, w, r)
		}
		return 0, nil, notAllowed(w, "GET, POST")
	case len(seg) == 2:
		switch r.Method {
		case http.MethodGet:
			return h.getRoom(ctx, seg[1])
		case http.MethodPatch:
			return h.patchRoom(ctx, w, r, seg[1])
		case http.MethodDelete:
			return h.deleteRoom(ctx, seg[1])
		}
		return 0, nil, notAllowed(w, "GET, PATCH, DELETE")
	case len(seg) == 3 && seg[2] == "roster":
		switch r.Method {
		case http.MethodGet:
			return h.getRoster(ctx, seg[1])
		case http.MethodPut:
			return h.putRoster(ctx, w, r, seg[1])
		}
		return 0, nil, notAllowed(w, "GET, PUT")
	case len(seg) == 4 && seg[2] == "roster":
		switch r.Method {
		case http.MethodPut:
			return h.putRosterEntry(ctx, w, r, seg[1], seg[3])
		case http.MethodDelete:
			return h.deleteRosterEntry(ctx, seg[1], seg[3])
		}
		return 0, nil, notAllowed(w, "PUT, DELETE")
	case len(seg) == 3 && seg[2] == "session":
		if r.Method == http.MethodGet {
			return h.getSession(ctx, seg[1])
		}
		return 0, nil, notAllowed(w, "GET")
	case len(seg) == 3 && seg[2] == "end":
		if r.Method == http.MethodPost {
			return h.endSession(seg[1])
		}
		return 0, nil, notAllowed(w, "POST")
	case len(seg) == 3 && seg[2] == "attendance":
		if r.Method == http.MethodGet {
			return h.getAttendance(ctx, r, seg[1])
		}
		return 0, nil, notAllowed(w, "GET")
	}
	return 0, nil, errorf(http.StatusNotFound, "not_found", "no such endpoint")
}

func notAllowed(w http.ResponseWriter, allow string) error {
	w.Header().Set("Allow", allow)
	return errorf(http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed; use %s", allow)
}

// fail maps domain errors to HTTP statuses and codes.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &mbe):
		ae = errorf(http.StatusRequestEntityTooLarge, "too_large", "request body over %d bytes", mbe.Limit)
	case errors.Is(err, room.ErrRosterClosed):
		ae = errorf(http.StatusConflict, "roster_closed", "%s", strings.Replace(err.Error(), room.ErrRosterClosed.Error()+": ", "", 1))
	case errors.Is(err, room.ErrInvalid):
		ae = errorf(http.StatusBadRequest, "bad_request", "%s", strings.Replace(err.Error(), room.ErrInvalid.Error()+": ", "", 1))
	case errors.Is(err, room.ErrNotFound):
		ae = errorf(http.StatusNotFound, "not_found", "%s", err.Error())
	case errors.Is(err, room.ErrExists):
		ae = errorf(http.StatusConflict, "exists", "%s", err.Error())
	case errors.Is(err, room.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		h.log.Warn("admin: store unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		ae = errorf(http.StatusServiceUnavailable, "unavailable", "the membership store is unavailable; try again later")
	default:
		h.log.Error("admin: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		ae = errorf(http.StatusInternalServerError, "internal", "internal error")
	}
	writeError(w, ae)
}

func writeError(w http.ResponseWriter, e *apiError) {
	type body struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	writeJSON(w, e.status, map[string]body{"error": {Code: e.code, Message: e.message}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client may have gone; nothing useful to do
}

// decode reads exactly one JSON object into v, refusing unknown fields (a
// misspelt "capacity" must not be silently ignored).
func (h *Handler) decode(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "Content-Type must be application/json")
		}
	}
	body := http.MaxBytesReader(w, r.Body, h.maxBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		if errors.Is(err, io.EOF) {
			return errorf(http.StatusBadRequest, "bad_request", "empty request body")
		}
		return errorf(http.StatusBadRequest, "bad_request", "invalid JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return errorf(http.StatusBadRequest, "bad_request", "trailing data after the JSON object")
	}
	return nil
}
