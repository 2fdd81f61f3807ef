// Package live runs a room while people are in it: the facilitator
// controls and turn-taking state machine (Controls), the media gate built
// from it for the SFU (an sfu.Gate), and talk time. Commands are authorized and applied here; the SFU
// is told who may receive whom, and never learns roles.
package live
