package consul

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/typedkit/kit/discovery"
)

// A Service describes the instance a [Registrar] registers.
type Service struct {
	// ID identifies the instance on its agent. The default is
	// Name + "-" + the instance's host:port.
	ID string
	// Name is the service's name, which clients look it up by. Required.
	Name string
	// Tags and Meta are published with the instance; an Instancer can
	// select instances by tag.
	Tags []string
	Meta map[string]string
	// Address is the host or IP clients reach the instance at, without a
	// port or brackets ("10.0.0.7", "2001:db8::7"). Empty means the agent's
	// node address.
	Address string
	// Port is the port clients reach the instance at, 1 to 65535.
	Port int
	// Check is the instance's health check. Without one, Consul reports the
	// instance healthy for as long as its agent is.
	Check *Check
	// TLS marks an instance that serves TLS: it is registered with the tag
	// TagTLS, which an Instancer selects with Tags(TagTLS), and the meta
	// key MetaTLS set to "true", for clients that read the catalog; an
	// HTTP check of it must use an https URL.
	TLS bool
}

// TagTLS and MetaTLS are the tag and meta key of an instance registered
// with Service.TLS.
const (
	TagTLS  = "tls"
	MetaTLS = "tls"
)

// A Check is the health check of a [Service]: exactly one of HTTP, GRPC and
// TTL is set.
type Check struct {
	// HTTP is a URL the agent GETs every Interval; a 2xx answer passes, 429
	// warns, anything else fails.
	HTTP string
	// GRPC is the host:port (optionally /service) the agent asks with the
	// standard gRPC health protocol every Interval.
	GRPC string
	// GRPCUseTLS makes the gRPC check use TLS.
	GRPCUseTLS bool
	// TLSServerName is the name the agent verifies in the certificate of an
	// https or TLS gRPC check, when it is not the host of the check's
	// address (an instance reached by IP with a certificate for a DNS
	// name).
	TLSServerName string
	// TLSSkipVerify makes the agent skip verifying the certificate of an
	// https or TLS gRPC check: for instances whose CA the agent does not
	// trust. The check still uses TLS.
	TLSSkipVerify bool
	// Interval is how often the agent runs an HTTP or gRPC check; the
	// default is 10s and Consul's minimum is 1s.
	Interval time.Duration
	// Timeout bounds one HTTP or gRPC check; the default is Consul's (10s).
	Timeout time.Duration

	// TTL makes it a check that the instance itself reports: it fails
	// unless renewed within TTL. The Registrar renews it every Heartbeat
	// while the instance is registered.
	TTL time.Duration
	// Heartbeat is how often the Registrar renews a TTL check; the default
	// is TTL/3.
	Heartbeat time.Duration

	// DeregisterCriticalAfter makes the agent remove the instance once its
	// check has failed for this long (Consul's minimum is one minute). Zero
	// keeps a failing instance registered.
	DeregisterCriticalAfter time.Duration
}

// A RegistrarOption configures a [Registrar].
type RegistrarOption func(*Registrar)

// RegistrarLogger sets the logger for failed TTL renewals. The default is
// slog.Default().
func RegistrarLogger(logger *slog.Logger) RegistrarOption {
	return func(r *Registrar) { r.logger = logger }
}

// A Registrar registers one instance with a Consul agent. It implements
// [discovery.Registrar].
//
// For a TTL check it renews the check in the background while the instance
// is registered; if the agent has lost the registration (an agent restarted
// without its data), it registers the instance again.
type Registrar struct {
	client  *api.Client
	reg     *api.AgentServiceRegistration
	checkID string
	beat    time.Duration // 0 unless the check is a TTL
	logger  *slog.Logger

	mu   sync.Mutex
	stop context.CancelFunc // stops the heartbeat; nil when none runs
	done chan struct{}
}

var _ discovery.Registrar = (*Registrar)(nil)

// NewRegistrar returns a Registrar for s on the agent client talks to. It
// registers nothing until Register is called. It returns an error that
// names the field when s is not valid.
func NewRegistrar(client *api.Client, s Service, opts ...RegistrarOption) (*Registrar, error) {
	if client == nil {
		return nil, errors.New("consul: NewRegistrar with a nil client")
	}
	reg, err := s.registration()
	if err != nil {
		return nil, err
	}
	r := &Registrar{client: client, reg: reg}
	if reg.Check != nil {
		r.checkID = reg.Check.CheckID
		if s.Check.TTL > 0 {
			r.beat = s.Check.Heartbeat
			if r.beat <= 0 {
				r.beat = s.Check.TTL / 3
			}
		}
	}
	for _, o := range opts {
		o(r)
	}
	if r.logger == nil {
		r.logger = slog.Default()
	}
	return r, nil
}

