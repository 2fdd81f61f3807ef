package netsim

import (
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// removeLeftovers deletes the namespaces of this package whose test
// process is gone (a run that was killed before its cleanup), and with
// them their veth pairs. Those of running tests are left alone.
func removeLeftovers(t testing.TB) {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || !strings.HasPrefix(fields[0], Prefix+"-") {
			continue
		}
		name := fields[0]
		pidText, _, _ := strings.Cut(strings.TrimPrefix(name, Prefix+"-"), "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || alive(pid) {
			continue
		}
		if err := run("ip", "netns", "del", name); err == nil {
			t.Logf("netsim: removed %s, left by a run that ended without cleaning up", name)
		}
	}
}

// alive reports whether a process with this pid exists.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
