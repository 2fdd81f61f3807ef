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
	seconds  int       // length of the timed share; 0 when untimed
	deadline time.Time // zero when untimed
}

// startTimer times the holder's share: seconds from now.
func (f *floor) startTimer(seconds int, now time.Time) {
	f.seconds = seconds
	f.deadline = now.Add(time.Duration(seconds) * time.Second)
}

func (f *floor) clearHolder() {
	f.holder = ""
	f.clearTimer()
}

func (f *floor) clearTimer() {
	f.seconds, f.deadline = 0, time.Time{}
}
