//go:build unix

package toolbin

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Terminate is the signal that asks a server to stop gracefully.
var Terminate os.Signal = syscall.SIGTERM

// Pause stops p (SIGSTOP) and waits until every thread of it has stopped:
// a signal only starts a stop, which a thread that is running goes through
// when the kernel next schedules it, and until then it may still answer.
func Pause(p *os.Process) error {
	if err := p.Signal(syscall.SIGSTOP); err != nil {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		stopped, err := allStopped(p.Pid)
		if err != nil || stopped {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("process %d did not stop within 10s", p.Pid)
		}
		time.Sleep(time.Millisecond)
	}
}

// Resume lets a process stopped by [Pause] go on (SIGCONT).
func Resume(p *os.Process) error { return p.Signal(syscall.SIGCONT) }

// allStopped reports whether every thread of the process pid is stopped,
// as Linux's /proc tells. Without /proc it reports true: the caller cannot
// know better than to trust the signal.
func allStopped(pid int) (bool, error) {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if err != nil || len(tasks) == 0 {
		return true, nil
	}
	for _, task := range tasks {
		b, err := os.ReadFile(task)
		if errors.Is(err, fs.ErrNotExist) {
			continue // a thread that has exited
		}
		if err != nil {
			return false, err
		}
		// The state follows the command's closing parenthesis: "pid (comm) S ...".
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 || i+2 >= len(b) {
			return false, fmt.Errorf("unexpected %s: %q", task, b)
		}
		if state := b[i+2]; state != 'T' && state != 't' {
			return false, nil
		}
	}
	return true, nil
}
