package sfu

import (
	"context"
	"fmt"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// listenMedia opens n UDP sockets on addr with SO_REUSEPORT, so the kernel
// shares the port's datagrams out among them by source (a client's
// datagrams always reach the same socket, in order). Port 0 picks a free
// port for all of them. Only processes of the same user may join the
// group.
func listenMedia(addr *net.UDPAddr, n int) ([]*net.UDPConn, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		}); err != nil {
			return err
		}
		return serr
	}}
	if n == 1 {
		lc.Control = nil
	}
	conns := make([]*net.UDPConn, 0, n)
	at := addr.String()
	for range n {
		pc, err := lc.ListenPacket(context.Background(), "udp4", at)
		if err != nil {
			for _, c := range conns {
				c.Close()
			}
			return nil, err
		}
		c, ok := pc.(*net.UDPConn)
		if !ok {
			pc.Close()
			return nil, fmt.Errorf("sfu: listen: %T is not a UDP socket", pc)
		}
		conns = append(conns, c)
		at = c.LocalAddr().String() // the port picked, for the others
	}
	return conns, nil
}
