// Package etcd pins the etcd server that the integration tests run.
//
// It is a tool module of its own so that the server's dependency graph
// never meets the library's. Build the server with
//
//	go -C internal/tools/etcd build -o "$CACHE/etcd" go.etcd.io/etcd/server/v3
package etcd
