//go:build !linux

package sfu

import "net"

// listenMedia opens one UDP socket on addr: sharing a port out among
// sockets by source is Linux's SO_REUSEPORT.
func listenMedia(addr *net.UDPAddr, _ int) ([]*net.UDPConn, error) {
	c, err := net.ListenUDP("udp4", addr)
	if err != nil {
		return nil, err
	}
	return []*net.UDPConn{c}, nil
}
