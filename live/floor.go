package live

import (
	"fmt"
	"time"

	"github.com/hearth-rtc/hearth/protocol"
)

// MaxShareSeconds bounds a timed share.
const MaxShareSeconds = 3600

// checkSeconds refuses a timed share's length outside 0..MaxShareSeconds.
func checkSeconds(s int) error {
	if s < 0 || s > MaxShareSeconds {
		return errInvalid(fmt.Sprintf("The time must be from 0 to %d seconds.", MaxShareSeconds))
	}
	return nil
}

// floor is who holds the floor and for how long. During a round the holder
// is the current turn's participant.
type floor struct {
	mode     protocol.FloorMode
	holder   string
	seconds  int       // length of the timed share, extensions included; 0 when untimed
	extra    int       // of which added by extensions
	deadline time.Time // zero when untimed
	// up: the time is up and the holder is let finish (room.ShareEndFinish).
	up bool
}

// startTimer times the holder's share: seconds from now.
func (f *floor) startTimer(seconds int, now time.Time) {
	f.seconds, f.extra, f.up = seconds, 0, false
	f.deadline = now.Add(time.Duration(seconds) * time.Second)
}

// extend adds seconds to the running share, counted from now if its time
// is already up.
func (f *floor) extend(seconds int, now time.Time) {
	from := f.deadline
	if from.Before(now) {
		from = now
	}
	f.seconds += seconds
	f.extra += seconds
	f.deadline = from.Add(time.Duration(seconds) * time.Second)
	f.up = false
}

func (f *floor) clearHolder() {
	f.holder = ""
	f.clearTimer()
}

func (f *floor) clearTimer() {
	f.seconds, f.extra, f.deadline, f.up = 0, 0, time.Time{}, false
}