// ID returns the instance's service ID.
func (r *Registrar) ID() string { return r.reg.ID }

// Register registers the instance with the agent. With a TTL check it then
// marks the check passing and starts renewing it. Registering again updates
// the registration.
func (r *Registrar) Register(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.register(ctx); err != nil {
		return err
	}
	if r.beat > 0 && r.stop == nil {
		hctx, cancel := context.WithCancel(context.Background())
		r.stop, r.done = cancel, make(chan struct{})
		go r.heartbeat(hctx, r.done)
	}
	return nil
}

func (r *Registrar) register(ctx context.Context) error {
	opts := api.ServiceRegisterOpts{ReplaceExistingChecks: true}.WithContext(ctx)
	if err := r.client.Agent().ServiceRegisterOpts(r.reg, opts); err != nil {
		return fmt.Errorf("consul: registering %s: %w", r.reg.ID, err)
	}
	if r.beat > 0 {
		if err := r.pass(ctx); err != nil {
			return fmt.Errorf("consul: passing the TTL check of %s: %w", r.reg.ID, err)
		}
	}
	return nil
}

func (r *Registrar) pass(ctx context.Context) error {
	q := (&api.QueryOptions{}).WithContext(ctx)
	return r.client.Agent().UpdateTTLOpts(r.checkID, "", api.HealthPassing, q)
}

// heartbeat renews the TTL check until ctx ends.
func (r *Registrar) heartbeat(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(r.beat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := r.pass(ctx)
		var se api.StatusError
		if errors.As(err, &se) && se.Code == http.StatusNotFound {
			// The agent no longer knows the check: register again.
			err = r.register(ctx)
		}
		if err != nil && ctx.Err() == nil {
			r.logger.LogAttrs(ctx, slog.LevelWarn, "consul: renewing the TTL check failed",
				slog.String("service_id", r.reg.ID), slog.String("error", err.Error()))
		}
	}
}

// Deregister stops renewing a TTL check and removes the instance from the
// agent, so clients stop picking it. Call it before the server stops
// answering. Deregistering an instance the agent does not know is not an
// error.
func (r *Registrar) Deregister(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stop != nil {
		r.stop()
		<-r.done
		r.stop, r.done = nil, nil
	}
	q := (&api.QueryOptions{}).WithContext(ctx)
	err := r.client.Agent().ServiceDeregisterOpts(r.reg.ID, q)
	var se api.StatusError
	if errors.As(err, &se) && se.Code == http.StatusNotFound {
		return nil
	}
	if err != nil {
		return fmt.Errorf("consul: deregistering %s: %w", r.reg.ID, err)
	}
	return nil
}

// registration validates s and returns the agent's form of it.
func (s Service) registration() (*api.AgentServiceRegistration, error) {
	if s.Name == "" {
		return nil, errors.New("consul: Service.Name is required")
	}
	if err := validName("Service.Name", s.Name); err != nil {
		return nil, err
	}
	if s.Port < 1 || s.Port > 65535 {
		return nil, fmt.Errorf("consul: Service.Port %d is not in 1..65535", s.Port)
	}
	if s.Address != "" {
		if strings.ContainsAny(s.Address, "[]/ ") {
			return nil, fmt.Errorf("consul: Service.Address %q must be a bare host or IP, without brackets, port or path", s.Address)
		}
		if _, _, err := net.SplitHostPort(s.Address); err == nil {
			return nil, fmt.Errorf("consul: Service.Address %q must not include a port; set Service.Port", s.Address)
		}
	}
	id := s.ID
	if id == "" {
		host := s.Address
		if host == "" {
			host = "agent"
		}
		id = s.Name + "-" + net.JoinHostPort(host, strconv.Itoa(s.Port))
	}
	if err := validName("Service.ID", id); err != nil {
		return nil, err
	}
	tags, meta := s.Tags, s.Meta
	if s.TLS {
		if v, ok := meta[MetaTLS]; ok && v != "true" {
			return nil, fmt.Errorf("consul: Service.TLS is set but Service.Meta[%q] is %q", MetaTLS, v)
		}
		meta = maps.Clone(meta)
		if meta == nil {
			meta = map[string]string{}
		}
		meta[MetaTLS] = "true"
		if !slices.Contains(tags, TagTLS) {
			tags = append(slices.Clone(tags), TagTLS)
		}
		if s.Check != nil && s.Check.HTTP != "" && !strings.HasPrefix(s.Check.HTTP, "https://") {
			return nil, fmt.Errorf("consul: Service.TLS is set but Check.HTTP %q is not an https URL", s.Check.HTTP)
		}
	}
	reg := &api.AgentServiceRegistration{
		ID:      id,
		Name:    s.Name,
		Tags:    tags,
		Meta:    meta,
		Address: s.Address,
		Port:    s.Port,
	}
	if s.Check != nil {
		check, err := s.Check.agentCheck("service:" + id)
		if err != nil {
			return nil, err
		}
		reg.Check = check
	}
	return reg, nil
}

