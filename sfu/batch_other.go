//go:build !(linux && (amd64 || arm64))

package sfu

import "net/netip"

// sysBatch is empty where sendmmsg is not used.
type sysBatch struct{}

func (s *sysBatch) init(*batch)                  {}
func (s *sysBatch) set(int, int, netip.AddrPort) {}

func batchable(netip.AddrPort) bool { return true }

// sendBatch sends the queue one datagram at a time: without sendmmsg the
// queue saves nothing, but it keeps one code path above it.
func (u *udpBatcher) sendBatch(b *batch) error {
	for i := range b.n {
		if _, err := u.conn.WriteToUDPAddrPort(b.data[i][:b.lens[i]], b.addrs[i]); err != nil {
			u.stats.UDPWriteErrors.Add(1)
		}
	}
	return nil
}
