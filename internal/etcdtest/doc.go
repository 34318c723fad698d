// Package etcdtest runs a real etcd server for tests.
//
// [Binary] finds the server built from the pinned tool module in
// internal/tools/etcd: the file named by $TYPEDKIT_ETCD when set, otherwise
// ${XDG_CACHE_HOME:-$HOME/.cache}/typedkit/etcd-v3.7.3, building it there
// once per machine, under a file lock, when it is missing.
//
// [Start] runs a single-member etcd cluster for one test on free loopback
// ports and stops it when the test ends; [New] does the same for a
// TestMain. A [Server] can be stopped (gracefully or killed), paused and
// resumed, and started again on the same address with the same data
// directory, so its keys and leases survive, to test what clients do while
// the registry is away.
//
// The package uses the standard library only (it waits for the server on
// its HTTP /health endpoint), so that the library's module needs no etcd
// client: a test builds its client on [Server.Endpoints].
package etcdtest
