package clientaddr

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testProxies: a proxy on this machine and an internal network of them.
func testProxies(t testing.TB) Proxies {
	t.Helper()
	ps, err := ParseProxies([]string{"127.0.0.1", "::1", "10.0.0.0/8", "fd00::/8"})
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// TestForwardedClient: forwarding headers name the client only when the
// peer is a trusted proxy; they are read from the right, past trusted
// hops, and anything that does not parse ends the reading there.
func TestForwardedClient(t *testing.T) {
	trusted := testProxies(t)
	const proxy, client, forged = "127.0.0.1", "198.51.100.7", "203.0.113.9"
	tests := []struct {
		name      string
		peer      string
		xff, fwd  []string
		want      string
		wantProxy bool // want the peer
	}{
		{name: "untrusted peer, forged X-Forwarded-For", peer: "192.0.2.1", xff: []string{client}, want: "192.0.2.1"},
		{name: "untrusted peer, forged Forwarded", peer: "192.0.2.1", fwd: []string{"for=" + client}, want: "192.0.2.1"},
		{name: "untrusted loopback-like peer", peer: "127.0.0.2", xff: []string{client}, want: "127.0.0.2"},
		{name: "no header", peer: proxy, want: proxy},
		{name: "one hop", peer: proxy, xff: []string{client}, want: client},
		{name: "forged left of the real one", peer: proxy, xff: []string{forged + ", " + client}, want: client},
		{name: "trusted inner hop", peer: proxy, xff: []string{client + ", 10.1.2.3"}, want: client},
		{name: "lines in order", peer: proxy, xff: []string{forged, client + ",10.0.0.2"}, want: client},
		{name: "empty items", peer: proxy, xff: []string{" , " + client + " ,, "}, want: client},
		{name: "IPv4 with port", peer: proxy, xff: []string{client + ":4711"}, want: client},
		{name: "IPv6", peer: proxy, xff: []string{"2001:db8::7"}, want: "2001:db8::7"},
		{name: "IPv6 bracketed with port", peer: proxy, xff: []string{"[2001:db8::7]:4711"}, want: "2001:db8::7"},
		{name: "IPv6 bracketed", peer: proxy, xff: []string{"[2001:db8::7]"}, want: "2001:db8::7"},
		{name: "IPv4 in IPv6", peer: proxy, xff: []string{"::ffff:" + client}, want: client},
		{name: "zone dropped", peer: proxy, xff: []string{"fe80::1%eth0"}, want: "fe80::1"},
		{name: "IPv6 peer", peer: "::1", xff: []string{client}, want: client},
		{name: "IPv4-in-IPv6 peer", peer: "::ffff:127.0.0.1", xff: []string{client}, want: client},
		{name: "all trusted: the furthest", peer: proxy, xff: []string{"10.0.0.5, 10.0.0.6"}, want: "10.0.0.5"},
		{name: "garbage", peer: proxy, xff: []string{"garbage"}, wantProxy: true},
		{name: "garbage right of the client", peer: proxy, xff: []string{client + ", garbage"}, wantProxy: true},
		{name: "garbage left of the client", peer: proxy, xff: []string{"garbage, " + client}, want: client},
		{name: "garbage past a trusted hop", peer: proxy, xff: []string{"garbage, 10.0.0.5"}, want: "10.0.0.5"},
		{name: "empty", peer: proxy, xff: []string{""}, wantProxy: true},
		{name: "unknown", peer: proxy, xff: []string{"unknown"}, wantProxy: true},
		{name: "control bytes", peer: proxy, xff: []string{"\x00\xff\"\\,"}, wantProxy: true},

		{name: "Forwarded", peer: proxy, fwd: []string{"for=" + client}, want: client},
		{name: "Forwarded, case and other parameters", peer: proxy, fwd: []string{"proto=https;For=" + client + ";by=10.0.0.1"}, want: client},
		{name: "Forwarded, RFC 7239 example", peer: proxy,
			fwd: []string{"for=192.0.2.43, for=198.51.100.17;by=203.0.113.60;proto=http;host=example.com"}, want: "198.51.100.17"},
		{name: "Forwarded, quoted IPv6 with port", peer: proxy, fwd: []string{`for="[2001:db8:cafe::17]:4711"`}, want: "2001:db8:cafe::17"},
		{name: "Forwarded, quoted IPv6", peer: proxy, fwd: []string{`for="[2001:db8:cafe::17]"`}, want: "2001:db8:cafe::17"},
		{name: "Forwarded, quoted IPv4 with port", peer: proxy, fwd: []string{`for="` + client + `:47011"`}, want: client},
		{name: "Forwarded, obfuscated port", peer: proxy, fwd: []string{`for="` + client + `:_p1"`}, want: client},
		{name: "Forwarded, escapes", peer: proxy, fwd: []string{`for="\[2001:db8::7\]"`}, want: "2001:db8::7"},
		{name: "Forwarded, comma in a quoted value", peer: proxy, fwd: []string{`for=` + forged + `, host="a,b";for=` + client}, want: client},
		{name: "Forwarded, trusted inner hop", peer: proxy, fwd: []string{"for=" + client, `for="[fd00::3]"`}, want: client},
		{name: "Forwarded, forged left", peer: proxy, fwd: []string{"for=" + forged + ",for=" + client}, want: client},
		{name: "Forwarded, unknown", peer: proxy, fwd: []string{"for=unknown"}, wantProxy: true},
		{name: "Forwarded, obfuscated node", peer: proxy, fwd: []string{"for=_hidden"}, wantProxy: true},
		{name: "Forwarded, no for", peer: proxy, fwd: []string{"proto=https"}, wantProxy: true},
		{name: "Forwarded, two for", peer: proxy, fwd: []string{"for=" + client + ";for=" + forged}, wantProxy: true},
		{name: "Forwarded, open quote", peer: proxy, fwd: []string{`for="` + client}, wantProxy: true},
		{name: "Forwarded, bare word", peer: proxy, fwd: []string{client}, wantProxy: true},
		{name: "Forwarded, IPv6 in brackets unquoted", peer: proxy, fwd: []string{"for=[2001:db8::7]"}, want: "2001:db8::7"},

		{name: "both headers agree", peer: proxy, xff: []string{client}, fwd: []string{"for=" + client}, want: client},
		{name: "both headers disagree", peer: proxy, xff: []string{client}, fwd: []string{"for=" + forged}, wantProxy: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tc.xff {
				h.Add("X-Forwarded-For", v)
			}
			for _, v := range tc.fwd {
				h.Add("Forwarded", v)
			}
			peer := normAddr(netip.MustParseAddr(tc.peer))
			want := tc.want
			if tc.wantProxy {
				want = peer.String()
			}
			if got := forwardedClient(peer, h, trusted); got.String() != want {
				t.Errorf("client %s, want %s", got, want)
			}
		})
	}
}

