// Package netsim puts a test's client behind an emulated home network: a
// network namespace joined to this one by a veth pair with private
// addresses (10.77.x.y/30), bandwidth limited per direction with tbf, and,
// since the kernel has no netem, loss, delay and outages from an
// impairment stage in user space (Relay, impair.go) that the test puts in
// the media path.
//
//	n := netsim.New(t)               // namespace, veth, addresses
//	n.Limit(t, 1_000_000, 1_000_000) // bits a second: down (into the namespace), up
//	r := netsim.NewRelay(t, netsim.RelayConfig{Listen: netip.AddrPortFrom(n.Host, port),
//		Target: media, Down: imp, Up: imp, Seed: 1}) // loss and delay
//	page := netsim.Forward(t, netip.AddrPortFrom(n.Host, 0), httpAddr)
//	exe := n.Wrap(t, "/usr/bin/chromium") // runs the browser inside the namespace
//	n.Cut(t)                              // a dead link, until the next Limit
//
// Everything is removed when the test ends, and namespaces left by an
// earlier run that was killed (their process is gone) are removed by the
// next New. Setting up needs root (CAP_NET_ADMIN) and iproute2 (ip, tc):
// without them the test is skipped, saying why, except under CI=true,
// where it fails.
package netsim

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/testutil/budget"
)

// Prefix starts the name of every namespace this package makes; the pid
// of the test process follows, so that a later run knows whose it was.
const Prefix = "hearthns"

// Net is one namespace and the veth pair into it.
//
// Lifecycle: New (set up, removal registered with t.Cleanup) → Limit,
// Cut, Wrap any number of times → removed when the test ends.
type Net struct {
	// Name is the namespace's name (ip netns).
	Name string
	// Host is the address of this side of the veth pair; Guest that of
	// the side inside the namespace.
	Host, Guest netip.Addr
	// HostDev and GuestDev are the two ends' interface names.
	HostDev, GuestDev string
}

// lockPath serializes the choice of addresses between test processes.
const lockPath = "/tmp/hearth-netsim.lock"

// New makes a namespace with its loopback up, a veth pair into it with a
// /30 of 10.77.0.0/16 that no interface of this machine has yet, and a
// default route through it. It skips the test (fails it under CI=true)
// when the machine cannot.
func New(t testing.TB) *Net {
	t.Helper()
	if err := usable(); err != nil {
		unavailable(t, err)
	}
	removeLeftovers(t)

	// The lock is held until the address is on its interface, so that
	// the subnet, and the names made from its number, are this test's.
	unlock, err := lock()
	if err != nil {
		unavailable(t, err)
	}
	defer unlock()
	i, host, guest, err := freeSubnet()
	if err != nil {
		unavailable(t, err)
	}
	nt := &Net{
		Name:     fmt.Sprintf("%s-%d-%d", Prefix, os.Getpid(), i),
		Host:     host,
		Guest:    guest,
		HostDev:  fmt.Sprintf("hn%da", i),
		GuestDev: fmt.Sprintf("hn%db", i),
	}
	if err := run("ip", "netns", "add", nt.Name); err != nil {
		unavailable(t, err)
	}
	t.Cleanup(func() {
		// Deleting the namespace deletes the veth end inside it, and with
		// it the end here.
		if err := run("ip", "netns", "del", nt.Name); err != nil {
			t.Errorf("netsim: %v", err)
		}
	})
	// No IPv6 link-local addresses: they would appear a moment after the
	// links come up, and a browser started meanwhile takes the new
	// address for a change of network and aborts its loads.
	steps := [][]string{
		{"ip", "link", "add", nt.HostDev, "type", "veth", "peer", "name", nt.GuestDev, "netns", nt.Name},
		{"ip", "link", "set", nt.HostDev, "addrgenmode", "none"},
		{"ip", "-n", nt.Name, "link", "set", nt.GuestDev, "addrgenmode", "none"},
		{"ip", "addr", "add", nt.Host.String() + "/30", "dev", nt.HostDev},
		{"ip", "link", "set", nt.HostDev, "up"},
		{"ip", "-n", nt.Name, "link", "set", "lo", "up"},
		{"ip", "-n", nt.Name, "addr", "add", nt.Guest.String() + "/30", "dev", nt.GuestDev},
		{"ip", "-n", nt.Name, "link", "set", nt.GuestDev, "up"},
		{"ip", "-n", nt.Name, "route", "add", "default", "via", nt.Host.String()},
	}
	for _, s := range steps {
		if err := run(s...); err != nil {
			unavailable(t, err)
		}
	}
	// The carrier comes up a moment after the link is set up; wait for it
	// for the same reason.
	deadline := time.Now().Add(budget.Timeout(t, budget.Step))
	for !nt.up() {
		if time.Now().After(deadline) {
			t.Fatalf("netsim: %s and %s did not come up", nt.HostDev, nt.GuestDev)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nt
}

// up reports whether both ends of the veth pair are up, carrier and all.
func (n *Net) up() bool {
	for _, args := range [][]string{{"ip", "link", "show", "dev", n.HostDev}, {"ip", "-n", n.Name, "link", "show", "dev", n.GuestDev}} {
		out, err := exec.Command(args[0], args[1:]...).Output()
		if err != nil || !strings.Contains(string(out), "state UP") {
			return false
		}
	}
	return true
}

// Limit caps the link's rate with tbf: down bits a second from this side
// into the namespace, up from the namespace out; zero removes that
// direction's cap. Each direction queues at most about 100 ms of its rate
// (at least 16 KB) and drops what does not fit, as a home router's
// buffer would.
func (n *Net) Limit(t testing.TB, down, up int) {
	t.Helper()
	for _, d := range []struct {
		ns   []string
		dev  string
		rate int
	}{{nil, n.HostDev, down}, {[]string{"-n", n.Name}, n.GuestDev, up}} {
		args := append([]string{"tc"}, d.ns...)
		if d.rate == 0 {
			args = append(args, "qdisc", "del", "dev", d.dev, "root")
			if err := run(args...); err != nil && !strings.Contains(err.Error(), "No such file") &&
				!strings.Contains(err.Error(), "Cannot delete qdisc with handle of zero") {
				t.Fatalf("netsim: %v", err)
			}
			continue
		}
		queue := max(d.rate/8/10, 16<<10)
		args = append(args, "qdisc", "replace", "dev", d.dev, "root", "tbf",
			"rate", strconv.Itoa(d.rate)+"bit", "burst", "16kb", "limit", strconv.Itoa(queue))
		if err := run(args...); err != nil {
			t.Fatalf("netsim: %v", err)
		}
	}
}

// Cut stops everything either way, as a link that goes dead: each end's
// tbf gets a bucket smaller than any packet, so every packet is dropped.
// Limit lifts it.
func (n *Net) Cut(t testing.TB) {
	t.Helper()
	for _, args := range [][]string{
		{"tc", "qdisc", "replace", "dev", n.HostDev, "root", "tbf", "rate", "8bit", "burst", "10", "limit", "1"},
		{"tc", "-n", n.Name, "qdisc", "replace", "dev", n.GuestDev, "root", "tbf", "rate", "8bit", "burst", "10", "limit", "1"},
	} {
		if err := run(args...); err != nil {
			t.Fatalf("netsim: %v", err)
		}
	}
}

// Wrap writes a script that runs exe inside the namespace with the
// arguments it is given, and returns its path: a browser's executable for
// a launcher that takes one (chromedp's ExecAllocator).
func (n *Net) Wrap(t testing.TB, exe string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "in-"+n.Name)
	ip, err := exec.LookPath("ip")
	if err != nil {
		t.Fatalf("netsim: %v", err)
	}
	script := fmt.Sprintf("#!/bin/sh\nexec %s netns exec %s %s \"$@\"\n", ip, n.Name, exe)
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatalf("netsim: %v", err)
	}
	return path
}

