// Package consultest runs a real Consul agent for tests.
//
// [Binary] finds the agent built from the pinned tool module in
// internal/tools/consul: the file named by $TYPEDKIT_CONSUL when set,
// otherwise ${XDG_CACHE_HOME:-$HOME/.cache}/typedkit/consul-v1.20.6, building
// it there once per machine, under a file lock, when it is missing.
//
// [Start] runs `consul agent -dev` for one test on free loopback ports and
// stops it when the test ends; [New] does the same for a TestMain. An
// [Agent] can be stopped and started again on the same address with the
// same data directory, so its registrations survive, to test what clients do
// while the registry is away.
//
// The package imports no Consul client library: a test builds its client on
// [Agent.Addr] and an [Agent.Transport], which the agent closes when it is
// closed.
package consultest
