package etcd

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
)

// DefaultPrefix is the prefix of the keys instances are registered under,
// unless [RegistrarPrefix] and [InstancerPrefix] name another: an instance
// of service users is the key /typedkit/services/users/<instance ID>.
const DefaultPrefix = "/typedkit/services"

// servicePrefix returns the prefix of the keys of service's instances,
// with a trailing slash, so that a service's name is never the prefix of
// another's.
func servicePrefix(prefix, service string) string {
	return strings.TrimRight(prefix, "/") + "/" + service + "/"
}

// validName reports an error when v cannot be one segment of a key.
func validName(field, v string) error {
	if strings.ContainsAny(v, "/ \t\r\n") {
		return fmt.Errorf("etcd: %s %q must not contain '/' or spaces", field, v)
	}
	return nil
}

// instanceAddr returns the instance in a key's value, a "host:port" with a
// numeric port, and whether there is one.
func instanceAddr(value []byte) (string, bool) {
	host, port, err := net.SplitHostPort(string(value))
	if err != nil || host == "" {
		return "", false
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return "", false
	}
	return string(value), true
}

// DialOptions returns the gRPC dial options of an etcd client that
// reconnects within about a second of etcd's return: give them to
// clientv3.Config.DialOptions. gRPC's default reconnection backoff grows
// to two minutes, so without them an Instancer or a Registrar may see an
// etcd that came back only minutes later.
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
		Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
		MinConnectTimeout: 2 * time.Second,
	})}
}

// jitter returns the delay after the given number of consecutive failures:
// lo doubled per failure up to hi, then drawn from its upper half.
func jitter(lo, hi time.Duration, failures int) time.Duration {
	d := lo
	for n := 1; n < failures && d < hi; n++ {
		d *= 2
	}
	d = min(d, hi)
	return d/2 + rand.N(d/2+1)
}

// sleep waits for d or until ctx ends, and reports whether ctx is live.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
