//go:build linux

package browser

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
	"time"
)

// reapLeftovers ends the processes that still run with dataDir as their
// Chromium profile, such as a renderer that outlived the browser, and waits
// until none is left or limit passes. The profile directory is unique to one
// Browser, so only processes that it started match. It returns how many
// processes it signalled.
func reapLeftovers(dataDir string, limit time.Duration) int {
	want := []byte("--user-data-dir=" + dataDir)
	deadline := time.Now().Add(limit)
	killed := 0
	for {
		pids := processesWithArg(want)
		if len(pids) == 0 || time.Now().After(deadline) {
			return killed
		}
		for _, pid := range pids {
			if syscall.Kill(pid, syscall.SIGKILL) == nil {
				killed++
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// processesWithArg returns the live processes that have arg in their command
// line. Zombies have an empty command line, so they are not listed.
func processesWithArg(arg []byte) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		for a := range bytes.SplitSeq(cmdline, []byte{0}) {
			if bytes.Equal(a, arg) {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}
