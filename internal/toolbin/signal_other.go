//go:build !unix

package toolbin

import (
	"errors"
	"os"
)

// Terminate is the signal that asks a server to stop gracefully.
var Terminate = os.Interrupt

var errNoStop = errors.New("this system cannot stop a process without ending it")

// Pause fails: this system cannot stop a process without ending it.
func Pause(*os.Process) error { return errNoStop }

// Resume does nothing.
func Resume(*os.Process) error { return nil }
