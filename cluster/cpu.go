package cluster

import (
	"sync"
	"syscall"
	"time"
)

// cpuMeter measures the process's CPU use between two readings.
type cpuMeter struct {
	mu   sync.Mutex
	at   time.Time
	used time.Duration
}

// percent returns the CPU used since the last call, in percent of one
// core (0 on the first call).
func (m *cpuMeter) percent(now time.Time) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	used := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	m.mu.Lock()
	defer m.mu.Unlock()
	var p float64
	if !m.at.IsZero() && now.After(m.at) {
		p = 100 * float64(used-m.used) / float64(now.Sub(m.at))
	}
	m.at, m.used = now, used
	return p
}
