package room_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/room"
)

func TestAgreementValidate(t *testing.T) {
	good := []room.Agreement{
		{Text: "What is said here stays here.", Every: room.AcceptOncePerSeries},
		{Text: "Line one.\r\nLine two.\tTabbed.", Contact: "Call Dr Lee's office on 01632 960123.", Every: room.AcceptEverySession},
		{Text: "می\u200cخواهم"}, // a joiner Persian needs
		{Text: strings.Repeat("é", room.MaxAgreementLen)},
	}
	for _, a := range good {
		if err := a.Validate(); err != nil {
			t.Errorf("%.30q: %v", a.Text, err)
		}
	}
	bad := map[string]room.Agreement{
		"empty":        {Text: ""},
		"blank":        {Text: " \n\t"},
		"long":         {Text: strings.Repeat("é", room.MaxAgreementLen+1)},
		"control":      {Text: "bell\a"},
		"bidi":         {Text: "evil \u202e txet"},
		"not utf-8":    {Text: "\xff\xfe"},
		"contact line": {Text: "ok", Contact: "two\nlines"},
		"contact long": {Text: "ok", Contact: strings.Repeat("x", room.MaxContactLen+1)},
		"every":        {Text: "ok", Every: "always"},
	}
	for what, a := range bad {
		err := a.Validate()
		if !errors.Is(err, room.ErrInvalid) {
			t.Errorf("%s: Validate = %v, want ErrInvalid", what, err)
		} else if strings.Contains(err.Error(), "xxxx") || strings.Contains(err.Error(), "evil") {
			t.Errorf("%s: the error echoes the text: %v", what, err)
		}
	}
	a, b := room.Agreement{Text: "one"}, room.Agreement{Text: "two", Contact: "c"}
	if a.Version() == b.Version() || a.Version() != (room.Agreement{Text: "one", Contact: "other", Every: room.AcceptEverySession}).Version() {
		t.Fatal("Version names the text, and only the text")
	}
}

// TestAcceptanceCovers: an acceptance of the current text lasts for the
// series, or in an every-session room for the session it was made in
// (from 30 minutes before its start); outside every window it lasts
// AcceptanceFresh. A changed text needs a new acceptance.
func TestAcceptanceCovers(t *testing.T) {
	london := zone(t, "Europe/London")
	at := func(mo time.Month, d, hh, mm int) time.Time { return time.Date(2026, mo, d, hh, mm, 0, 0, london) }
	series := cohort()
	series.Agreement = &room.Agreement{Text: "Confidential.", Every: room.AcceptOncePerSeries}
	every := cohort()
	every.Agreement = &room.Agreement{Text: "Confidential.", Every: room.AcceptEverySession}
	v := series.Agreement.Version()
	acc := func(t time.Time) room.Acceptance { return room.Acceptance{Identity: "rae", Version: v, At: t} }
	cases := []struct {
		name string
		cfg  room.RoomConfig
		acc  room.Acceptance
		now  time.Time
		want bool
	}{
		{"series: weeks later", series, acc(at(11, 20, 9, 0)), at(12, 17, 19, 0), true},
		{"series: changed text", series, room.Acceptance{Identity: "rae", Version: "old", At: at(12, 3, 18, 50)}, at(12, 3, 19, 0), false},
		{"series: accepted in the future", series, acc(at(12, 3, 19, 5)), at(12, 3, 19, 0), false},
		{"session: same session", every, acc(at(12, 3, 18, 31)), at(12, 3, 20, 0), true},
		{"session: at the window's opening", every, acc(at(12, 3, 18, 30)), at(12, 3, 18, 50), true},
		{"session: before the window", every, acc(at(12, 3, 18, 29)), at(12, 3, 18, 50), false},
		{"session: last week", every, acc(at(12, 3, 19, 0)), at(12, 10, 19, 0), false},
		{"session: between sessions, fresh", every, acc(at(12, 7, 12, 0)), at(12, 7, 12, 10), true},
		{"session: between sessions, stale", every, acc(at(12, 7, 12, 0)), at(12, 7, 12, 11), false},
		{"no agreement", cohort(), room.Acceptance{}, at(12, 3, 19, 0), true},
	}
	for _, c := range cases {
		if got := c.cfg.AcceptanceCovers(c.acc, c.now); got != c.want {
			t.Errorf("%s: AcceptanceCovers = %v", c.name, got)
		}
	}
	for _, a := range []room.Acceptance{{Version: v, At: at(1, 1, 0, 0)}, {Identity: "rae", At: at(1, 1, 0, 0)}, {Identity: "rae", Version: v}} {
		if err := room.ValidateAcceptance(a); !errors.Is(err, room.ErrInvalid) {
			t.Errorf("ValidateAcceptance(%+v) = %v", a, err)
		}
	}
}
