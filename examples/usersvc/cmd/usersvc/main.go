// Command usersvc serves the example user service over HTTP and gRPC, and
// its methods as MCP tools at /mcp, with production defaults: panic recovery, metrics of every request (also those
// refused before an endpoint) and traces, a timeout, a rate limit and an
// adaptive circuit breaker around every endpoint of each transport, bearer
// tokens on the write methods checked before a request body is read,
// Prometheus metrics at /metrics, /livez and /readyz, server limits that a
// slow or idle client cannot hold open, and a shutdown that reports not
// ready, drains and exits 0.
//
//	go run ./examples/usersvc/cmd/usersvc -dev
//	curl -s localhost:8080/users -H 'Content-Type: application/json' -d '{"name":"Ada","email":"ada@example.com"}'
//
// Outside -dev it needs -auth.secret (at least 32 bytes): the write methods
// are never open by accident. With -tls.cert and -tls.key both transports
// serve TLS (reloading the files when they change); -tls.client-ca adds
// mutual TLS: the service's methods then need a client certificate from
// that CA (with -tls.allow, one naming an allowed DNS or URI SAN), while
// /livez, /readyz, /metrics and the gRPC health service stay open to probes
// without one. With -consul.addr it registers itself in
// Consul with a health check on /readyz, and with -etcd.addr in etcd under
// a lease it keeps alive; either way it deregisters on SIGINT or SIGTERM
// before it drains.
//
// With -mcp.stdio it serves only the MCP tools, on stdin and stdout, for a
// local agent that starts it; it logs to stderr and exits when stdin
// closes.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/hashicorp/consul/api"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	clientv3 "go.etcd.io/etcd/client/v3"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.uber.org/zap"
	"golang.org/x/time/rate"
	"google.golang.org/grpc"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/auth"
	"github.com/typedkit/kit/breaker"
	"github.com/typedkit/kit/discovery"
	"github.com/typedkit/kit/discovery/consul"
	"github.com/typedkit/kit/discovery/etcd"
	"github.com/typedkit/kit/examples/usersvc"
	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/health"
	"github.com/typedkit/kit/httpx"
	"github.com/typedkit/kit/limit"
	"github.com/typedkit/kit/mcpx"
	"github.com/typedkit/kit/observe"
	"github.com/typedkit/kit/tlsx"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "usersvc:", err)
		os.Exit(1)
	}
}

type config struct {
	httpAddr, grpcAddr, consulAddr, name string
	etcdAddrs                            []string
	timeout, drain, readyDelay           time.Duration
	rps                                  float64
	burst, streams                       int
	authSecret                           string
	printToken, dev, mcpStdio            bool
	logLevel                             slog.Level
	tlsCert, tlsKey, tlsClientCA         string
	tlsAllow                             []string
}

