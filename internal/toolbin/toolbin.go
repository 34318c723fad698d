// Package toolbin finds the servers the integration tests run, such as the
// Consul agent and the etcd server: each is built once per machine from a
// tool module of internal/tools that pins its version, into the cache
// (${XDG_CACHE_HOME:-$HOME/.cache}/typedkit/<name>-<version>), under a
// file lock so that concurrent test processes wait for one build rather
// than each starting their own. It also stops and resumes those servers
// (and other test processes) to simulate a hung host: [Pause], [Resume].
package toolbin

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
)

// A Tool is a server binary built from a pinned tool module.
type Tool struct {
	// Name names the binary in messages: "the Consul agent".
	Name string
	// File is the cached file's name before "-"+Version: "consul".
	File string
	// Version is the version the tool module pins.
	Version string
	// Env names the environment variable that, when set, holds the path
	// of the binary.
	Env string
	// Module is the tool module's directory under internal/tools.
	Module string
	// Package is the main package the tool module builds.
	Package string
	// Takes says how long a build takes, for the message printed when one
	// starts: "several minutes".
	Takes string

	once sync.Once
	path string
	err  error
}

// Binary returns the path of the binary, building it first if it is not
// there.
func (t *Tool) Binary() (string, error) {
	t.once.Do(func() { t.path, t.err = t.findOrBuild() })
	return t.path, t.err
}

func (t *Tool) findOrBuild() (string, error) {
	path := os.Getenv(t.Env)
	if path == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", fmt.Errorf("no cache directory for %s (set %s): %w", t.Name, t.Env, err)
			}
			cache = filepath.Join(home, ".cache")
		}
		path = filepath.Join(cache, "typedkit", t.File+"-"+t.Version)
	}
	if IsExecutable(path) {
		return path, nil
	}
	if err := t.Build(path); err != nil {
		return "", err
	}
	return path, nil
}

// IsExecutable reports whether path is an executable regular file.
func IsExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// Build builds the binary into path under a lock on path+".lock", unless
// another process built it while this one waited for the lock.
func (t *Tool) Build(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	unlock, err := lockFile(path + ".lock")
	if err != nil {
		return fmt.Errorf("locking the build of %s: %w", t.Name, err)
	}
	defer unlock()
	if IsExecutable(path) {
		return nil
	}
	tools, err := t.ModuleDir()
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	cmd := exec.Command("go", "-C", tools, "build", "-o", tmp, t.Package)
	// The tool module is not in the repository's go.work: it builds on its
	// own requirements alone.
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "GOWORK=off")
	fmt.Fprintf(os.Stderr, "building %s %s into %s (once per machine; %s)\n", t.Name, t.Version, path, t.Takes)
	if out, err := cmd.CombinedOutput(); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("building %s: %w\n%s", t.Name, err, out)
	}
	return os.Rename(tmp, path)
}

// ModuleDir returns the directory of the tool module, found from this
// file's place in the repository.
func (t *Tool) ModuleDir() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot find the repository: no caller information")
	}
	dir := filepath.Join(filepath.Dir(file), "..", "tools", t.Module)
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		return "", fmt.Errorf("cannot find the tool module of %s (set %s to a binary): %w", t.Name, t.Env, err)
	}
	return dir, nil
}
