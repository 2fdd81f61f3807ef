package admin

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hearth-rtc/hearth/membership"
	"github.com/hearth-rtc/hearth/room"
)

// Attendance: GET /rooms/{name}/attendance lists every session within the
// retention (scheduled sessions that have opened, and sittings outside
// the schedule), with who came, when, for how long, and who on the roster
// did not; ?session= picks one (a number, or a sitting's key); ?format=csv
// gives one line per person per session.

type attendanceView struct {
	Room     string                   `json:"room"`
	TimeZone string                   `json:"timeZone"`
	Sessions []room.SessionAttendance `json:"sessions"`
}

func (h *Handler) getAttendance(ctx context.Context, r *http.Request, name string) (int, any, error) {
	ctx, cancel := h.bounded(ctx)
	defer cancel()
	q := r.URL.Query()
	format := q.Get("format")
	if format != "" && format != "json" && format != "csv" {
		return 0, nil, errorf(http.StatusBadRequest, "bad_request", `format must be "json" or "csv"`)
	}
	list, err := membership.ReadAttendance(ctx, h.store, name, h.now())
	if err != nil {
		return 0, nil, err
	}
	if q.Has("session") {
		key := q.Get("session")
		s, ok := room.FindSession(list, key)
		if !ok {
			if len(key) > 64 {
				key = key[:64] + "…"
			}
			return 0, nil, errorf(http.StatusNotFound, "not_found", "room %q has no session %q (yet, or any more)", name, key)
		}
		list = []room.SessionAttendance{s}
	}
	if format == "csv" {
		return http.StatusOK, csvBody{name: name + "-attendance.csv", data: attendanceCSV(list)}, nil
	}
	tz := "UTC"
	if cfg, err := h.store.GetRoom(ctx, name); err == nil && cfg.Schedule != nil {
		tz = cfg.Schedule.TimeZone
	}
	return http.StatusOK, attendanceView{Room: name, TimeZone: tz, Sessions: list}, nil
}

var csvHeader = []string{"session", "session_start", "identity", "name", "role", "on_roster", "attended", "present",
	"first_joined", "last_left", "minutes", "stays", "agreement_accepted_at"}

// attendanceCSV writes one line per person per session. Fields a
// spreadsheet would take for a formula are made plain text.
func attendanceCSV(list []room.SessionAttendance) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(csvHeader) // a bytes.Buffer does not fail
	for _, s := range list {
		for _, r := range s.Rows {
			_ = w.Write([]string{s.Key, stamp(s.Start), plain(r.Identity), plain(r.Name), string(r.Role),
				strconv.FormatBool(r.OnRoster), strconv.FormatBool(r.Attended), strconv.FormatBool(r.Present),
				stamp(r.FirstJoined), stamp(r.LastLeft), strconv.Itoa(r.Minutes), strconv.Itoa(len(r.Stays)),
				stamp(r.AgreementAcceptedAt)})
		}
	}
	w.Flush()
	return b.Bytes()
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}

// plain keeps a spreadsheet from reading a field as a formula (CSV
// injection): display names are chosen by the people who join.
func plain(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// csvBody is an answer sent as CSV rather than JSON.
type csvBody struct {
	name string
	data []byte
}

func writeCSV(w http.ResponseWriter, c csvBody) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+c.name+`"`)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(c.data) // the client may have gone; nothing useful to do
}
