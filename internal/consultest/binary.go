package consultest

import (
	"fmt"

	"github.com/typedkit/kit/internal/toolbin"
)

// Version is the Consul version the tool module pins.
const Version = "v1.20.6"

// EnvBinary names the environment variable that, when set, holds the path
// of the agent binary. The Makefile sets it.
const EnvBinary = "TYPEDKIT_CONSUL"

// tool is the Consul agent, built from internal/tools/consul.
var tool = &toolbin.Tool{
	Name: "the Consul agent", File: "consul", Version: Version, Env: EnvBinary,
	Module: "consul", Package: "github.com/hashicorp/consul", Takes: "this takes several minutes",
}

// Binary returns the path of the Consul agent, building it first if it is
// not there. The build takes minutes; it happens once per machine, and
// concurrent test processes wait for one build rather than each starting
// their own.
func Binary() (string, error) {
	path, err := tool.Binary()
	if err != nil {
		return "", fmt.Errorf("consultest: %w", err)
	}
	return path, nil
}

// toolModule returns the directory of the tool module that pins Consul.
func toolModule() (string, error) { return tool.ModuleDir() }
