package etcd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/typedkit/kit/discovery"
)

// DefaultTTL is the TTL of a [Registrar]'s lease: how long the instance of
// a process that died without deregistering stays registered.
const DefaultTTL = 5 * time.Second

// A Service describes the instance a [Registrar] registers.
type Service struct {
	// Name is the service's name, which clients look it up by. Required.
	Name string
	// ID identifies the instance among the service's: the last segment of
	// its key. The default is the instance's host:port.
	ID string
	// Address is the host or IP clients reach the instance at, without a
	// port or brackets ("10.0.0.7", "2001:db8::7"). Required.
	Address string
	// Port is the port clients reach the instance at, 1 to 65535.
	Port int
}

// A RegistrarOption configures a [Registrar].
type RegistrarOption func(*Registrar)

// RegistrarPrefix sets the prefix of the key the instance is registered
// under, which the clients' [InstancerPrefix] must match. The default is
// [DefaultPrefix].
func RegistrarPrefix(prefix string) RegistrarOption {
	return func(r *Registrar) { r.prefix = prefix }
}

// RegistrarTTL sets the TTL of the lease the key is attached to, rounded up
// to whole seconds: if the process dies without deregistering, the instance
// leaves about this long after its last keepalive. etcd raises a TTL
// below its minimum (two seconds with its default timings). The default is
// [DefaultTTL].
func RegistrarTTL(ttl time.Duration) RegistrarOption {
	return func(r *Registrar) {
		if ttl > 0 {
			r.ttl = int64(math.Ceil(ttl.Seconds()))
		}
	}
}

// RegistrarLogger sets the logger for a lost lease and the registrations
// that follow. The default is slog.Default().
func RegistrarLogger(logger *slog.Logger) RegistrarOption {
	return func(r *Registrar) { r.logger = logger }
}

// A Registrar registers one instance in etcd and implements
// [discovery.Registrar]. The instance is the key
// <prefix>/<service name>/<instance ID>, whose value is the instance's
// host:port, attached to a lease that the Registrar keeps alive with the
// client's KeepAlive while the instance is registered. When a process dies
// without deregistering, its lease expires and etcd deletes the key.
//
// If the lease is lost while the process lives (etcd away for longer than
// the TTL, or restarted without its data), the Registrar registers the
// instance again with a new lease as soon as etcd answers, retrying with a
// jittered backoff of at most a second.
type Registrar struct {
	client *clientv3.Client
	prefix string
	key    string
	value  string
	ttl    int64 // seconds
	logger *slog.Logger

	mu         sync.Mutex         // serializes Register and Deregister
	registered bool               // a key of ours may be in etcd
	stop       context.CancelFunc // stops the keepalive; nil when none runs
	done       chan struct{}

	leaseMu sync.Mutex
	lease   clientv3.LeaseID // 0 while none is known
}

var _ discovery.Registrar = (*Registrar)(nil)

