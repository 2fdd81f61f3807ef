//go:build linux

package firefox

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// ownGroup starts cmd in a process group of its own, which its children
// (Firefox and its content processes) join.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// endGroup ends the processes still running in cmd's process group, such as
// a content process that outlived the browser, and waits until none is left
// or five seconds pass. The group was made for cmd, so only processes that
// it started are in it. It returns how many processes it signalled.
func endGroup(cmd *exec.Cmd) int {
	if cmd.Process == nil {
		return 0
	}
	pgid := cmd.Process.Pid
	deadline := time.Now().Add(5 * time.Second)
	killed := 0
	for {
		pids := groupMembers(pgid)
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

// groupMembers returns the live processes of process group pgid; zombies,
// which are only waiting to be reaped, are not listed.
func groupMembers(pgid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := bytes.Fields(stat[i+1:])
		if len(f) < 3 || string(f[0]) == "Z" {
			continue
		}
		if g, err := strconv.Atoi(string(f[2])); err == nil && g == pgid {
			pids = append(pids, pid)
		}
	}
	return pids
}