// minSecret is the shortest -auth.secret: the size of HS256's hash (RFC
// 7518 §3.2).
const minSecret = 32

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("usersvc", flag.ContinueOnError)
	fs.StringVar(&c.httpAddr, "http.addr", "127.0.0.1:8080", "HTTP listen address")
	fs.StringVar(&c.grpcAddr, "grpc.addr", "127.0.0.1:8081", "gRPC listen address (empty: no gRPC)")
	fs.StringVar(&c.consulAddr, "consul.addr", "", "Consul agent address, such as 127.0.0.1:8500 (empty: no registration)")
	etcdAddr := fs.String("etcd.addr", "", "etcd endpoints, comma-separated, such as 127.0.0.1:2379 (empty: no registration; not with -consul.addr)")
	fs.StringVar(&c.name, "service.name", "usersvc", "service name in Consul or etcd")
	fs.DurationVar(&c.timeout, "timeout", 5*time.Second, "deadline of each call")
	fs.DurationVar(&c.readyDelay, "shutdown.delay", 5*time.Second, "how long /readyz answers 503, while serving, before the listeners close at shutdown (0 with -dev)")
	fs.DurationVar(&c.drain, "drain", 10*time.Second, "longest wait for in-flight calls at shutdown; connections still open then are closed")
	fs.Float64Var(&c.rps, "rate", 1000, "calls per second allowed for each method on each transport")
	fs.IntVar(&c.burst, "burst", 200, "burst of calls allowed above the rate")
	fs.IntVar(&c.streams, "streams", 1000, "most streams (watches, imports) open at once on each transport")
	fs.StringVar(&c.authSecret, "auth.secret", "", "HS256 secret, at least 32 bytes, of the bearer tokens the write methods require (required unless -dev)")
	fs.BoolVar(&c.printToken, "auth.print-token", false, "print a bearer token for -auth.secret, valid for an hour, and exit")
	fs.BoolVar(&c.mcpStdio, "mcp.stdio", false, "serve only the MCP tools, on stdin and stdout, for a local agent (no listeners)")
	fs.BoolVar(&c.dev, "dev", false, "development mode: writes open without -auth.secret, no shutdown delay, every call logged")
	fs.StringVar(&c.tlsCert, "tls.cert", "", "PEM certificate (and intermediates) to serve TLS with on both ports, reloaded when it changes (needs -tls.key)")
	fs.StringVar(&c.tlsKey, "tls.key", "", "PEM private key of -tls.cert")
	fs.StringVar(&c.tlsClientCA, "tls.client-ca", "", "PEM bundle of the CAs whose client certificates may call the service's methods: mutual TLS (needs -tls.cert)")
	allow := fs.String("tls.allow", "", "comma-separated DNS or URI SANs (such as spiffe://example.org/ns/prod/*) a client certificate must hold (needs -tls.client-ca; empty: any it verifies)")
	level := fs.String("log.level", "", "least level logged: debug, info (every call), warn (default: rejected requests and faults) or error")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if c.dev && !set["shutdown.delay"] {
		c.readyDelay = 0
	}
	switch {
	case *level != "":
		if err := c.logLevel.UnmarshalText([]byte(*level)); err != nil {
			return c, fmt.Errorf("-log.level: %w", err)
		}
	case c.dev:
		c.logLevel = slog.LevelInfo
	default:
		c.logLevel = slog.LevelWarn
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return c, fmt.Errorf("-tls.cert and -tls.key go together")
	}
	if c.tlsClientCA != "" && c.tlsCert == "" {
		return c, fmt.Errorf("-tls.client-ca needs -tls.cert and -tls.key")
	}
	if *allow != "" {
		if c.tlsClientCA == "" {
			return c, fmt.Errorf("-tls.allow needs -tls.client-ca")
		}
		for _, a := range strings.Split(*allow, ",") {
			if a = strings.TrimSpace(a); a != "" {
				c.tlsAllow = append(c.tlsAllow, a)
			}
		}
	}
	for _, a := range strings.Split(*etcdAddr, ",") {
		if a = strings.TrimSpace(a); a != "" {
			c.etcdAddrs = append(c.etcdAddrs, a)
		}
	}
	if c.consulAddr != "" && len(c.etcdAddrs) > 0 {
		return c, fmt.Errorf("-consul.addr and -etcd.addr: register in one registry, not both")
	}
	if c.authSecret != "" && len(c.authSecret) < minSecret {
		return c, fmt.Errorf("-auth.secret has %d bytes; it needs at least %d (try: openssl rand -hex 32)", len(c.authSecret), minSecret)
	}
	if c.authSecret == "" && !c.dev && !c.printToken {
		return c, fmt.Errorf("the write methods need -auth.secret (at least %d bytes; try: openssl rand -hex 32); run with -dev to leave them open", minSecret)
	}
	return c, nil
}

// interceptors is the stack of every method of one transport, outermost
// first: logging sees every outcome (at Info for successes, so -log.level
// warn keeps only failures), recovery turns panics into Internal errors,
// metrics and traces record every call, the limiter and the breaker reject
// before any work, and the timeout bounds the work itself (streams are
// bounded by their number instead, and by the transports' idle timeouts,
// so that a healthy long watch is never cut). Each method gets
// a limiter and a breaker of its own, so a flood of one method or the
// failures of another leave the rest alone; each call of interceptors makes
// new ones, so each transport has its own budget.
func interceptors(logger *slog.Logger, c config, meters metric.MeterProvider) []kit.Interceptor {
	perMethodLimit := func(call kit.Call, next kit.Invoker) kit.Invoker {
		return limit.Erroring(rate.NewLimiter(rate.Limit(c.rps), c.burst))(call, next)
	}
	return []kit.Interceptor{
		kit.Logging(logger),
		kit.Recover(logger),
		observe.Tracing(),
		observe.Metrics(observe.MeterProvider(meters)),
		perMethodLimit,
		limit.Streams(c.streams),
		breaker.Adaptive(),
		kit.Timeout(c.timeout),
	}
}

// version is the version of the service the MCP server reports.
const version = "1.0.0"

