package conformance_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// unavailable skips the test for a missing tool, or fails it in CI
// (CI=true), where every tool must be there.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true, and "+format, args...)
	}
	t.Skipf(format+" (in CI this fails)", args...)
}

// requireNode returns the path of node, with the suite's node_modules
// installed, or skips the test.
func requireNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable(t, "node is not installed: the Node clients cannot run")
	}
	if _, err := os.Stat(filepath.Join("node_modules", ".package-lock.json")); err != nil {
		unavailable(t, "internal/conformance/node_modules is missing: run make conformance-deps (npm ci in internal/conformance)")
	}
	return node
}

// requireProtoc returns the path of protoc, or skips the test.
func requireProtoc(t *testing.T) string {
	t.Helper()
	protoc, err := exec.LookPath("protoc")
	if err != nil {
		unavailable(t, "protoc is not installed: run make protoc")
	}
	if _, err := os.Stat("/usr/include/google/protobuf/timestamp.proto"); err != nil {
		unavailable(t, "protoc's well-known types are not in /usr/include: run make protoc (Debian's libprotobuf-dev)")
	}
	return protoc
}

// bin returns the path of a command that npm installed.
func bin(name string) string { return filepath.Join("node_modules", ".bin", name) }

// run runs a command with a deadline and returns its combined output.
func run(t *testing.T, timeout time.Duration, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = nodeEnv()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %s: no answer in %v\n%s", name, strings.Join(args, " "), timeout, out.String())
	}
	return out.String(), err
}

// nodeEnv is the environment of the Node tools: no telemetry, no update
// checks, no colours.
func nodeEnv() []string {
	return append(os.Environ(),
		"REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true", "SCARF_ANALYTICS=false",
		"NO_COLOR=1", "FORCE_COLOR=0", "NO_UPDATE_NOTIFIER=1")
}

// repoRoot is the root of the typedkit repository.
const repoRoot = "../.."
