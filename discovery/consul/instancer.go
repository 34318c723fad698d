package consul

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/typedkit/kit/discovery"
)

// An InstancerOption configures an [Instancer].
type InstancerOption func(*Instancer)

// InstancerTags keeps only the instances that have every one of tags.
func InstancerTags(tags ...string) InstancerOption {
	return func(i *Instancer) { i.tags = append(i.tags, tags...) }
}

// InstancerDatacenter watches the service in datacenter dc instead of the agent's
// own.
func InstancerDatacenter(dc string) InstancerOption {
	return func(i *Instancer) { i.dc = dc }
}

// InstancerIncludeFailing reports instances whatever the state of their checks. By
// default only instances whose checks all pass are reported.
func InstancerIncludeFailing() InstancerOption {
	return func(i *Instancer) { i.passingOnly = false }
}

// InstancerWaitTime sets how long one blocking query waits for a change before the
// agent answers anyway. The default is one minute; Consul caps it at ten.
func InstancerWaitTime(d time.Duration) InstancerOption {
	return func(i *Instancer) {
		if d > 0 {
			i.wait = d
		}
	}
}

// InstancerBackoff sets the delays between attempts while the agent cannot be
// reached: the first is about initial, each next one twice as long up to
// limit, each drawn at random between half and all of its nominal value.
// The default is 100ms up to 1s, so that a watch sees an agent that comes
// back within a second of its first answer, at the cost of one attempt a
// second against an agent that stays away (the local agent, as a rule).
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

// An Instancer watches the healthy instances of one service in Consul and
// implements [discovery.Instancer]. Instances are "host:port", with the
// service's address (or its node's, when the service has none) joined to
// its port by net.JoinHostPort, so IPv6 addresses come out bracketed.
//
// It runs a blocking query against the agent's health endpoint, so a
// change reaches subscribers as soon as the agent knows it. When a query
// fails it sends an event with the last good instances and the error,
// retries with a jittered exponential backoff, and sends a good event again
// once the agent answers.
type Instancer struct {
	client      *api.Client
	service     string
	tags        []string
	dc          string
	passingOnly bool
	wait        time.Duration
	minBackoff  time.Duration
	maxBackoff  time.Duration

	b discovery.Broadcaster

	cancel   context.CancelFunc
	done     chan struct{}
	stopOnce sync.Once
}

var _ discovery.Instancer = (*Instancer)(nil)

// NewInstancer starts watching service through client and returns the
// Instancer. The first state follows as soon as the agent answers. Call
// Stop to end the watch.
func NewInstancer(client *api.Client, service string, opts ...InstancerOption) (*Instancer, error) {
	if client == nil {
		return nil, errors.New("consul: NewInstancer with a nil client")
	}
	if service == "" {
		return nil, errors.New("consul: NewInstancer needs a service name")
	}
	if err := validName("service name", service); err != nil {
		return nil, err
	}
	i := &Instancer{
		client:      client,
		service:     service,
		passingOnly: true,
		wait:        time.Minute,
		minBackoff:  100 * time.Millisecond,
		maxBackoff:  time.Second,
		done:        make(chan struct{}),
	}
	for _, o := range opts {
		o(i)
	}
	if i.maxBackoff < i.minBackoff {
		i.maxBackoff = i.minBackoff
	}
	ctx, cancel := context.WithCancel(context.Background())
	i.cancel = cancel
	go i.loop(ctx)
	return i, nil
}

// Register subscribes ch to the instancer's events; see [discovery.Instancer].
func (i *Instancer) Register(ch chan<- discovery.Event) { i.b.Register(ch) }

// Deregister unsubscribes ch.
func (i *Instancer) Deregister(ch chan<- discovery.Event) { i.b.Deregister(ch) }

// State returns the latest event, and false before the agent first
// answered or failed.
func (i *Instancer) State() (discovery.Event, bool) { return i.b.State() }

// Stop ends the watch, cancelling a blocking query in progress, and waits
// for it to finish. Subscribers receive nothing more.
func (i *Instancer) Stop() {
	i.stopOnce.Do(func() {
		i.cancel()
		<-i.done
	})
}

func (i *Instancer) loop(ctx context.Context) {
	defer close(i.done)
	var (
		index    uint64
		failures int
	)
	for {
		instances, last, err := i.query(ctx, index)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			state, _ := i.b.State()
			i.b.Update(discovery.Event{Instances: state.Instances, Err: fmt.Errorf("consul: watching %q: %w", i.service, err)})
			// The agent may come back with a different index (a new
			// cluster, a restored snapshot): ask afresh.
			index = 0
			failures++
			if !sleep(ctx, i.backoff(failures)) {
				return
			}
			continue
		}
		failures = 0
		switch {
		case last < index:
			index = 0 // the index went backwards: start over
		case last == 0:
			index = 1 // never block on index 0, which would answer at once
		default:
			index = last
		}
		i.b.Update(discovery.Event{Instances: instances})
	}
}

// query runs one blocking query for changes after index.
func (i *Instancer) query(ctx context.Context, index uint64) ([]string, uint64, error) {
	// Bound the query on the client side too, so that an agent that stops
	// answering without closing the connection cannot hold the watch.
	qctx, cancel := context.WithTimeout(ctx, i.wait+i.wait/16+10*time.Second)
	defer cancel()
	q := (&api.QueryOptions{
		Datacenter: i.dc,
		WaitIndex:  index,
		WaitTime:   i.wait,
	}).WithContext(qctx)
	entries, meta, err := i.client.Health().ServiceMultipleTags(i.service, i.tags, i.passingOnly, q)
	if err != nil {
		return nil, 0, err
	}
	instances := make([]string, 0, len(entries))
	for _, e := range entries {
		if e.Service == nil {
			continue
		}
		addr := e.Service.Address
		if addr == "" && e.Node != nil {
			addr = e.Node.Address
		}
		if addr == "" || e.Service.Port <= 0 {
			continue
		}
		instances = append(instances, net.JoinHostPort(addr, strconv.Itoa(e.Service.Port)))
	}
	return instances, meta.LastIndex, nil
}

// backoff returns the delay after the given number of consecutive failures:
// min doubled per failure up to max, then drawn from its upper half.
func (i *Instancer) backoff(failures int) time.Duration {
	d := i.minBackoff
	for n := 1; n < failures && d < i.maxBackoff; n++ {
		d *= 2
	}
	d = min(d, i.maxBackoff)
	return d/2 + rand.N(d/2+1)
}

// sleep waits for d or until ctx ends, and reports whether ctx is live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
