package load

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is the kernel's USER_HZ, the unit of /proc CPU times. It is 100
// on every Linux platform Go supports.
const clockTick = 100

// procCPU returns a process's user+system CPU time from /proc/<pid>/stat
// (pid 0 means this process).
func procCPU(pid int) (time.Duration, error) {
	path := "/proc/self/stat"
	if pid > 0 {
		path = "/proc/" + strconv.Itoa(pid) + "/stat"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("load: cpu of %d: %w", pid, err)
	}
	// The command name may contain spaces and parentheses: fields count
	// from the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("load: %s: unexpected format", path)
	}
	f := strings.Fields(string(b[i+1:]))
	// After ')': state(0) ... utime is field 14 of stat, index 11 here.
	if len(f) < 13 {
		return 0, fmt.Errorf("load: %s: too few fields", path)
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("load: %s: bad cpu fields", path)
	}
	return time.Duration(ut+st) * time.Second / clockTick, nil
}

// procRSS returns a process's resident set size in bytes (pid 0: this one).
func procRSS(pid int) (uint64, error) {
	path := "/proc/self/status"
	if pid > 0 {
		path = "/proc/" + strconv.Itoa(pid) + "/status"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("load: rss of %d: %w", pid, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) >= 1 {
				kb, err := strconv.ParseUint(f[0], 10, 64)
				if err == nil {
					return kb << 10, nil
				}
			}
		}
	}
	return 0, fmt.Errorf("load: %s: no VmRSS", path)
}

// machineCPU returns the whole machine's busy and total CPU time from
// /proc/stat, summed over cores.
func machineCPU() (busy, total time.Duration, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, fmt.Errorf("load: /proc/stat: %w", err)
	}
	line, _, _ := bytes.Cut(b, []byte{'\n'})
	f := strings.Fields(string(line))
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("load: /proc/stat: unexpected format")
	}
	var sum, idle uint64
	for i, s := range f[1:] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			continue
		}
		// guest and guest_nice (8, 9) are already counted in user and nice.
		if i >= 8 {
			break
		}
		sum += v
		if i == 3 || i == 4 { // idle, iowait
			idle += v
		}
	}
	tick := time.Second / clockTick
	return time.Duration(sum-idle) * tick, time.Duration(sum) * tick, nil
}

// UDPCounters are the kernel's system-wide UDP counters (/proc/net/snmp).
// RcvbufErrors and SndbufErrors count datagrams dropped because a socket
// buffer was full.
type UDPCounters struct {
	InDatagrams, OutDatagrams            uint64
	InErrors, RcvbufErrors, SndbufErrors uint64
}

func (a UDPCounters) sub(b UDPCounters) UDPCounters {
	return UDPCounters{
		InDatagrams: a.InDatagrams - b.InDatagrams, OutDatagrams: a.OutDatagrams - b.OutDatagrams,
		InErrors: a.InErrors - b.InErrors, RcvbufErrors: a.RcvbufErrors - b.RcvbufErrors,
		SndbufErrors: a.SndbufErrors - b.SndbufErrors,
	}
}

func udpCounters() (UDPCounters, error) {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return UDPCounters{}, fmt.Errorf("load: /proc/net/snmp: %w", err)
	}
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "Udp: ")
		if !ok {
			continue
		}
		if names == nil {
			names = strings.Fields(rest)
			continue
		}
		var c UDPCounters
		for i, v := range strings.Fields(rest) {
			if i >= len(names) {
				break
			}
			n, _ := strconv.ParseUint(v, 10, 64)
			switch names[i] {
			case "InDatagrams":
				c.InDatagrams = n
			case "OutDatagrams":
				c.OutDatagrams = n
			case "InErrors":
				c.InErrors = n
			case "RcvbufErrors":
				c.RcvbufErrors = n
			case "SndbufErrors":
				c.SndbufErrors = n
			}
		}
		return c, nil
	}
	return UDPCounters{}, fmt.Errorf("load: /proc/net/snmp: no Udp line")
}

// socketDrops returns the datagrams the kernel dropped at the IPv4 UDP
// sockets bound to port (their receive buffers were full), from
// /proc/net/udp; a server may shard its port over several sockets.
func socketDrops(port int) (uint64, error) {
	b, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		return 0, fmt.Errorf("load: /proc/net/udp: %w", err)
	}
	want := fmt.Sprintf(":%04X", port)
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Scan() // header
	var drops uint64
	found := false
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// sl local rem st tx:rx tr:tm retrnsmt uid timeout inode ref pointer drops
		if len(f) < 13 || !strings.HasSuffix(f[1], want) {
			continue
		}
		n, err := strconv.ParseUint(f[12], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("load: /proc/net/udp: %w", err)
		}
		drops += n
		found = true
	}
	if !found {
		return 0, fmt.Errorf("load: no UDP socket on port %d", port)
	}
	return drops, nil
}
