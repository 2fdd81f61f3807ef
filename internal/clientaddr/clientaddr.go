// Package clientaddr finds whom an HTTP request comes from, believing the
// forwarding headers of reverse proxies the operator trusts.
package clientaddr

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// A proxy in front of Hearth connects from its own address, so without help
// every client behind it would share one per-address limit. A proxy listed
// in Proxies is believed about whom it forwards for: its
// X-Forwarded-For or Forwarded (RFC 7239) header is read from the right,
// hop by hop, past addresses that are themselves trusted proxies; the first
// address that is not one is the client. Entries further left were written
// by the client or by proxies nobody vouches for, so they are never read.
// Headers from anyone else are ignored: a client can write what it likes.

const (
	// maxForwardHops bounds the entries read from a forwarding header.
	maxForwardHops = 32
	// maxForwardScan bounds the bytes of a forwarding header examined,
	// from its right end, so a huge header costs no more than a short one.
	maxForwardScan = 4 << 10
)

// ParseProxies parses reverse proxy addresses: CIDRs ("10.0.0.0/8", "fd00::/8") or single
// addresses ("127.0.0.1", "::1").
func ParseProxies(items []string) (Proxies, error) {
	out := make(Proxies, 0, len(items))
	for _, s := range items {
		s = strings.TrimSpace(s)
		var p netip.Prefix
		if strings.Contains(s, "/") {
			var err error
			if p, err = netip.ParsePrefix(s); err != nil {
				return nil, fmt.Errorf("%q is not an address range such as 10.0.0.0/8", s)
			}
		} else {
			a, err := netip.ParseAddr(s)
			if err != nil || a.Zone() != "" {
				return nil, fmt.Errorf("%q is not an IP address", s)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		// Addresses are compared unmapped: ::ffff:10.0.0.0/104 is 10.0.0.0/8.
		if p.Addr().Is4In6() {
			if p.Bits() < 96 {
				return nil, fmt.Errorf("%q mixes IPv4 and IPv6 addresses", s)
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Proxies are the trusted reverse proxies.
type Proxies []netip.Prefix

func (ps Proxies) trusts(a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Of is the address a request is counted and logged against: its peer's,
// or the client a trusted proxy forwards for.
func (ps Proxies) Of(r *http.Request) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		// Not an address and port, as net/http's server gives: count it
		// as it is.
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			return host
		}
		return r.RemoteAddr
	}
	return forwardedClient(normAddr(ap.Addr()), r.Header, ps).String()
}

// forwardedClient finds the client of a request from peer. A proxy that
// sets one forwarding header passes the other through from its client
// untouched, so when both are present and disagree, neither is believed.
func forwardedClient(peer netip.Addr, h http.Header, trusted Proxies) netip.Addr {
	if !trusted.trusts(peer) {
		return peer
	}
	xff, fwd := h.Values("X-Forwarded-For"), h.Values("Forwarded")
	switch {
	case len(xff) > 0 && len(fwd) > 0:
		a := walkForwarded(peer, xff, parseXFFEntry, trusted)
		if b := walkForwarded(peer, fwd, parseForwardedElement, trusted); a != b {
			return peer
		}
		return a
	case len(xff) > 0:
		return walkForwarded(peer, xff, parseXFFEntry, trusted)
	case len(fwd) > 0:
		return walkForwarded(peer, fwd, parseForwardedElement, trusted)
	}
	return peer
}

// walkForwarded reads a forwarding header's entries (the comma-separated
// items of all its lines, in order) from the right. The first address that
// is not a trusted proxy is the client. If every address read is trusted,
// the left-most read is (each was vouched for by the trusted hop after it).
// An entry that does not parse ends the walk there, as do the bounds: what
// was found so far stands, else the peer.
func walkForwarded(peer netip.Addr, values []string, parse func(string) (netip.Addr, bool), trusted Proxies) netip.Addr {
	client := peer
	budget := maxForwardScan
	hops := 0
	for v := len(values) - 1; v >= 0; v-- {
		s := values[v]
		for end := len(s); end >= 0; {
			var entry string
			var ok bool
			entry, end, ok = prevEntry(s, end, &budget)
			if !ok {
				return client
			}
			entry = strings.Trim(entry, " \t")
			if entry == "" {
				continue // empty list items are allowed (RFC 9110 5.6.1)
			}
			if hops++; hops > maxForwardHops {
				return client
			}
			a, ok := parse(entry)
			if !ok {
				return client
			}
			client = a
			if !trusted.trusts(a) {
				return a
			}
		}
	}
	return client
}

// prevEntry returns the list item of s that ends at end (exclusive) and
// the index of the comma before it, or -1 at the start of s. Commas inside
// quoted strings do not separate. Each byte examined is taken from budget;
// ok is false when it runs out or a quote is left open.
func prevEntry(s string, end int, budget *int) (entry string, prev int, ok bool) {
	inQuote := false
	for i := end - 1; i >= 0; i-- {
		if *budget--; *budget < 0 {
			return "", -1, false
		}
		switch s[i] {
		case '"':
			// A quote after an odd run of backslashes is escaped.
			n := 0
			for j := i - 1; j >= 0 && s[j] == '\\' && n < *budget; j-- {
				n++
			}
			if n%2 == 0 {
				inQuote = !inQuote
			}
		case ',':
			if !inQuote {
				return s[i+1 : end], i, true
			}
		}
	}
	return s[:end], -1, !inQuote
}

// parseXFFEntry parses one X-Forwarded-For item: an address, with or
// without a port ("192.0.2.7", "192.0.2.7:4711", "2001:db8::7",
// "[2001:db8::7]:4711").
func parseXFFEntry(s string) (netip.Addr, bool) {
	return parseNode(s)
}

// parseForwardedElement finds the for= parameter of one Forwarded element
// (`for=192.0.2.7;proto=https`, `for="[2001:db8::7]:4711"`). An element
// without one, or with two, says nothing about the client.
func parseForwardedElement(el string) (netip.Addr, bool) {
	var node string
	found := false
	for el != "" {
		var pair string
		pair, el = cutUnquoted(el, ';')
		pair = strings.Trim(pair, " \t")
		if pair == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			return netip.Addr{}, false
		}
		if !strings.EqualFold(strings.Trim(k, " \t"), "for") {
			continue
		}
		if found {
			return netip.Addr{}, false
		}
		found, node = true, strings.Trim(v, " \t")
	}
	if !found {
		return netip.Addr{}, false
	}
	if strings.HasPrefix(node, `"`) {
		var ok bool
		if node, ok = unquote(node); !ok {
			return netip.Addr{}, false
		}
	}
	return parseNode(node)
}

// parseNode parses an address with an optional port; RFC 7239's
// obfuscated ports ("192.0.2.7:_abc") are allowed, its obfuscated and
// "unknown" nodes are not addresses.
func parseNode(s string) (netip.Addr, bool) {
	if i := strings.LastIndex(s, ":_"); i > 0 {
		s = s[:i]
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return normAddr(a), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return normAddr(ap.Addr()), true
	}
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return normAddr(a), true
		}
	}
	return netip.Addr{}, false
}

// normAddr drops what does not tell clients apart: the IPv6 zone, and the
// IPv6 form of an IPv4 address.
func normAddr(a netip.Addr) netip.Addr {
	return a.Unmap().WithZone("")
}

// cutUnquoted splits s at the first sep outside a quoted string.
func cutUnquoted(s string, sep byte) (before, after string) {
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case c == sep && !inQuote:
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

// unquote undoes an RFC 9110 quoted-string.
func unquote(s string) (string, bool) {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return "", false
	}
	s = s[1 : len(s)-1]
	if !strings.Contains(s, `\`) {
		return s, !strings.Contains(s, `"`)
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
			if i == len(s) {
				return "", false
			}
		case '"':
			return "", false
		}
		b.WriteByte(s[i])
	}
	return b.String(), true
}

// Key is what a per-address limit counts a client address against: the
// address, or for IPv6 its /64, the block one subscriber is given.
func Key(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil || !a.Is6() {
		return addr
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}
