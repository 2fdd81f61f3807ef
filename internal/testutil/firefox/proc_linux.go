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

// ownGroup starts cmd in a process group of its own.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// endLeftovers ends the processes still running that the driver started:
// those of its own process group, and those of the browser's, which
// puppeteer starts in a session of its own (found by its profile
// directory, unique to one Browser). It waits until none is left or five
// seconds pass, and returns how many processes it signalled.
func endLeftovers(cmd *exec.Cmd, profileDir string) int {
	if cmd.Process == nil {
		return 0
	}
	groups := map[int]bool{cmd.Process.Pid: true}
	deadline := time.Now().Add(5 * time.Second)
	killed := 0
	for {
		procs := processes()
		for _, p := range procs {
			if p.hasArg(profileDir) {
				groups[p.pgid] = true
			}
		}
		var pids []int
		for _, p := range procs {
			if groups[p.pgid] {
				pids = append(pids, p.pid)
			}
		}
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

type process struct {
	pid, pgid int
	cmdline   []byte
}

func (p process) hasArg(arg string) bool {
	for a := range bytes.SplitSeq(p.cmdline, []byte{0}) {
		if string(a) == arg {
			return true
		}
	}
	return false
}

// processes lists the live processes other than this one; zombies, which
// only wait to be reaped, are left out.
func processes() []process {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var out []process
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
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
		pgid, err := strconv.Atoi(string(f[2]))
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		out = append(out, process{pid: pid, pgid: pgid, cmdline: cmdline})
	}
	return out
}
