package etcd

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/typedkit/kit/discovery"
)

// Defaults of the [Instancer]'s options.
const (
	// DefaultTimeout bounds each request of an Instancer to etcd.
	DefaultTimeout = time.Second
	// DefaultProbeInterval is how long a watch may stay quiet before the
	// Instancer asks etcd whether it is still there.
	DefaultProbeInterval = time.Second
)

// An InstancerOption configures an [Instancer].
type InstancerOption func(*Instancer)

// InstancerPrefix sets the prefix of the keys the instances are registered
// under, which must match the registrars' [RegistrarPrefix]. The default is
// [DefaultPrefix].
func InstancerPrefix(prefix string) InstancerOption {
	return func(i *Instancer) { i.prefix = prefix }
}

// InstancerTimeout bounds each request of the Instancer to etcd: the read
// of the instances, and each probe. A request that takes longer counts as
// etcd being away. The default is [DefaultTimeout].
func InstancerTimeout(d time.Duration) InstancerOption {
	return func(i *Instancer) {
		if d > 0 {
			i.timeout = d
		}
	}
}

// InstancerProbeInterval sets how long the watch may go without news
// before the Instancer reads the cluster's ID and revision, to find out
// whether etcd is still there, and still the same cluster: the etcd client
// retries a broken watch forever and silently, so without probes an etcd
// that is away or hung would go unnoticed. The default is [DefaultProbeInterval]: one small read a second
// per Instancer while nothing changes.
func InstancerProbeInterval(d time.Duration) InstancerOption {
	return func(i *Instancer) {
		if d > 0 {
			i.probe = d
		}
	}
}

// InstancerBackoff sets the delays between attempts while etcd cannot be
// reached: the first is about initial, each next one twice as long up to
// limit, each drawn at random between half and all of its nominal value.
// While an attempt waits for the connection, the client's connection is
// made to try again at the same pace, rather than at gRPC's, whose delays
// grow to two minutes. The default is 100ms up to 1s, so that the
// Instancer sees an etcd that comes back within about a second of its
// first answer.
func InstancerBackoff(initial, limit time.Duration) InstancerOption {
	return func(i *Instancer) {
		if initial > 0 {
			i.minBackoff = initial
		}
		if limit > 0 {
			i.maxBackoff = limit
		}
	}
}

// An Instancer watches the instances of one service in etcd and implements
// [discovery.Instancer]. The instances are the values ("host:port") of the
// keys under <prefix>/<service>/, which a [Registrar] writes; values that
// are not a host and a port are left out.
//
// It reads the keys, then watches them from the revision of that read, so
// every change reaches subscribers as soon as etcd commits it. When the
// watch fails, when etcd has compacted the revisions it would resume from,
// and when another cluster answers at the client's endpoints, it reads the
// keys again and watches from there. While etcd cannot be
// reached (stopped, hung, cut off by the network, or without a leader; a
// probe finds it when the watch stays quiet), it sends an event with the
// last good instances and the error, retries with a jittered backoff of at
// most a second, and sends a good event again once etcd answers.
type Instancer struct {
	client     *clientv3.Client
	service    string
	prefix     string
	timeout    time.Duration
	probe      time.Duration
	minBackoff time.Duration
	maxBackoff time.Duration

	b discovery.Broadcaster

	cancel   context.CancelFunc
	done     chan struct{}
	stopOnce sync.Once
}

var _ discovery.Instancer = (*Instancer)(nil)

// NewInstancer starts watching service through client and returns the
// Instancer. The first state follows as soon as etcd answers. Call Stop to
// end the watch; the client stays open, for the caller to close.
func NewInstancer(client *clientv3.Client, service string, opts ...InstancerOption) (*Instancer, error) {
	if client == nil {
		return nil, errors.New("etcd: NewInstancer with a nil client")
	}
	if service == "" {
		return nil, errors.New("etcd: NewInstancer needs a service name")
	}
	if err := validName("service name", service); err != nil {
		return nil, err
	}
	i := &Instancer{
		client:     client,
		service:    service,
		prefix:     DefaultPrefix,
		timeout:    DefaultTimeout,
		probe:      DefaultProbeInterval,
		minBackoff: 100 * time.Millisecond,
		maxBackoff: time.Second,
		done:       make(chan struct{}),
	}
	for _, o := range opts {
		o(i)
	}
	if i.maxBackoff < i.minBackoff {
		i.maxBackoff = i.minBackoff
	}
	ctx, cancel := context.WithCancel(context.Background())
	i.cancel = cancel
	go i.loop(ctx, servicePrefix(i.prefix, service))
	return i, nil
}

// Register subscribes ch to the instancer's events; see [discovery.Instancer].
func (i *Instancer) Register(ch chan<- discovery.Event) { i.b.Register(ch) }

// Deregister unsubscribes ch.
func (i *Instancer) Deregister(ch chan<- discovery.Event) { i.b.Deregister(ch) }

// State returns the latest event, and false before etcd first answered or
// failed.
func (i *Instancer) State() (discovery.Event, bool) { return i.b.State() }

