// Package etcd is the etcd backend of package discovery.
//
// A [Registrar] announces an instance as a key under
// <prefix>/<service>/<instance ID> whose value is its host:port, attached
// to a lease with a TTL that it keeps alive; it revokes the lease on
// shutdown, so the key leaves at once, and a process that dies leaves when
// its lease expires. An [Instancer] reads the service's keys and watches
// them from the revision of that read, so instances that appear or leave
// reach the client's balancer as soon as etcd commits the change. When etcd
// cannot be reached, the Instancer keeps the last good set, reports the
// error in its events, backs off with jitter (a second at most) and
// recovers on its own, with a fresh read when the revisions it would
// resume from were compacted.
//
// The value of a key is a plain host:port, as go-kit's etcdv3 backend
// writes it, so a go-kit client watching <prefix>/<service>/ finds these
// instances, and an Instancer finds go-kit's.
//
// A client built on it:
//
//	client, _ := clientv3.New(clientv3.Config{Endpoints: []string{"127.0.0.1:2379"}})
//	defer client.Close()
//	instancer, _ := etcd.NewInstancer(client, "users")
//	defer instancer.Stop()
//	endpointer := discovery.NewEndpointer(instancer, factory)
//	defer endpointer.Close()
//	getUser := discovery.Retry(discovery.RoundRobin(endpointer))
//
// [NewResolver] follows the same instances for grpc-go's own clients, as
// etcd:///service targets.
package etcd