// publicMethod reports whether a method of the service is a read, which
// needs no token.
func publicMethod(method string) bool {
	return method == "GetUser" || method == "ListUsers" || method == "WatchUsers"
}

// bearerOnWrites returns the interceptor that asks the write methods for a
// bearer token that v verifies, for the MCP tools, which have no guards of
// their own: the reads stay open, as over HTTP and gRPC.
func bearerOnWrites(v *auth.Verifier[*jwt.RegisteredClaims]) kit.Interceptor {
	bearer := auth.Bearer(v)
	return func(call kit.Call, next kit.Invoker) kit.Invoker {
		if publicMethod(call.Method) {
			return next
		}
		return bearer(call, next)
	}
}

// publicGRPC reports whether a gRPC method is a read, which needs no token.
func publicGRPC(fullMethod string) bool {
	service, method, ok := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	return ok && service == usersvc.GRPCServiceName && publicMethod(method)
}

// publicHTTP reports whether an HTTP request is a read, which needs no
// token.
func publicHTTP(r *http.Request) bool {
	return r.Method == http.MethodGet || r.Method == http.MethodHead
}

// tokenIssuer and tokenAudience are the iss and aud of the example's
// tokens.
const (
	tokenIssuer   = "usersvc"
	tokenAudience = "usersvc"
)

// tokenLifetime is the longest validity of a token the service accepts.
const tokenLifetime = 24 * time.Hour

// newToken returns a bearer token signed with secret, valid for ttl.
func newToken(secret string, ttl time.Duration) (string, error) {
	now := time.Now()
	return jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{
		Issuer: tokenIssuer, Audience: jwt.ClaimStrings{tokenAudience}, Subject: "admin",
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}).SignedString([]byte(secret))
}

