package observe

import (
	"context"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/semconv/v1.43.0/rpcconv"

	"github.com/typedkit/kit"
)

// The names of the instruments [Metrics] records to. The durations follow
// the OpenTelemetry semantic conventions for RPC (v1.43.0): a histogram in
// seconds with their bucket boundaries. The conventions define no counter of
// calls or of errors, so those two are typedkit's own.
const (
	// ServerDuration is the histogram of the duration of calls served, in
	// seconds, with the attributes rpc.method, rpc.system.name (when the
	// transport is known), rpc.response.status_code and, for failed calls,
	// error.type. Its count is the number of calls finished.
	ServerDuration = "rpc.server.call.duration"
	// ClientDuration is the histogram of the duration of calls made, with
	// the attributes of ServerDuration.
	ClientDuration = "rpc.client.call.duration"
	// ServerRequests counts the calls served as they start, with the
	// attributes rpc.method and rpc.system.name.
	ServerRequests = "typedkit.server.requests"
	// ClientRequests counts the calls made as they start, with the
	// attributes of ServerRequests.
	ClientRequests = "typedkit.client.requests"
	// ServerErrors counts the calls served that failed, with the attributes
	// rpc.method, rpc.system.name and rpc.response.status_code, whose value
	// is [StatusName] of the error's kit code.
	ServerErrors = "typedkit.server.errors"
	// ClientErrors counts the calls made that failed, with the attributes of
	// ServerErrors.
	ClientErrors = "typedkit.client.errors"
)

// instruments are the instruments of one endpoint and the options of every
// measurement it can make, built once so that a call builds none.
type instruments struct {
	requests metric.Int64Counter
	errors   metric.Int64Counter
	duration metric.Float64Histogram
	client   bool
	slots    [numTransports]*measureOptions
}

// measureOptions are the options of the measurements of calls over one
// transport.
type measureOptions struct {
	request  []metric.AddOption
	errors   [numCodes][]metric.AddOption
	duration [numCodes][]metric.RecordOption
}

func newInstruments(meter metric.Meter, name string, cfg *config) *instruments {
	m := &instruments{client: cfg.client}
	requestsName, errorsName := ServerRequests, ServerErrors
	var err error
	if cfg.client {
		requestsName, errorsName = ClientRequests, ClientErrors
		var d rpcconv.ClientCallDuration
		d, err = rpcconv.NewClientCallDuration(meter)
		m.duration = d.Inst()
	} else {
		var d rpcconv.ServerCallDuration
		d, err = rpcconv.NewServerCallDuration(meter)
		m.duration = d.Inst()
	}
	handle(err)
	m.requests, err = meter.Int64Counter(requestsName,
		metric.WithDescription("Number of calls started."), metric.WithUnit("{call}"))
	handle(err)
	m.errors, err = meter.Int64Counter(errorsName,
		metric.WithDescription("Number of calls that failed, by status code."), metric.WithUnit("{call}"))
	handle(err)

	for t := range numTransports {
		if cfg.client && t != transportConfigured {
			continue
		}
		call := callAttrs(name, cfg.transportName(t))
		o := &measureOptions{
			request: []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(call...))},
		}
		for c := range numCodes {
			result := resultAttrs(kit.Code(c))
			withStatus := append(call[:len(call):len(call)], result[0])
			o.errors[c] = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(withStatus...))}
			all := append(call[:len(call):len(call)], result...)
			o.duration[c] = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(all...))}
		}
		m.slots[t] = o
	}
	return m
}

// handle reports an error creating an instrument to the OpenTelemetry
// error handler; the instrument returned with it still works or does
// nothing.
func handle(err error) {
	if err != nil {
		otel.Handle(err)
	}
}

func (m *instruments) enabled(ctx context.Context) bool {
	return m.requests.Enabled(ctx) || m.duration.Enabled(ctx) || m.errors.Enabled(ctx)
}

func (m *instruments) options(ctx context.Context) *measureOptions {
	if m.client {
		return m.slots[transportConfigured]
	}
	return m.slots[transportFrom(ctx)]
}

// Metrics returns a middleware that records, for each call of the endpoint
// called name, a count as it starts ([ServerRequests]), its duration and
// status code as it ends ([ServerDuration]), and a count of the failures by
// status code ([ServerErrors]); with [AsClient], to the Client instruments
// instead. The status code is that of kit.CodeOf(err); a call that panics is
// recorded as Internal and the panic goes on.
//
// The name is the rpc.method attribute, such as "UserService/GetUser";
// rpc.system.name is the transport, when [WithTransport] or a server hook
// ([HTTPToContext], [GRPCToContext]) tells it.
//
// Every attribute set is built here, so a call allocates nothing of its
// own. With a no-op meter provider (go.opentelemetry.io/otel/metric/noop)
// Metrics returns the endpoint unchanged; when the instruments are disabled
// otherwise, a call is passed to the endpoint without reading the clock.
func Metrics[Req, Resp any](name string, opts ...Option) kit.Middleware[Req, Resp] {
	cfg := newConfig(opts)
	meter := cfg.meterProvider.Meter(ScopeName, metric.WithSchemaURL(semconv.SchemaURL))
	if _, ok := meter.(noop.Meter); ok {
		return kit.NopMiddleware[Req, Resp]
	}
	m := newInstruments(meter, name, &cfg)
	return func(next kit.Endpoint[Req, Resp]) kit.Endpoint[Req, Resp] {
		return func(ctx context.Context, req Req) (resp Resp, err error) {
			if !m.enabled(ctx) {
				return next(ctx, req)
			}
			o := m.options(ctx)
			m.requests.Add(ctx, 1, o.request...)
			start := time.Now()
			returned := false
			defer func() {
				c := int(kit.Internal)
				if returned {
					c = codeIndex(kit.CodeOf(err))
				}
				m.duration.Record(ctx, time.Since(start).Seconds(), o.duration[c]...)
				if c != int(kit.OK) {
					m.errors.Add(ctx, 1, o.errors[c]...)
				}
			}()
			resp, err = next(ctx, req)
			returned = true
			return resp, err
		}
	}
}
