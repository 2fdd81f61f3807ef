package netsim

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// ReceiveDrops is how many UDP datagrams the sockets inside the namespace
// have dropped so far because their receive buffers were full
// (RcvbufErrors in its /proc/net/snmp): datagrams the link delivered but
// the program behind it did not read in time, as on a machine too busy to
// run it. They are the machine's loss, not the network's.
func (n *Net) ReceiveDrops(t testing.TB) uint64 {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", n.Name, "cat", "/proc/net/snmp").Output()
	if err != nil {
		t.Fatalf("netsim: read the namespace's UDP counters: %v", err)
	}
	v, err := rcvbufErrors(string(out))
	if err != nil {
		t.Fatalf("netsim: %v", err)
	}
	return v
}

// rcvbufErrors reads RcvbufErrors from the Udp lines of /proc/net/snmp.
func rcvbufErrors(snmp string) (uint64, error) {
	var names []string
	for line := range strings.Lines(snmp) {
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0] != "Udp:" {
			continue
		}
		if names == nil {
			names = fields
			continue
		}
		for i, name := range names {
			if name == "RcvbufErrors" && i < len(fields) {
				return strconv.ParseUint(fields[i], 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("no RcvbufErrors among the UDP counters")
}