func run(ctx context.Context, args []string, logOut *os.File) error {
	c, err := parseFlags(args)
	if err != nil {
		return err
	}
	if c.printToken {
		if c.authSecret == "" {
			return fmt.Errorf("-auth.print-token needs -auth.secret")
		}
		token, err := newToken(c.authSecret, time.Hour)
		if err != nil {
			return err
		}
		fmt.Println(token)
		return nil
	}
	// logger tells the service's life (serving, draining, stopped);
	// calls logs requests at -log.level.
	logger := slog.New(slog.NewTextHandler(logOut, nil))
	calls := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: c.logLevel}))
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Metrics go to Prometheus through the OpenTelemetry exporter.
	registry := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(registry))
	if err != nil {
		return err
	}
	meters := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	defer func() { _ = meters.Shutdown(context.Background()) }()

	// Authentication runs in the transports' guards, before a request is
	// read: an unauthenticated write is answered 401 whatever it sent.
	var httpGuards []httpx.GuardFunc
	var grpcGuards []grpcx.GuardFunc
	var mcpAuth []kit.Interceptor
	if c.authSecret != "" {
		verifier, err := auth.NewVerifier[jwt.RegisteredClaims]([]string{"HS256"}, auth.StaticKey([]byte(c.authSecret)),
			auth.VerifierIssuer(tokenIssuer), auth.VerifierAudience(tokenAudience), auth.VerifierRealm("usersvc"), auth.VerifierMaxLifetime(tokenLifetime))
		if err != nil {
			return err
		}
		httpGuards = append(httpGuards, auth.HTTPGuard(verifier, publicHTTP))
		grpcGuards = append(grpcGuards, auth.GRPCGuard(verifier, publicGRPC))
		mcpAuth = append(mcpAuth, bearerOnWrites(verifier))
	} else {
		logger.Warn("-dev without -auth.secret: the write methods are open to anyone")
	}

	// TLS on both ports; with a client CA, the service's methods need a
	// verified client certificate, checked before the bearer token.
	// Probes reach /livez and /readyz without one.
	var certs *tlsx.Server
	var grpcServerOpts []grpc.ServerOption
	if c.tlsCert != "" {
		files := tlsx.ServerFiles{Cert: c.tlsCert, Key: c.tlsKey, ClientCA: c.tlsClientCA}
		if c.tlsClientCA != "" {
			files.ClientAuth = tls.VerifyClientCertIfGiven
		}
		if certs, err = tlsx.NewServer(files); err != nil {
			return err
		}
		grpcServerOpts = append(grpcServerOpts, grpcx.ServerTLS(certs))
		if c.tlsClientCA != "" {
			peers, err := auth.NewPeerAuthorizer(auth.PeerPolicy{AnyVerified: len(c.tlsAllow) == 0, DNSNames: dnsNames(c.tlsAllow), URIs: uris(c.tlsAllow)})
			if err != nil {
				return fmt.Errorf("-tls.allow: %w", err)
			}
			httpGuards = append([]httpx.GuardFunc{auth.HTTPPeerGuard(peers, nil)}, httpGuards...)
			grpcGuards = append([]grpcx.GuardFunc{auth.GRPCPeerGuard(peers, nil)}, grpcGuards...)
		}
	}

	store := usersvc.NewStore()
	errorHandler := kit.LogServerFaults(calls)
	// One health model for both transports: /livez and /readyz, and the
	// gRPC health service; Serve marks it draining at shutdown.
	svcHealth := new(health.Health)

	endpoints := usersvc.NewEndpoints(store, usersvc.Middlewares{})
	// The MCP tools go through the same stack, with the bearer token of
	// the write methods checked inside recovery and logging, before the
	// limiter spends any budget.
	mcpInterceptors := interceptors(calls, c, meters)
	mcpInterceptors = append(mcpInterceptors[:2:2], append(mcpAuth, mcpInterceptors[2:]...)...)
	tools := usersvc.NewMCPServer(endpoints, version,
		mcpx.ServerInterceptors(mcpInterceptors...),
		mcpx.ServerErrorHandler(errorHandler),
		mcpx.ServerBefore(mcpx.AuthorizationToContext()))
	if c.mcpStdio {
		logger.Info("serving MCP on stdin and stdout")
		if err := tools.Run(ctx, &mcp.StdioTransport{}); err != nil && ctx.Err() == nil {
			return err
		}
		return nil
	}

	mux := http.NewServeMux()
	svcHealth.Register(mux)
	mux.Handle("/mcp", mcpx.Handler(tools))
	mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /{$}", usersvc.ServeLivePage)
	usersvc.RegisterHTTP(mux, endpoints,
		httpx.ServerInterceptors(interceptors(calls, c, meters)...),
		httpx.ServerErrorHandler(errorHandler),
		httpx.ServerBefore(observe.HTTPToContext()),
		httpx.ServerGuard(httpGuards...),
		httpx.ServerFinalizer(observe.HTTPServerMetrics(observe.MeterProvider(meters))))
	httpLis, err := net.Listen("tcp", c.httpAddr)
	if err != nil {
		return err
	}
	logger.Info("serving HTTP", "addr", httpLis.Addr().String(), "dev", c.dev, "tls", certs != nil, "mtls", c.tlsClientCA != "")
	serveOpts := []httpx.ServeOption{httpx.ServeHealth(svcHealth), httpx.ServeReadinessDelay(c.readyDelay), httpx.ServeDrainTimeout(c.drain),
		httpx.ServeLogger(logger)}
	if certs != nil {
		serveOpts = append(serveOpts, httpx.ServeTLS(certs))
	}
	errc := make(chan error, 2)
	servers := 1
	go func() {
		// httpx.Serve gives the server its limits: header, body, write and
		// idle timeouts and a 64 KiB header limit.
		errc <- httpx.Serve(ctx, &http.Server{Handler: httpx.RouteProblems(mux)}, httpLis, serveOpts...)
	}()

	if c.grpcAddr != "" {
		grpcLis, err := net.Listen("tcp", c.grpcAddr)
		if err != nil {
			return err
		}
		grpcSrv := grpcx.NewGRPCServer(grpcServerOpts...)
		usersvc.RegisterGRPC(grpcSrv, endpoints,
			grpcx.ServerInterceptors(interceptors(calls, c, meters)...),
			grpcx.ServerErrorHandler(errorHandler),
			grpcx.ServerBefore(observe.GRPCToContext()),
			grpcx.ServerGuard(grpcGuards...),
			grpcx.ServerFinalizer(observe.GRPCServerMetrics(observe.MeterProvider(meters))))
		grpcx.RegisterHealth(grpcSrv, svcHealth, grpcx.HealthServices(usersvc.GRPCServiceName))
		logger.Info("serving gRPC", "addr", grpcLis.Addr().String())
		servers++
		go func() {
			errc <- grpcx.Serve(ctx, grpcSrv, grpcLis, grpcx.ServeHealth(svcHealth),
				grpcx.ServeReadinessDelay(c.readyDelay), grpcx.ServeDrainTimeout(c.drain), grpcx.ServeLogger(logger))
		}()
	}

	deregistered := make(chan struct{})
	var (
		reg     discovery.Registrar
		regName string
		release = func() {} // closes the registry's client once deregistered
	)
	switch {
	case c.consulAddr != "":
		regName = "Consul"
		reg, err = register(ctx, c, httpLis.Addr().(*net.TCPAddr), certs != nil, logger)
	case len(c.etcdAddrs) > 0:
		regName = "etcd"
		reg, release, err = registerEtcd(ctx, c, httpLis.Addr().(*net.TCPAddr), logger)
	}
	if err != nil {
		stop()
		for range servers {
			<-errc
		}
		return err
	}
	if reg == nil {
		close(deregistered)
	} else {
		// Leave the registry as soon as the shutdown begins, so clients
		// stop picking this instance while it drains.
		go func() {
			defer close(deregistered)
			defer release()
			<-ctx.Done()
			dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := reg.Deregister(dctx); err != nil {
				logger.Warn("deregistering from "+regName, "error", err)
			} else {
				logger.Info("deregistered from " + regName)
			}
		}()
	}

	var first error
	for range servers {
		if err := <-errc; err != nil && first == nil {
			first = err
			stop() // one server failed: stop the other too
		}
	}
	<-deregistered
	logger.Info("stopped")
	return first
}

