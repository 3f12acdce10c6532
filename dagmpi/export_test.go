package dagmpi

// DevSkipWaits disables the event waits between device tasks, so a test
// can show that without them the data is wrong.
var DevSkipWaits = &devSkipWaits
