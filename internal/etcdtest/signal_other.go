//go:build !unix

package etcdtest

import (
	"errors"
	"os"
)

// terminate is the signal that stops the server gracefully.
var terminate = os.Interrupt

var errNoStop = errors.New("this system cannot stop a process without ending it")

func pause(*os.Process) error  { return errNoStop }
func resume(*os.Process) error { return nil }
