//go:build !linux

package browser

import "time"

// reapLeftovers does nothing outside Linux; chromedp waits for the browser
// process itself.
func reapLeftovers(dataDir string, limit time.Duration) int { return 0 }