// usable reports why namespaces cannot be made here, or nil.
func usable() error {
	for _, c := range []string{"ip", "tc"} {
		if _, err := exec.LookPath(c); err != nil {
			return fmt.Errorf("%s not found (install iproute2)", c)
		}
	}
	if os.Geteuid() != 0 {
		return errors.New("network namespaces need root (CAP_NET_ADMIN)")
	}
	return nil
}

// unavailable skips the test, or fails it under CI=true.
func unavailable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("netsim: cannot set up an emulated network: %v. CI=true requires root and iproute2 (apt-get install iproute2)", err)
	}
	t.Skipf("netsim: cannot set up an emulated network (%v); run as root with iproute2 to run this test", err)
}

// run runs a command and returns its output in the error when it fails.
func run(args ...string) error {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// lock takes the machine-wide lock on the choice of addresses.
func lock() (func(), error) {
	f, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock: %w", err)
	}
	return func() { f.Close() }, nil
}

// freeSubnet returns the number and the two host addresses of the first
// /30 of 10.77.0.0/16 that overlaps no address of this namespace.
func freeSubnet() (i int, host, guest netip.Addr, err error) {
	out, err := exec.Command("ip", "-4", "-o", "addr", "show").Output()
	if err != nil {
		return 0, host, guest, fmt.Errorf("ip addr: %w", err)
	}
	var used []netip.Prefix
	for _, f := range strings.Fields(string(out)) {
		if p, err := netip.ParsePrefix(f); err == nil {
			used = append(used, p.Masked())
		}
	}
	base := netip.MustParseAddr("10.77.0.0").As4()
	for i = range 1 << 14 {
		a := base
		a[2], a[3] = byte(i>>6), byte(i<<2)
		p := netip.PrefixFrom(netip.AddrFrom4(a), 30)
		free := true
		for _, u := range used {
			if u.Overlaps(p) {
				free = false
				break
			}
		}
		if free {
			return i, p.Addr().Next(), p.Addr().Next().Next(), nil
		}
	}
	return 0, host, guest, errors.New("no free /30 in 10.77.0.0/16")
}
