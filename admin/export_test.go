package admin

import "time"

// PlainForTest is plain, for the tests of CSV injection.
var PlainForTest = plain

// SignInsForTest counts failed sign-ins, for the test of its bound.
type SignInsForTest struct{ s signIns }

const MaxSignInTrackedForTest = maxSignInTracked

func (t *SignInsForTest) Failed(key string, now time.Time) { t.s.failed(key, now) }

func (t *SignInsForTest) Len() int { return len(t.s.byAddr) }
