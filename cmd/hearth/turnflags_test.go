package main

import "testing"

func TestTURNFlags(t *testing.T) {
	off, err := turnConfig(0, "", "hearth", "junk")
	if err != nil || off.Enabled {
		t.Fatalf("port 0: %+v, %v; want off", off, err)
	}
	on, err := turnConfig(3478, "203.0.113.7", "hearth", "49152-49407")
	if err != nil || !on.Enabled || on.Port != 3478 || on.PublicIP != "203.0.113.7" || on.RelayMinPort != 49152 || on.RelayMaxPort != 49407 {
		t.Fatalf("turnConfig = %+v, %v", on, err)
	}
	for _, bad := range []string{"49152", "a-b", "0-10", "10-5", "1-65536", "-"} {
		if _, err := turnConfig(3478, "", "hearth", bad); err == nil {
			t.Errorf("relay ports %q accepted", bad)
		}
	}
	if _, err := turnConfig(70000, "", "hearth", ""); err == nil {
		t.Error("port 70000 accepted")
	}
}
