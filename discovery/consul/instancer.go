package consul

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
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
//
// An instance it reported whose checks have not run since their agent
// restarted (Consul shows them critical without output until their first
// run) stays in the set until they run, for at most their interval and
// timeout and a second: an agent's restart does not empty the set of
// instances that are fine. So does one the agent restores in the first
// ten seconds after it answers again. A new instance joins only once its
// checks pass.
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
		held     = map[string]time.Time{} // instances kept while their checks are pending, until when
		recheck  time.Time                // when the earliest hold ends, or zero
		before   []string                 // the set when the agent last stopped answering
		back     time.Time                // when it answered again
	)
	for {
		wait := i.wait
		if !recheck.IsZero() {
			wait = max(min(wait, time.Until(recheck)), time.Millisecond)
		}
		entries, last, err := i.query(ctx, index, wait)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			state, _ := i.b.State()
			if failures == 0 {
				before = state.Instances
			}
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
		if failures > 0 {
			back = time.Now()
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
		state, _ := i.b.State()
		known := state.Instances
		if time.Since(back) < recoveryWindow {
			// An agent that restarts restores its services one by one
			// after it answers: those it has not restored yet are still
			// known for a while.
			known = append(slices.Clip(known), before...)
		}
		var instances []string
		instances, recheck = i.pick(entries, known, held, time.Now())
		i.b.Update(discovery.Event{Instances: instances})
	}
}

// recoveryWindow is how long after the agent answers again the instances
// of the set it had before count as known to [Instancer.pick].
const recoveryWindow = 10 * time.Second

// query runs one blocking query for changes after index. With passingOnly
// it asks for every instance and leaves the filtering to pick, which
// needs the checks of those that do not pass.
func (i *Instancer) query(ctx context.Context, index uint64, wait time.Duration) ([]*api.ServiceEntry, uint64, error) {
	// Bound the query on the client side too, so that an agent that stops
	// answering without closing the connection cannot hold the watch.
	qctx, cancel := context.WithTimeout(ctx, wait+wait/16+10*time.Second)
	defer cancel()
	q := (&api.QueryOptions{
		Datacenter: i.dc,
		WaitIndex:  index,
		WaitTime:   wait,
	}).WithContext(qctx)
	entries, meta, err := i.client.Health().ServiceMultipleTags(i.service, i.tags, false, q)
	if err != nil {
		return nil, 0, err
	}
	return entries, meta.LastIndex, nil
}

// pick returns the instances of entries to report, given the instances it
// knows (prev: the last set reported and, just after an outage, the set
// before it), and when to look again at instances held for pending
// checks (zero if none is held).
//
// With passingOnly (the default) an instance is reported when all its
// checks pass, as Consul's own passing filter does, and also when it was
// in prev and every check that does not pass is pending: critical without
// any output, which is how an agent shows a check that has not run since
// it (re)started or since the check was (re)registered. Without this, an
// agent's restart would empty the set for up to a check interval while
// the instances are fine. A pending instance is held for at most its
// checks' interval and timeout and a second (see pendingFor), from when it
// was first seen pending; held is updated in place.
func (i *Instancer) pick(entries []*api.ServiceEntry, prev []string, held map[string]time.Time, now time.Time) ([]string, time.Time) {
	instances := make([]string, 0, len(entries))
	var recheck time.Time
	seen := make(map[string]bool, len(held))
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
		inst := net.JoinHostPort(addr, strconv.Itoa(e.Service.Port))
		if !i.passingOnly || e.Checks.AggregatedStatus() == api.HealthPassing {
			instances = append(instances, inst)
			continue
		}
		hold, pending := pendingFor(e.Checks)
		if !pending || !slices.Contains(prev, inst) {
			continue
		}
		until, ok := held[inst]
		if !ok {
			until = now.Add(hold)
			held[inst] = until
		}
		seen[inst] = true
		if now.Before(until) {
			instances = append(instances, inst)
			if recheck.IsZero() || until.Before(recheck) {
				recheck = until
			}
		}
	}
	for inst := range held {
		if !seen[inst] {
			delete(held, inst)
		}
	}
	return instances, recheck
}

// pendingFor reports whether every check of checks that does not pass is
// pending (critical, without output: it has not run yet) and at least one
// is, and how long to wait for the pending ones to run: the longest of
// their interval and timeout, and a second; ten seconds and a second for
// a check whose definition has neither, such as a TTL check.
func pendingFor(checks api.HealthChecks) (time.Duration, bool) {
	var hold time.Duration
	for _, c := range checks {
		if c.Status == api.HealthPassing {
			continue
		}
		if c.Status != api.HealthCritical || c.Output != "" ||
			c.CheckID == api.NodeMaint || strings.HasPrefix(c.CheckID, api.ServiceMaintPrefix) {
			return 0, false
		}
		d := c.Definition.IntervalDuration + c.Definition.TimeoutDuration
		if d == 0 {
			d = 10 * time.Second
		}
		hold = max(hold, d)
	}
	return hold + time.Second, hold > 0
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