// TestForwardedBounds: only the right end of a forwarding header is read,
// however long it is.
func TestForwardedBounds(t *testing.T) {
	trusted := testProxies(t)
	peer := netip.MustParseAddr("127.0.0.1")
	client := func(xff string) string {
		return forwardedClient(peer, http.Header{"X-Forwarded-For": {xff}}, trusted).String()
	}
	huge := strings.Repeat("1", 1<<20)
	if got := client(huge + ", 198.51.100.7"); got != "198.51.100.7" {
		t.Errorf("after a 1 MiB item: client %s, want 198.51.100.7", got)
	}
	if got := client("198.51.100.7, " + huge); got != "127.0.0.1" {
		t.Errorf("1 MiB item on the right: client %s, want the peer", got)
	}
	if got := client(strings.Repeat(",", 1<<20) + "198.51.100.7"); got != "198.51.100.7" {
		t.Errorf("after a million commas: client %s, want 198.51.100.7", got)
	}
	if got := client(strings.Repeat(", ", 1<<20)); got != "127.0.0.1" {
		t.Errorf("a million empty items: client %s, want the peer", got)
	}
	// More trusted hops than are read: the walk stops at the last read.
	hops := "198.51.100.7" + strings.Repeat(", 10.0.0.1", maxForwardHops) + ", 10.0.0.2"
	if got := client(hops); got != "10.0.0.1" {
		t.Errorf("%d trusted hops: client %s, want 10.0.0.1 (the last read)", maxForwardHops+1, got)
	}
	hops = "198.51.100.7" + strings.Repeat(", 10.0.0.1", maxForwardHops-1)
	if got := client(hops); got != "198.51.100.7" {
		t.Errorf("%d trusted hops: client %s, want 198.51.100.7", maxForwardHops-1, got)
	}
}

