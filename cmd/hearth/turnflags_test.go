package main

import (
	"flag"
	"io"
	"strings"
	"testing"
)

// parseTURN parses -turn-* flags as serve does.
func parseTURN(t *testing.T, args ...string) *turnFlags {
	t.Helper()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := addTURNFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestTURNFlags(t *testing.T) {
	off, err := parseTURN(t, "-turn-relay-ports", "junk").config("")
	if err != nil || off.Enabled {
		t.Fatalf("port 0: %+v, %v; want off", off, err)
	}
	on, err := parseTURN(t, "-turn-port", "3478", "-turn-public-ip", "203.0.113.7", "-turn-relay-ports", "49152-49407").config("")
	if err != nil || !on.Enabled || on.Port != 3478 || on.PublicIP != "203.0.113.7" || on.Realm != "hearth" ||
		on.RelayMinPort != 49152 || on.RelayMaxPort != 49407 || on.TLSAddr != "" {
		t.Fatalf("config = %+v, %v", on, err)
	}
	for _, bad := range []string{"49152", "a-b", "0-10", "10-5", "1-65536", "-"} {
		if _, err := parseTURN(t, "-turn-port", "3478", "-turn-relay-ports", bad).config(""); err == nil {
			t.Errorf("relay ports %q accepted", bad)
		}
	}
	if _, err := parseTURN(t, "-turn-port", "70000").config(""); err == nil {
		t.Error("port 70000 accepted")
	}
}

func TestTURNTLSFlags(t *testing.T) {
	c, err := parseTURN(t, "-turn-port", "3478", "-turn-tls-listen", "203.0.113.8:443",
		"-turn-tls-cert", "c.pem", "-turn-tls-key", "k.pem", "-turn-tls-host", "turn.example.org").config("")
	if err != nil || c.TLSAddr != "203.0.113.8:443" || c.TLSCert != "c.pem" || c.TLSKey != "k.pem" || c.TLSHost != "turn.example.org" {
		t.Fatalf("config = %+v, %v", c, err)
	}
	// Without its own certificate, TURN over TLS takes -tls-cert/-tls-key
	// (the app does; the flags leave them empty).
	if c, err := parseTURN(t, "-turn-port", "3478", "-turn-tls-listen", ":5349").config("server.pem"); err != nil || c.TLSAddr != ":5349" || c.TLSCert != "" {
		t.Fatalf("config = %+v, %v", c, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-turn-tls-listen", ":5349"}, "need -turn-port"},
		{[]string{"-turn-port", "3478", "-turn-tls-cert", "c.pem", "-turn-tls-key", "k.pem"}, "go with -turn-tls-listen"},
		{[]string{"-turn-port", "3478", "-turn-tls-listen", ":5349", "-turn-tls-cert", "c.pem"}, "go together"},
		{[]string{"-turn-port", "3478", "-turn-tls-listen", "5349"}, "not host:port"},
		{[]string{"-turn-port", "3478", "-turn-tls-listen", ":0"}, "not a port"},
		{[]string{"-turn-port", "3478", "-turn-tls-listen", ":https"}, "not a port"},
		{[]string{"-turn-port", "3478", "-turn-tls-listen", "turn.example.org:443"}, "not an IP address"},
	} {
		_, err := parseTURN(t, tc.args...).config("server.pem")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error saying %q", tc.args, err, tc.want)
		}
	}
	want := "-turn-tls-listen needs a certificate: -turn-tls-cert and -turn-tls-key, or -tls-cert and -tls-key"
	if _, err := parseTURN(t, "-turn-port", "3478", "-turn-tls-listen", ":5349").config(""); err == nil || err.Error() != want {
		t.Errorf("no certificate: %v, want %q", err, want)
	}
}
