//go:build !linux

package firefox

import "os/exec"

// ownGroup does nothing outside Linux.
func ownGroup(cmd *exec.Cmd) {}

// endLeftovers does nothing outside Linux; Close waits for the driver
// itself.
func endLeftovers(cmd *exec.Cmd, profileDir string) int { return 0 }
