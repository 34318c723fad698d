// Command usersvc serves the example user service over HTTP and gRPC, with
// logging, panic recovery, metrics and traces, a timeout, a rate limit and
// an adaptive circuit breaker around every endpoint, bearer tokens on the
// write methods when -auth.secret is set, Prometheus metrics at /metrics,
// and /livez and /readyz.
//
//	go run ./examples/usersvc/cmd/usersvc
//	curl -s localhost:8080/users -H 'Content-Type: application/json' -d '{"name":"Ada","email":"ada@example.com"}'
//
// With -consul.addr it registers itself in Consul with a health check on
// /readyz, and deregisters on SIGINT or SIGTERM before it drains.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/hashicorp/consul/api"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"golang.org/x/time/rate"
	"google.golang.org/grpc"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/auth"
	"github.com/typedkit/kit/breaker"
	"github.com/typedkit/kit/discovery/consul"
	"github.com/typedkit/kit/examples/usersvc"
	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/httpx"
	"github.com/typedkit/kit/limit"
	"github.com/typedkit/kit/observe"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "usersvc:", err)
		os.Exit(1)
	}
}

type config struct {
	httpAddr, grpcAddr, consulAddr, name string
	timeout, drain                       time.Duration
	rps                                  float64
	burst                                int
	authSecret                           string
	printToken                           bool
}

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("usersvc", flag.ContinueOnError)
	fs.StringVar(&c.httpAddr, "http.addr", "127.0.0.1:8080", "HTTP listen address")
	fs.StringVar(&c.grpcAddr, "grpc.addr", "127.0.0.1:8081", "gRPC listen address (empty: no gRPC)")
	fs.StringVar(&c.consulAddr, "consul.addr", "", "Consul agent address, such as 127.0.0.1:8500 (empty: no registration)")
	fs.StringVar(&c.name, "service.name", "usersvc", "service name in Consul")
	fs.DurationVar(&c.timeout, "timeout", 5*time.Second, "deadline of each call")
	fs.DurationVar(&c.drain, "drain", 10*time.Second, "longest wait for in-flight calls at shutdown")
	fs.Float64Var(&c.rps, "rate", 1000, "calls per second allowed for each endpoint")
	fs.IntVar(&c.burst, "burst", 200, "burst of calls allowed above the rate")
	fs.StringVar(&c.authSecret, "auth.secret", "", "HS256 secret of the bearer tokens the write methods require (empty: writes are open)")
	fs.BoolVar(&c.printToken, "auth.print-token", false, "print a bearer token for -auth.secret, valid for an hour, and exit")
	return c, fs.Parse(args)
}

// stack holds what the middlewares of every endpoint share.
type stack struct {
	logger   *slog.Logger
	c        config
	meters   metric.MeterProvider
	verifier *auth.Verifier[*jwt.RegisteredClaims] // nil: writes are open
}

// standard is the middleware stack of every endpoint, outermost first:
// logging sees every outcome, recovery turns panics into Internal errors,
// metrics and traces record every call, a write needs a bearer token, the
// limiter and the breaker reject before any work, and the timeout bounds
// the work itself.
func standard[Req, Resp any](s stack, name string, write bool) []kit.Middleware[Req, Resp] {
	mws := []kit.Middleware[Req, Resp]{
		kit.Logging[Req, Resp](s.logger, name),
		kit.Recover[Req, Resp](s.logger),
		observe.Middleware[Req, Resp](name, observe.WithMeterProvider(s.meters)),
	}
	if write && s.verifier != nil {
		mws = append(mws, auth.Bearer[Req, Resp](s.verifier))
	}
	return append(mws,
		limit.Erroring[Req, Resp](rate.NewLimiter(rate.Limit(s.c.rps), s.c.burst)),
		breaker.Adaptive[Req, Resp](),
		kit.Timeout[Req, Resp](s.c.timeout),
	)
}

func middlewares(s stack) usersvc.Middlewares {
	return usersvc.Middlewares{
		CreateUser: standard[usersvc.CreateUserRequest, usersvc.User](s, "CreateUser", true),
		GetUser:    standard[usersvc.GetUserRequest, usersvc.User](s, "GetUser", false),
		UpdateUser: standard[usersvc.UpdateUserRequest, usersvc.User](s, "UpdateUser", true),
		DeleteUser: standard[usersvc.DeleteUserRequest, usersvc.DeleteUserResponse](s, "DeleteUser", true),
		ListUsers:  standard[usersvc.ListUsersRequest, usersvc.ListUsersResponse](s, "ListUsers", false),
	}
}

