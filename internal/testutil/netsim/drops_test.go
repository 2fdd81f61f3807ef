package netsim

import "testing"

func TestRcvbufErrors(t *testing.T) {
	const snmp = `Ip: Forwarding DefaultTTL
Ip: 1 64
Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
Udp: 1000 2 7 900 5 0 0 0 0
UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
UdpLite: 0 0 0 0 9 0 0 0 0
`
	if v, err := rcvbufErrors(snmp); err != nil || v != 5 {
		t.Fatalf("rcvbufErrors = %d, %v; want 5", v, err)
	}
	if _, err := rcvbufErrors("Ip: Forwarding\nIp: 1\n"); err == nil {
		t.Fatal("no UDP lines: no error")
	}
}

// TestReceiveDrops: a new namespace has dropped nothing.
func TestReceiveDrops(t *testing.T) {
	n := New(t)
	if v := n.ReceiveDrops(t); v != 0 {
		t.Fatalf("a new namespace's sockets dropped %d datagrams", v)
	}
}