// NewRegistrar returns a Registrar for s in the etcd cluster client talks
// to. It registers nothing until Register is called. It returns an error
// that names the field when s is not valid.
func NewRegistrar(client *clientv3.Client, s Service, opts ...RegistrarOption) (*Registrar, error) {
	if client == nil {
		return nil, errors.New("etcd: NewRegistrar with a nil client")
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	r := &Registrar{
		client: client,
		prefix: DefaultPrefix,
		value:  net.JoinHostPort(s.Address, strconv.Itoa(s.Port)),
		ttl:    int64(DefaultTTL / time.Second),
	}
	for _, o := range opts {
		o(r)
	}
	if r.logger == nil {
		r.logger = slog.Default()
	}
	id := s.ID
	if id == "" {
		id = r.value
	}
	r.key = servicePrefix(r.prefix, s.Name) + id
	return r, nil
}

// Key returns the key the instance is registered under.
func (r *Registrar) Key() string { return r.key }

// Lease returns the lease the key is attached to, and 0 while the instance
// is not registered or is being registered again.
func (r *Registrar) Lease() clientv3.LeaseID {
	r.leaseMu.Lock()
	defer r.leaseMu.Unlock()
	return r.lease
}

func (r *Registrar) setLease(id clientv3.LeaseID) {
	r.leaseMu.Lock()
	r.lease = id
	r.leaseMu.Unlock()
}

// Register grants a lease, puts the instance's key attached to it and
// starts keeping the lease alive. It returns an error, and registers
// nothing, when etcd refuses or ctx ends first. Registering a registered
// instance does nothing.
func (r *Registrar) Register(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stop != nil {
		return nil
	}
	if err := r.client.Ctx().Err(); err != nil {
		return fmt.Errorf("etcd: registering %s: the client is closed: %w", r.key, err)
	}
	// The keepalive outlives ctx: it lasts until Deregister.
	kctx, cancel := context.WithCancel(context.Background())
	var (
		id    clientv3.LeaseID
		alive <-chan *clientv3.LeaseKeepAliveResponse
		err   error
	)
	id, alive, err = r.register(ctx, kctx)
	if err != nil {
		cancel()
		return fmt.Errorf("etcd: registering %s: %w", r.key, err)
	}
	r.registered = true
	r.setLease(id)
	r.stop, r.done = cancel, make(chan struct{})
	go r.keepAlive(kctx, alive, r.done)
	return nil
}

// register grants a lease within ctx, puts the key attached to it and
// starts its keepalive, which lasts as long as keep. On failure it revokes
// the lease it granted, if any.
func (r *Registrar) register(ctx, keep context.Context) (clientv3.LeaseID, <-chan *clientv3.LeaseKeepAliveResponse, error) {
	lease, err := r.client.Grant(ctx, r.ttl)
	if err != nil {
		return 0, nil, fmt.Errorf("granting a lease: %w", err)
	}
	if _, err = r.client.Put(ctx, r.key, r.value, clientv3.WithLease(lease.ID)); err == nil {
		var alive <-chan *clientv3.LeaseKeepAliveResponse
		if alive, err = r.client.KeepAlive(keep, lease.ID); err == nil {
			return lease.ID, alive, nil
		}
		err = fmt.Errorf("keeping the lease alive: %w", err)
	} else {
		err = fmt.Errorf("putting the key: %w", err)
	}
	rctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, _ = r.client.Revoke(rctx, lease.ID)
	return 0, nil, err
}

// keepAlive drains the keepalive responses of the lease until ctx ends, and
// registers the instance again whenever the lease is lost.
func (r *Registrar) keepAlive(ctx context.Context, alive <-chan *clientv3.LeaseKeepAliveResponse, done chan<- struct{}) {
	defer close(done)
	for {
		// The client closes the channel when ctx ends, when etcd reports
		// the lease gone, and when no keepalive was answered for a TTL.
		for range alive {
		}
		if ctx.Err() != nil {
			return
		}
		r.setLease(0)
		if r.client.Ctx().Err() != nil {
			r.logger.LogAttrs(ctx, slog.LevelWarn, "etcd: the client is closed: the registration is no longer kept alive",
				slog.String("key", r.key))
			return
		}
		r.logger.LogAttrs(ctx, slog.LevelWarn, "etcd: the lease of the registration was lost: registering again",
			slog.String("key", r.key))
		var ok bool
		if alive, ok = r.registerAgain(ctx); !ok {
			return
		}
	}
}

// registerAgain registers the instance with a new lease, retrying with a
// jittered backoff until it succeeds, ctx ends or the client is closed.
func (r *Registrar) registerAgain(ctx context.Context) (<-chan *clientv3.LeaseKeepAliveResponse, bool) {
	for failures := 1; ; failures++ {
		start := time.Now()
		var (
			id    clientv3.LeaseID
			alive <-chan *clientv3.LeaseKeepAliveResponse
			err   error
		)
		actx, cancel := context.WithTimeout(ctx, DefaultTimeout)
		id, alive, err = r.register(actx, ctx)
		cancel()
		if err == nil {
			r.setLease(id)
			r.logger.LogAttrs(ctx, slog.LevelInfo, "etcd: registered again",
				slog.String("key", r.key), slog.Int64("lease", int64(id)))
			return alive, true
		}
		if ctx.Err() != nil || r.client.Ctx().Err() != nil {
			return nil, false
		}
		level := slog.LevelDebug
		if failures == 1 {
			level = slog.LevelWarn
		}
		r.logger.LogAttrs(ctx, level, "etcd: registering again failed; retrying",
			slog.String("key", r.key), slog.String("error", err.Error()))
		if !sleep(ctx, jitter(100*time.Millisecond, time.Second, failures)-time.Since(start)) {
			return nil, false
		}
	}
}

// Deregister stops keeping the lease alive and revokes it, so that etcd
// deletes the key at once and clients stop picking the instance. Call it
// before the server stops answering. Deregistering an instance that is not
// registered is not an error. If etcd cannot be reached before ctx ends it
// returns the error, and the key leaves when its lease expires, within the
// TTL; calling Deregister again tries again.
func (r *Registrar) Deregister(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.registered {
		return nil
	}
	if r.stop != nil {
		r.stop()
		<-r.done
		r.stop, r.done = nil, nil
	}
	if err := r.client.Ctx().Err(); err != nil {
		// Nothing more can be done through this client, whose calls would
		// fail only after their retries.
		r.registered = false
		r.setLease(0)
		return fmt.Errorf("etcd: deregistering %s: the client is closed (the key leaves when its lease expires): %w", r.key, err)
	}
	if err := r.deregister(ctx); err != nil {
		return fmt.Errorf("etcd: deregistering %s: %w", r.key, err)
	}
	r.registered = false
	r.setLease(0)
	return nil
}

func (r *Registrar) deregister(ctx context.Context) error {
	if lease := r.Lease(); lease != 0 {
		_, err := r.client.Revoke(ctx, lease)
		if err == nil {
			return nil
		}
		if !errors.Is(err, rpctypes.ErrLeaseNotFound) {
			return fmt.Errorf("revoking its lease: %w", err)
		}
	}
	// No lease is known (Deregister came while registering again) or etcd
	// no longer has it: delete the key, in case a registration is still
	// under it.
	if _, err := r.client.Delete(ctx, r.key); err != nil {
		return fmt.Errorf("deleting its key: %w", err)
	}
	return nil
}

// validate returns an error that names the first field of s that is not
// valid.
func (s Service) validate() error {
	if s.Name == "" {
		return errors.New("etcd: Service.Name is required")
	}
	if err := validName("Service.Name", s.Name); err != nil {
		return err
	}
	if s.ID != "" {
		if err := validName("Service.ID", s.ID); err != nil {
			return err
		}
	}
	if s.Address == "" {
		return errors.New("etcd: Service.Address is required: etcd has no agent to take it from")
	}
	if strings.ContainsAny(s.Address, "[]/ \t\r\n") {
		return fmt.Errorf("etcd: Service.Address %q must be a bare host or IP, without brackets, port or path", s.Address)
	}
	if _, _, err := net.SplitHostPort(s.Address); err == nil {
		return fmt.Errorf("etcd: Service.Address %q must not include a port; set Service.Port", s.Address)
	}
	if s.Port < 1 || s.Port > 65535 {
		return fmt.Errorf("etcd: Service.Port %d is not in 1..65535", s.Port)
	}
	return nil
}