// tokenIssuer and tokenAudience are the iss and aud of the example's
// tokens.
const (
	tokenIssuer   = "usersvc"
	tokenAudience = "usersvc"
)

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
	logger := slog.New(slog.NewTextHandler(logOut, nil))
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

	s := stack{logger: logger, c: c, meters: meters}
	if c.authSecret != "" {
		s.verifier, err = auth.NewVerifier[jwt.RegisteredClaims]([]string{"HS256"}, auth.StaticKey([]byte(c.authSecret)),
			auth.Issuer(tokenIssuer), auth.Audience(tokenAudience), auth.Realm("usersvc"))
		if err != nil {
			return err
		}
	} else {
		logger.Warn("no -auth.secret: the write methods are open to anyone")
	}

	endpoints := usersvc.NewEndpoints(usersvc.NewStore(), middlewares(s))
	errorHandler := kit.LogServerFaults(logger)
	health := new(httpx.Health)

	mux := http.NewServeMux()
	health.Register(mux)
	mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
	usersvc.RegisterHTTP(mux, endpoints, httpx.ServerErrorHandler(errorHandler),
		httpx.ServerBefore(auth.HTTPToContext(), observe.HTTPToContext()))
	httpLis, err := net.Listen("tcp", c.httpAddr)
	if err != nil {
		return err
	}
	logger.Info("serving HTTP", "addr", httpLis.Addr().String())
	errc := make(chan error, 2)
	servers := 1
	go func() {
		errc <- httpx.Serve(ctx, &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, httpLis,
			httpx.ServeHealth(health), httpx.ServeDrainTimeout(c.drain))
	}()

	if c.grpcAddr != "" {
		grpcLis, err := net.Listen("tcp", c.grpcAddr)
		if err != nil {
			return err
		}
		grpcSrv := grpc.NewServer()
		usersvc.RegisterGRPC(grpcSrv, endpoints, grpcx.ServerErrorHandler(errorHandler),
			grpcx.ServerBefore(auth.GRPCToContext(), observe.GRPCToContext()))
		grpcHealth := grpcx.RegisterHealthReadiness(grpcSrv, health, grpcx.HealthServices(usersvc.GRPCServiceName))
		logger.Info("serving gRPC", "addr", grpcLis.Addr().String())
		servers++
		go func() {
			errc <- grpcx.Serve(ctx, grpcSrv, grpcLis, grpcx.ServeHealth(grpcHealth), grpcx.ServeDrainTimeout(c.drain))
		}()
	}

	deregistered := make(chan struct{})
	if c.consulAddr == "" {
		close(deregistered)
	} else {
		reg, err := register(ctx, c, httpLis.Addr().(*net.TCPAddr), logger)
		if err != nil {
			stop()
			for range servers {
				<-errc
			}
			return err
		}
		// Leave Consul as soon as the shutdown begins, so clients stop
		// picking this instance while it drains.
		go func() {
			defer close(deregistered)
			<-ctx.Done()
			dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := reg.Deregister(dctx); err != nil {
				logger.Warn("deregistering from Consul", "error", err)
			} else {
				logger.Info("deregistered from Consul")
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

// register registers the HTTP listener in Consul with a check on /readyz.
func register(ctx context.Context, c config, addr *net.TCPAddr, logger *slog.Logger) (*consul.Registrar, error) {
	client, err := api.NewClient(&api.Config{Address: c.consulAddr})
	if err != nil {
		return nil, err
	}
	host := addr.IP.String()
	reg, err := consul.NewRegistrar(client, consul.Service{
		Name:    c.name,
		Address: host,
		Port:    addr.Port,
		Check: &consul.Check{
			HTTP:                    "http://" + net.JoinHostPort(host, strconv.Itoa(addr.Port)) + "/readyz",
			Interval:                time.Second,
			Timeout:                 time.Second,
			DeregisterCriticalAfter: time.Minute,
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
