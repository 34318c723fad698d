//go:build !unix

package toolbin

import (
	"errors"
	"io/fs"
	"os"
	"time"
)

// lockFile takes a lock by creating the file at path exclusively, waiting
// while another process holds it, and returns the function that releases
// it.
func lockFile(path string) (unlock func(), err error) {
	for {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			f.Close()
			return func() { _ = os.Remove(path) }, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		time.Sleep(time.Second)
	}
}
