//go:build race

package transport

// raceDetector: the race detector keeps memory of ended goroutines.
const raceDetector = true
