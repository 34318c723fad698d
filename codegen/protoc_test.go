package codegen

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// protocPath returns protoc's path. Without protoc the test is skipped,
// unless it runs in CI (CI=true), which installs protoc: there it fails.
func protocPath(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("protoc")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("protoc is not installed, and CI must compile every .proto the generator emits: %v", err)
		}
		t.Skip("protoc is not installed (Debian: apt-get install protobuf-compiler libprotobuf-dev); skipping the check that protoc compiles the emitted .proto")
	}
	return path
}

// protoc compiles a .proto file with protoc, the well-known types from
// /usr/include, and returns the serialized FileDescriptorSet, imports
// included. A file protoc refuses fails the test with protoc's message.
func protoc(t testing.TB, name string, src []byte) []byte {
	t.Helper()
	bin := protocPath(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name), src, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "descriptor.pb")
	cmd := exec.Command(bin, "-I", "/usr/include", "-I", dir, "--include_imports", "--descriptor_set_out="+out, name)
	cmd.Dir = dir
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("protoc refuses %s: %v\n%s\n%s", name, err, msg, src)
	}
	set, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return set
}
