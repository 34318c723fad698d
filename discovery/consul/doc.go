// Package consul is the Consul backend of package discovery.
//
// A [Registrar] announces an instance to the local Consul agent with a health
// check (HTTP, gRPC, or a TTL that it renews itself) and withdraws it on
// shutdown. An [Instancer] watches the health of a service with blocking
// queries and reports the instances whose checks pass, so that instances
// that appear, fail or leave reach the client's balancer as soon as Consul
// knows. When the agent cannot be reached, the Instancer keeps the last good
// set, reports the error in its events, backs off with jitter and recovers
// on its own.
//
// A client built on it:
//
//	client, _ := api.NewClient(api.DefaultConfig())
//	instancer, _ := consul.NewInstancer(client, "users", consul.InstancerTags("v2"))
//	defer instancer.Stop()
//	endpointer := discovery.NewEndpointer(instancer, factory)
//	defer endpointer.Close()
//	getUser := discovery.Retry(discovery.RoundRobin(endpointer))
package consul
