package consultest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
)

// Version is the Consul version the tool module pins.
const Version = "v1.20.6"

// EnvBinary names the environment variable that, when set, holds the path
// of the agent binary. The Makefile sets it.
const EnvBinary = "TYPEDKIT_CONSUL"

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
)

// Binary returns the path of the Consul agent, building it first if it is
// not there. The build takes minutes; it happens once per machine, and
// concurrent test processes wait for one build rather than each starting
// their own.
func Binary() (string, error) {
	binaryOnce.Do(func() { binaryPath, binaryErr = findOrBuild() })
	return binaryPath, binaryErr
}

func findOrBuild() (string, error) {
	path := os.Getenv(EnvBinary)
	if path == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", fmt.Errorf("consultest: no cache directory for the Consul agent (set %s): %w", EnvBinary, err)
			}
			cache = filepath.Join(home, ".cache")
		}
		path = filepath.Join(cache, "typedkit", "consul-"+Version)
	}
	if isExecutable(path) {
		return path, nil
	}
	if err := build(path); err != nil {
		return "", err
	}
	return path, nil
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// build builds the agent into path under a lock on path+".lock", unless
// another process built it while this one waited for the lock.
func build(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("consultest: %w", err)
	}
	unlock, err := lockFile(path + ".lock")
	if err != nil {
		return fmt.Errorf("consultest: locking the Consul build: %w", err)
	}
	defer unlock()
	if isExecutable(path) {
		return nil
	}
	tools, err := toolModule()
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	cmd := exec.Command("go", "-C", tools, "build", "-o", tmp, "github.com/hashicorp/consul")
	// The tool module is not in the repository's go.work: it builds on its
	// own requirements alone.
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "GOWORK=off")
	fmt.Fprintf(os.Stderr, "consultest: building Consul %s into %s (once per machine; this takes several minutes)\n", Version, path)
	if out, err := cmd.CombinedOutput(); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("consultest: building Consul: %w\n%s", err, out)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("consultest: %w", err)
	}
	return nil
}

// toolModule returns the directory of the tool module that pins Consul,
// found from this file's place in the repository.
func toolModule() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("consultest: cannot find the repository: no caller information")
	}
	dir := filepath.Join(filepath.Dir(file), "..", "tools", "consul")
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		return "", fmt.Errorf("consultest: cannot find the Consul tool module (set %s to an agent binary): %w", EnvBinary, err)
	}
	return dir, nil
}
