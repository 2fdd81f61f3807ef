//go:build !linux

package firefox

import "os/exec"

// ownGroup does nothing outside Linux.
func ownGroup(cmd *exec.Cmd) {}

// endGroup does nothing outside Linux; Close waits for the driver itself.
func endGroup(cmd *exec.Cmd) int { return 0 }
