package etcdtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
)

// Version is the etcd version the tool module pins.
const Version = "v3.7.3"

// EnvBinary names the environment variable that, when set, holds the path
// of the etcd binary. The Makefile sets it.
const EnvBinary = "TYPEDKIT_ETCD"

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
)

// Binary returns the path of the etcd server, building it first if it is
// not there. The build takes about a minute; it happens once per machine,
// and concurrent test processes wait for one build rather than each
// starting their own.
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
				return "", fmt.Errorf("etcdtest: no cache directory for the etcd server (set %s): %w", EnvBinary, err)
			}
			cache = filepath.Join(home, ".cache")
		}
		path = filepath.Join(cache, "typedkit", "etcd-"+Version)
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

// build builds the server into path under a lock on path+".lock", unless
// another process built it while this one waited for the lock.
func build(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("etcdtest: %w", err)
	}
	unlock, err := lockFile(path + ".lock")
	if err != nil {
		return fmt.Errorf("etcdtest: locking the etcd build: %w", err)
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
	cmd := exec.Command("go", "-C", tools, "build", "-o", tmp, "go.etcd.io/etcd/server/v3")
	// The tool module is not in the repository's go.work: it builds on its
	// own requirements alone.
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "GOWORK=off")
	fmt.Fprintf(os.Stderr, "etcdtest: building etcd %s into %s (once per machine; about a minute)\n", Version, path)
	if out, err := cmd.CombinedOutput(); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("etcdtest: building etcd: %w\n%s", err, out)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("etcdtest: %w", err)
	}
	return nil
}

// toolModule returns the directory of the tool module that pins etcd,
// found from this file's place in the repository.
func toolModule() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("etcdtest: cannot find the repository: no caller information")
	}
	dir := filepath.Join(filepath.Dir(file), "..", "tools", "etcd")
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		return "", fmt.Errorf("etcdtest: cannot find the etcd tool module (set %s to an etcd binary): %w", EnvBinary, err)
	}
	return dir, nil
}
