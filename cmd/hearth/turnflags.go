package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hearth-rtc/hearth/internal/app"
)

// turnConfig turns the -turn-* flags into the embedded TURN server's
// configuration; port 0 leaves it off.
func turnConfig(port int, publicIP, realm, relayPorts string) (app.TURNConfig, error) {
	if port < 0 || port > 65535 {
		return app.TURNConfig{}, fmt.Errorf("-turn-port %d is not a port", port)
	}
	if port == 0 {
		return app.TURNConfig{}, nil
	}
	minPort, maxPort, err := parsePortRange(relayPorts)
	if err != nil {
		return app.TURNConfig{}, fmt.Errorf("-turn-relay-ports: %w", err)
	}
	return app.TURNConfig{Enabled: true, Port: port, PublicIP: publicIP, Realm: realm,
		RelayMinPort: minPort, RelayMaxPort: maxPort}, nil
}

// parsePortRange parses "min-max" (inclusive, 1-65535); "" is no range.
func parsePortRange(s string) (minPort, maxPort int, err error) {
	if s == "" {
		return 0, 0, nil
	}
	lo, hi, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not min-max", s)
	}
	if minPort, err = strconv.Atoi(strings.TrimSpace(lo)); err == nil {
		maxPort, err = strconv.Atoi(strings.TrimSpace(hi))
	}
	if err != nil || minPort < 1 || maxPort > 65535 || minPort > maxPort {
		return 0, 0, fmt.Errorf("%q is not a port range within 1-65535", s)
	}
	return minPort, maxPort, nil
}
