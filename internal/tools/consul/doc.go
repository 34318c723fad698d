// Package consul pins the Consul agent that the integration tests run.
//
// It is a tool module of its own so that the agent's large dependency graph
// never meets the library's. Build the agent with
//
//	go -C internal/tools/consul build -o "$CACHE/consul" github.com/hashicorp/consul
package consul
