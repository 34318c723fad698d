package etcdtest

import (
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/typedkit/kit/internal/toolbin"
)

// TestBuildWhenMissing builds the server into a path where none is, from
// two goroutines at once, as two test processes would: the lock lets one
// build, the other finds the binary, and it runs. The go command's cache
// holds the compiled packages after make etcd, so this costs a link.
func TestBuildWhenMissing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds etcd")
	}
	t.Parallel()
	path := filepath.Join(t.TempDir(), "etcd-"+Version)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() { errs[i] = tool.Build(path) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if !toolbin.IsExecutable(path) {
		t.Fatalf("%s is not an executable", path)
	}
	out, err := exec.Command(path, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --version: %v\n%s", path, err, out)
	}
	if want := "etcd Version: " + strings.TrimPrefix(Version, "v"); !strings.Contains(string(out), want) {
		t.Fatalf("%s --version says %q, want %q", path, out, want)
	}
}
