package sfu

import (
	"testing"
	"time"
)

// TestCertificates: every connection gets the same certificate until it
// is within a day of expiring; then a new one, kept in turn.
func TestCertificates(t *testing.T) {
	now := time.Now()
	c := certificates{now: func() time.Time { return now }}
	first, err := c.get()
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.get()
	if err != nil {
		t.Fatal(err)
	}
	if !first.Equals(again) {
		t.Fatal("a second connection got a different certificate")
	}
	now = first.Expires().Add(-certRenewBefore + time.Minute)
	renewed, err := c.get()
	if err != nil {
		t.Fatal(err)
	}
	if renewed.Equals(first) {
		t.Fatal("the certificate was kept within a day of expiring")
	}
	if !renewed.Expires().After(first.Expires()) {
		t.Errorf("the new certificate expires %v, not after the old one's %v", renewed.Expires(), first.Expires())
	}
	kept, err := c.get()
	if err != nil {
		t.Fatal(err)
	}
	if !kept.Equals(renewed) {
		t.Error("the renewed certificate was not kept")
	}
}
