package admin

// PlainForTest is plain, for the tests of CSV injection.
var PlainForTest = plain