func validName(field, v string) error {
	if strings.ContainsAny(v, "/?#% \t\n") {
		return fmt.Errorf("consul: %s %q must not contain '/', '?', '#', '%%' or spaces", field, v)
	}
	return nil
}

func (c *Check) agentCheck(id string) (*api.AgentServiceCheck, error) {
	kinds := 0
	for _, set := range []bool{c.HTTP != "", c.GRPC != "", c.TTL != 0} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return nil, errors.New("consul: a Check needs exactly one of HTTP, GRPC and TTL")
	}
	if c.DeregisterCriticalAfter < 0 {
		return nil, fmt.Errorf("consul: Check.DeregisterCriticalAfter %v is negative", c.DeregisterCriticalAfter)
	}
	out := &api.AgentServiceCheck{CheckID: id, Name: id}
	if c.DeregisterCriticalAfter > 0 {
		out.DeregisterCriticalServiceAfter = c.DeregisterCriticalAfter.String()
	}
	if c.TTL != 0 {
		if c.TLSServerName != "" || c.TLSSkipVerify {
			return nil, errors.New("consul: a TTL check has no TLS: Check.TLSServerName and Check.TLSSkipVerify are for HTTP and gRPC checks")
		}
		if c.TTL < 0 || c.Heartbeat < 0 {
			return nil, fmt.Errorf("consul: Check.TTL %v and Check.Heartbeat %v must be positive", c.TTL, c.Heartbeat)
		}
		if c.Heartbeat >= c.TTL {
			return nil, fmt.Errorf("consul: Check.Heartbeat %v must be shorter than Check.TTL %v", c.Heartbeat, c.TTL)
		}
		out.TTL = c.TTL.String()
		return out, nil
	}
	if c.Interval < 0 || c.Timeout < 0 {
		return nil, fmt.Errorf("consul: Check.Interval %v and Check.Timeout %v must not be negative", c.Interval, c.Timeout)
	}
	interval := c.Interval
	if interval == 0 {
		interval = 10 * time.Second
	}
	out.Interval = interval.String()
	if c.Timeout > 0 {
		out.Timeout = c.Timeout.String()
	}
	if c.HTTP != "" {
		u, err := url.Parse(c.HTTP)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("consul: Check.HTTP %q is not an absolute http or https URL", c.HTTP)
		}
		if (c.TLSServerName != "" || c.TLSSkipVerify) && u.Scheme != "https" {
			return nil, fmt.Errorf("consul: Check.TLSServerName and Check.TLSSkipVerify need an https Check.HTTP, not %q", c.HTTP)
		}
		out.HTTP = c.HTTP
		out.TLSServerName, out.TLSSkipVerify = c.TLSServerName, c.TLSSkipVerify
		return out, nil
	}
	if (c.TLSServerName != "" || c.TLSSkipVerify) && !c.GRPCUseTLS {
		return nil, errors.New("consul: Check.TLSServerName and Check.TLSSkipVerify of a gRPC check need Check.GRPCUseTLS")
	}
	out.GRPC = c.GRPC
	out.GRPCUseTLS = c.GRPCUseTLS
	out.TLSServerName, out.TLSSkipVerify = c.TLSServerName, c.TLSSkipVerify
	return out, nil
}
