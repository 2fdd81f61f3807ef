package live

import (
	"github.com/hearth-rtc/hearth/room"
)

// The order in which each subscriber's cameras give way when its
// bandwidth runs short (layout.go's importance), given to the router.

// rank gives x's router the order in which x's cameras give way, from
// the room's controls, its people and its active speaker. Under Room.mu.
func rank(media *routers, ctl *Controls, people map[string]*person, speaker string, x *person) {
	if ctl == nil || x.state != room.StateActive {
		return
	}
	others := make([]string, 0, len(people))
	for pid, o := range people {
		if pid != x.p.ID && o.seated() {
			others = append(others, pid)
		}
	}
	media.setImportance(x, importance(others, ctl.keepInView(x.p.ID, speaker), x.layout))
}

// rankAll ranks everyone's cameras again: who holds the floor, speaks,
// facilitates or is in an aside changed. Under Room.mu.
func rankAll(media *routers, ctl *Controls, people map[string]*person, speaker string) {
	for _, x := range people {
		rank(media, ctl, people, speaker, x)
	}
}
