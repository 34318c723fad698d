package consultest

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// The version this package names, and the Makefile's, are the version the
// tool module pins, so the cached agent's file name changes with the pin.
func TestVersionMatchesPin(t *testing.T) {
	t.Parallel()
	tools, err := toolModule()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(tools, "..", "..", "..")
	gomod, err := os.ReadFile(filepath.Join(tools, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*github\.com/hashicorp/consul (v\S+)`).FindSubmatch(gomod)
	if m == nil || string(m[1]) != Version {
		t.Fatalf("internal/tools/consul/go.mod pins %q, consultest.Version is %q", m, Version)
	}
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^CONSUL_VERSION\s*:=\s*` + regexp.QuoteMeta(Version) + `\s*$`).Match(makefile) {
		t.Fatalf("the Makefile's CONSUL_VERSION is not %s", Version)
	}
}