// TestOf: the address of a request as it is counted and logged.
func TestOf(t *testing.T) {
	ps, err := ParseProxies([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ remote, xff, want string }{
		{"127.0.0.1:5000", "198.51.100.7", "198.51.100.7"},
		{"[::ffff:127.0.0.1]:5000", "198.51.100.7", "198.51.100.7"},
		{"192.0.2.1:5000", "198.51.100.7", "192.0.2.1"},
		{"[2001:db8::1]:5000", "198.51.100.7", "2001:db8::1"},
		{"pipe", "198.51.100.7", "pipe"},
		{"host:5000", "198.51.100.7", "host"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/ws", nil)
		r.RemoteAddr = tc.remote
		r.Header.Set("X-Forwarded-For", tc.xff)
		if got := ps.Of(r); got != tc.want {
			t.Errorf("from %s with X-Forwarded-For %s: %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
}

func TestParseProxies(t *testing.T) {
	got, err := ParseProxies([]string{"127.0.0.1", " ::1 ", "10.1.2.3/8", "fd00::/8", "::ffff:192.168.0.0/112"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"127.0.0.1/32", "::1/128", "10.0.0.0/8", "fd00::/8", "192.168.0.0/16"}
	if len(got) != len(want) {
		t.Fatalf("parsed %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("item %d: %s, want %s", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"", "proxy.example", "10.0.0.0/33", "10.0.0.1/", "fe80::1%eth0", "::ffff:0:0/90", "127.0.0.1:80"} {
		if _, err := ParseProxies([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		} else if strings.Contains(err.Error(), "netip") || strings.Contains(err.Error(), "ParseAddr") {
			t.Errorf("%q: error names the library: %v", bad, err)
		}
	}
}

func TestLimitKey(t *testing.T) {
	for in, want := range map[string]string{
		"198.51.100.7":             "198.51.100.7",
		"2001:db8:1:2:3:4:5:6":     "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::9":     "2001:db8:1:2::/64",
		"pipe":                     "pipe",
		"::ffff:198.51.100.7/oops": "::ffff:198.51.100.7/oops",
	} {
		if got := Key(in); got != want {
			t.Errorf("Key(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzForwardedClient: whatever the headers say, reading them neither
// panics nor looks past the right-most untrusted address.
func FuzzForwardedClient(f *testing.F) {
	f.Add("203.0.113.9, 198.51.100.7", "", "junk")
	f.Add("198.51.100.7, 10.0.0.1", `for=192.0.2.43, for="[2001:db8:cafe::17]:4711"`, `"`)
	f.Add("", `for=192.0.2.43;proto=https, for="10.0.0.2:_x";by=_p`, `host="a,b"`)
	f.Add(`"\"`, `for="\[::1\]",,for=unknown`, "")
	trusted := testProxies(f)
	peer := netip.MustParseAddr("127.0.0.1")
	f.Fuzz(func(t *testing.T, xff, fwd, junk string) {
		h := http.Header{}
		if xff != "" {
			h.Set("X-Forwarded-For", xff)
		}
		if fwd != "" {
			h.Set("Forwarded", fwd)
		}
		got := forwardedClient(peer, h, trusted)
		if !got.IsValid() || got != normAddr(got) {
			t.Fatalf("client %v", got)
		}
		if a := forwardedClient(netip.MustParseAddr("192.0.2.1"), h, trusted); a.String() != "192.0.2.1" {
			t.Fatalf("an untrusted peer's headers were read: client %v", a)
		}
		// Once an untrusted address is found, nothing left of it counts.
		for name, v := range map[string]string{"X-Forwarded-For": xff, "Forwarded": fwd} {
			one := http.Header{name: {v}}
			a := forwardedClient(peer, one, trusted)
			if trusted.trusts(a) {
				continue
			}
			one.Set(name, junk+","+v)
			if b := forwardedClient(peer, one, trusted); b != a {
				t.Fatalf("%s %q: client %v; with %q before it: %v", name, v, a, junk, b)
			}
		}
	})
}