// Stop ends the watch, cancelling a request in progress, and waits for it
// to finish. Subscribers receive nothing more.
func (i *Instancer) Stop() {
	i.stopOnce.Do(func() {
		i.cancel()
		<-i.done
	})
}

// errResync ends a watch that must start again from a fresh read, without
// etcd being at fault: the revisions it would resume from were compacted,
// or another cluster answers.
var errResync = errors.New("resync")

func (i *Instancer) loop(ctx context.Context, keys string) {
	defer close(i.done)
	failures := 0
	for {
		start := time.Now()
		var (
			instances map[string]string
			at        *etcdserverpb.ResponseHeader
			err       error
		)
		instances, at, err = i.read(ctx, keys)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			failures++
			i.fail(err)
			// Attempts that waited for their whole timeout follow each other
			// at once, so that one is always waiting for the connection;
			// one that failed fast waits out the rest of the backoff.
			if !sleep(ctx, i.backoff(failures)-time.Since(start)) {
				return
			}
			continue
		}
		failures = 0
		i.b.Update(discovery.Event{Instances: slices.Collect(maps.Values(instances))})
		err = i.watch(ctx, keys, instances, at)
		if ctx.Err() != nil {
			return
		}
		if !errors.Is(err, errResync) {
			failures++
			i.fail(err)
			if !sleep(ctx, i.backoff(failures)) {
				return
			}
		}
	}
}

// fail sends an event with the last good instances and err.
func (i *Instancer) fail(err error) {
	state, _ := i.b.State()
	i.b.Update(discovery.Event{Instances: state.Instances, Err: fmt.Errorf("etcd: watching %q: %w", i.service, err)})
}

// read returns the instances under keys by key, and the header of the
// read, with its revision.
func (i *Instancer) read(ctx context.Context, keys string) (map[string]string, *etcdserverpb.ResponseHeader, error) {
	rctx, cancel := context.WithTimeout(clientv3.WithRequireLeader(ctx), i.timeout)
	defer cancel()
	resp, err := i.client.Get(rctx, keys, clientv3.WithPrefix())
	if err != nil {
		return nil, nil, err
	}
	instances := make(map[string]string, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		if addr, ok := instanceAddr(kv.Value); ok {
			instances[string(kv.Key)] = addr
		}
	}
	return instances, resp.Header, nil
}

// watch follows the changes under keys after the revision of the read at,
// applying them to instances and sending every new set, until the watch
// fails, a probe finds etcd away, or ctx ends. It returns errResync when
// the watch must start again from a fresh read.
func (i *Instancer) watch(ctx context.Context, keys string, instances map[string]string, at *etcdserverpb.ResponseHeader) error {
	rev := at.GetRevision()
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	// Watch blocks until the client has a watch stream, which it opens
	// only once etcd answers: bound the wait as a request's.
	opened := time.AfterFunc(i.timeout, cancel)
	wch := i.client.Watch(wctx, keys, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
	if !opened.Stop() {
		return fmt.Errorf("opening a watch: %w", context.DeadlineExceeded)
	}
	probe := time.NewTimer(i.probe)
	defer probe.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case resp, ok := <-wch:
			if !ok {
				return errors.New("the watch ended")
			}
			if err := resp.Err(); err != nil {
				if errors.Is(err, rpctypes.ErrCompacted) {
					return errResync
				}
				return err
			}
			for _, ev := range resp.Events {
				key := string(ev.Kv.Key)
				addr, ok := instanceAddr(ev.Kv.Value)
				if ev.Type == mvccpb.PUT && ok {
					instances[key] = addr
				} else {
					delete(instances, key)
				}
			}
			rev = max(rev, resp.Header.GetRevision())
			i.b.Update(discovery.Event{Instances: slices.Collect(maps.Values(instances))})
			probe.Reset(i.probe)
		case <-probe.C:
			now, err := i.probeHeader(ctx, keys)
			if err != nil {
				return fmt.Errorf("probing etcd: %w", err)
			}
			if now.GetClusterId() != at.GetClusterId() || now.GetRevision() < rev {
				// Another cluster behind the same address, or one that lost
				// its data: the watch waits for revisions that may never
				// come.
				return errResync
			}
			probe.Reset(i.probe)
		}
	}
}

// probeHeader returns the header of a read that needs a leader and
// returns no keys: the cluster's ID and current revision.
func (i *Instancer) probeHeader(ctx context.Context, keys string) (*etcdserverpb.ResponseHeader, error) {
	rctx, cancel := context.WithTimeout(clientv3.WithRequireLeader(ctx), i.timeout)
	defer cancel()
	resp, err := i.client.Get(rctx, keys, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return nil, err
	}
	return resp.Header, nil
}

// backoff returns the delay after the given number of consecutive failures:
// min doubled per failure up to max, then drawn from its upper half.
func (i *Instancer) backoff(failures int) time.Duration {
	return jitter(i.minBackoff, i.maxBackoff, failures)
}