// dnsNames and uris split -tls.allow into DNS names and URIs (those with a
// scheme).
func dnsNames(allow []string) []string {
	var out []string
	for _, a := range allow {
		if !strings.Contains(a, "://") {
			out = append(out, a)
		}
	}
	return out
}

func uris(allow []string) []string {
	var out []string
	for _, a := range allow {
		if strings.Contains(a, "://") {
			out = append(out, a)
		}
	}
	return out
}

// register registers the HTTP listener in Consul with a check on /readyz,
// over TLS when the service serves it.
func register(ctx context.Context, c config, addr *net.TCPAddr, useTLS bool, logger *slog.Logger) (*consul.Registrar, error) {
	client, err := api.NewClient(&api.Config{Address: c.consulAddr})
	if err != nil {
		return nil, err
	}
	host := addr.IP.String()
	scheme := "http"
	if useTLS {
		scheme = "https"
	}
	reg, err := consul.NewRegistrar(client, consul.Service{
		Name:    c.name,
		Address: host,
		Port:    addr.Port,
		TLS:     useTLS,
		Check: &consul.Check{
			HTTP:                    scheme + "://" + net.JoinHostPort(host, strconv.Itoa(addr.Port)) + "/readyz",
			Interval:                time.Second,
			Timeout:                 time.Second,
			DeregisterCriticalAfter: time.Minute,
			// The agent reads only the status of /readyz; it need not
			// trust the service's CA.
			TLSSkipVerify: useTLS,
		},
	})
	if err != nil {
		return nil, err
	}
	if err := reg.Register(ctx); err != nil {
		return nil, fmt.Errorf("registering in Consul at %s: %w", c.consulAddr, err)
	}
	logger.Info("registered in Consul", "consul", c.consulAddr, "id", reg.ID())
	return reg, nil
}

// registerEtcd registers the HTTP listener in etcd, under a lease the
// registrar keeps alive until it deregisters, and returns the function
// that closes its client afterwards. etcd has no health checks: the
// instance leaves when it deregisters, or when its lease expires after a
// crash.
func registerEtcd(ctx context.Context, c config, addr *net.TCPAddr, logger *slog.Logger) (*etcd.Registrar, func(), error) {
	client, err := clientv3.New(clientv3.Config{
		Endpoints:   c.etcdAddrs,
		DialTimeout: 5 * time.Second,
		DialOptions: etcd.DialOptions(),
		// The registrar logs what the service's operator needs to know;
		// the client's own logs would repeat it while etcd is away.
		Logger: zap.NewNop(),
	})
	if err != nil {
		return nil, nil, err
	}
	reg, err := etcd.NewRegistrar(client, etcd.Service{Name: c.name, Address: addr.IP.String(), Port: addr.Port},
		etcd.RegistrarLogger(logger))
	if err == nil {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = reg.Register(rctx)
		cancel()
	}
	if err != nil {
		_ = client.Close()
		return nil, nil, fmt.Errorf("registering in etcd at %s: %w", strings.Join(c.etcdAddrs, ","), err)
	}
	logger.Info("registered in etcd", "etcd", strings.Join(c.etcdAddrs, ","), "key", reg.Key())
	return reg, func() { _ = client.Close() }, nil
}
