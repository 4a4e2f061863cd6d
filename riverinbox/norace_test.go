//go:build !race

package riverinbox_test

// raceDetector reports that the tests run under the race detector, which
// makes the load tests take many minutes: they skip then.
const raceDetector = false
