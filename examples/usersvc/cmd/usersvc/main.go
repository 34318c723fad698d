// Command usersvc serves the example user service over HTTP and gRPC, with
// logging, panic recovery, a timeout, a rate limit and an adaptive circuit
// breaker around every endpoint.
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

	"github.com/hashicorp/consul/api"
	"golang.org/x/time/rate"
	"google.golang.org/grpc"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/breaker"
	"github.com/typedkit/kit/discovery/consul"
	"github.com/typedkit/kit/examples/usersvc"
	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/httpx"
	"github.com/typedkit/kit/limit"
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
	return c, fs.Parse(args)
}

// standard is the middleware stack of every endpoint, outermost first:
// logging sees every outcome, recovery turns panics into Internal errors,
// the limiter and the breaker reject before any work, and the timeout
// bounds the work itself.
func standard[Req, Resp any](logger *slog.Logger, name string, c config) []kit.Middleware[Req, Resp] {
	return []kit.Middleware[Req, Resp]{
		kit.Logging[Req, Resp](logger, name),
		kit.Recover[Req, Resp](logger),
		limit.Erroring[Req, Resp](rate.NewLimiter(rate.Limit(c.rps), c.burst)),
		breaker.Adaptive[Req, Resp](),
		kit.Timeout[Req, Resp](c.timeout),
	}
}

func middlewares(logger *slog.Logger, c config) usersvc.Middlewares {
	return usersvc.Middlewares{
		CreateUser: standard[usersvc.CreateUserRequest, usersvc.User](logger, "CreateUser", c),
		GetUser:    standard[usersvc.GetUserRequest, usersvc.User](logger, "GetUser", c),
		UpdateUser: standard[usersvc.UpdateUserRequest, usersvc.User](logger, "UpdateUser", c),
		DeleteUser: standard[usersvc.DeleteUserRequest, usersvc.DeleteUserResponse](logger, "DeleteUser", c),
		ListUsers:  standard[usersvc.ListUsersRequest, usersvc.ListUsersResponse](logger, "ListUsers", c),
	}
}

func run(ctx context.Context, args []string, logOut *os.File) error {
	c, err := parseFlags(args)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(logOut, nil))
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	endpoints := usersvc.NewEndpoints(usersvc.NewStore(), middlewares(logger, c))
	errorHandler := kit.LogServerFaults(logger)
	health := new(httpx.Health)

	mux := http.NewServeMux()
	health.Register(mux)
	usersvc.RegisterHTTP(mux, endpoints, httpx.ServerErrorHandler(errorHandler))
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
		usersvc.RegisterGRPC(grpcSrv, endpoints, grpcx.ServerErrorHandler(errorHandler))
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
