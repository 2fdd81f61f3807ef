//go:build linux && (amd64 || arm64)

package sfu

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsghdr is struct mmsghdr on 64-bit Linux.
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
	_   [4]byte
}

// sysBatch holds the sendmmsg vectors for a batch. The pointers are set once
// when the batch is made; set only fills in a length and an address.
type sysBatch struct {
	hdrs [maxBatch]mmsghdr
	iovs [maxBatch]unix.Iovec
	sas  [maxBatch]unix.RawSockaddrInet4

	// State for one call of write, which RawConn.Write may retry; keeping
	// it here (and write bound once) keeps the send free of allocations.
	off, n int
	sent   int
	errno  unix.Errno
	write  func(fd uintptr) bool
}

func (s *sysBatch) init(b *batch) {
	for i := range maxBatch {
		s.iovs[i].Base = &b.data[i][0]
		s.sas[i].Family = unix.AF_INET
		s.hdrs[i].hdr.Name = (*byte)(unsafe.Pointer(&s.sas[i]))
		s.hdrs[i].hdr.Namelen = unix.SizeofSockaddrInet4
		s.hdrs[i].hdr.Iov = &s.iovs[i]
		s.hdrs[i].hdr.SetIovlen(1)
	}
	s.write = s.sendmmsg
}

func (s *sysBatch) set(i, n int, addr netip.AddrPort) {
	s.iovs[i].SetLen(n)
	a := addr.Addr().Unmap().As4()
	s.sas[i].Addr = a
	p := addr.Port()
	// sin_port is in network byte order.
	*(*[2]byte)(unsafe.Pointer(&s.sas[i].Port)) = [2]byte{byte(p >> 8), byte(p)}
}

func (s *sysBatch) sendmmsg(fd uintptr) bool {
	r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&s.hdrs[s.off])), uintptr(s.n-s.off), 0, 0, 0)
	if e == unix.EAGAIN {
		return false // the socket buffer is full: wait until writable
	}
	s.sent, s.errno = int(r), e
	return true
}

// batchable reports whether the socket can take addr in a batch: the media
// socket is IPv4.
func batchable(addr netip.AddrPort) bool { return addr.Addr().Unmap().Is4() }

// sendBatch sends every queued datagram with as few sendmmsg calls as the
// kernel allows. A datagram the kernel refuses is skipped and counted, like
// a failed sendto.
func (u *udpBatcher) sendBatch(b *batch) error {
	s := &b.sys
	s.off, s.n = 0, b.n
	for s.off < s.n {
		s.sent, s.errno = 0, 0
		if err := u.raw.Write(s.write); err != nil {
			return err
		}
		if s.errno != 0 {
			u.stats.UDPWriteErrors.Add(1)
			s.off++
			continue
		}
		s.off += s.sent
	}
	return nil
}
