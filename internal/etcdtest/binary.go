package etcdtest

import (
	"fmt"

	"github.com/typedkit/kit/internal/toolbin"
)

// Version is the etcd version the tool module pins.
const Version = "v3.7.3"

// EnvBinary names the environment variable that, when set, holds the path
// of the etcd binary. The Makefile sets it.
const EnvBinary = "TYPEDKIT_ETCD"

// tool is the etcd server, built from internal/tools/etcd.
var tool = &toolbin.Tool{
	Name: "etcd", File: "etcd", Version: Version, Env: EnvBinary,
	Module: "etcd", Package: "go.etcd.io/etcd/server/v3", Takes: "about a minute",
}

// Binary returns the path of the etcd server, building it first if it is
// not there. The build takes about a minute; it happens once per machine,
// and concurrent test processes wait for one build rather than each
// starting their own.
func Binary() (string, error) {
	path, err := tool.Binary()
	if err != nil {
		return "", fmt.Errorf("etcdtest: %w", err)
	}
	return path, nil
}
