// Command ser is SIP Express Router rebuilt in Go: a SIP registrar, proxy
// and redirect server programmed by a ser.cfg routing script, with SER's
// FIFO management interface. Run `ser -h` for the command line. The
// daemon is assembled in internal/daemon; the engine is package core.
package main

import (
	"os"

	"ser/internal/daemon"
)

func main() { os.Exit(daemon.Main(os.Args[1:])) }
