package observe

import (
	"context"
	"sync"
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
	// seconds, with the attributes rpc.method, rpc.system.name (for calls
	// over a transport), rpc.response.status_code and, for failed calls,
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

// instruments are the instruments of one side, server or client.
type instruments struct {
	requests metric.Int64Counter
	errors   metric.Int64Counter
	duration metric.Float64Histogram
}

func newInstruments(meter metric.Meter, client bool) *instruments {
	m := &instruments{}
	requestsName, errorsName := ServerRequests, ServerErrors
	var err error
	if client {
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
	return m
}

func (m *instruments) enabled(ctx context.Context) bool {
	return m.requests.Enabled(ctx) || m.duration.Enabled(ctx) || m.errors.Enabled(ctx)
}

// measureOptions are the options of every measurement the calls of one
// method can make, built once so that a call builds none.
type measureOptions struct {
	request  []metric.AddOption
	errors   [numCodes][]metric.AddOption
	duration [numCodes][]metric.RecordOption
}

func newMeasureOptions(call kit.Call) *measureOptions {
	attrs := callAttrs(call)
	o := &measureOptions{
		request: []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(attrs...))},
	}
	for c := range numCodes {
		result := resultAttrs(kit.Code(c))
		withStatus := append(attrs[:len(attrs):len(attrs)], result[0])
		o.errors[c] = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(withStatus...))}
		all := append(attrs[:len(attrs):len(attrs)], result...)
		o.duration[c] = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(all...))}
	}
	return o
}

// handle reports an error creating an instrument to the OpenTelemetry
// error handler; the instrument returned with it still works or does
// nothing.
func handle(err error) {
	if err != nil {
		otel.Handle(err)
	}
}

// passThrough is an interceptor that adds nothing to the chain.
func passThrough(_ kit.Call, next kit.Invoker) kit.Invoker { return next }

// Metrics returns an interceptor that records, for each call, a count as it
// starts ([ServerRequests]), its duration and status code as it ends
// ([ServerDuration]), and a count of the failures by status code
// ([ServerErrors]); for the calls of a client (kit.ClientSide), to the
// Client instruments instead. The status code is that of kit.CodeOf of the
// call's error; a call that panics is recorded as Internal and the panic
// goes on.
//
// The attributes come from the method's kit.Call: rpc.method is
// "Service/Method" (the fully qualified method of the semantic
// conventions), rpc.system.name the transport ("http", "grpc", "mcp"; none
// for an in-process call). Every attribute set of a method is built when
// the interceptor is called for it, as the endpoints are built, so a call
// allocates nothing of its own. One interceptor serves every method, on
// servers and clients alike.
//
// With a no-op meter provider (go.opentelemetry.io/otel/metric/noop)
// Metrics adds nothing to the chain; when the instruments are disabled
// otherwise, a call is passed on without reading the clock.
func Metrics(opts ...Option) kit.Interceptor {
	cfg := newConfig(opts)
	meter := cfg.meterProvider.Meter(ScopeName, metric.WithSchemaURL(semconv.SchemaURL))
	if _, ok := meter.(noop.Meter); ok {
		return passThrough
	}
	// The instruments of each side, made for the first method of that side.
	var sides [2]struct {
		once sync.Once
		inst *instruments
	}
	return func(call kit.Call, next kit.Invoker) kit.Invoker {
		client := call.Side == kit.ClientSide
		side := &sides[0]
		if client {
			side = &sides[1]
		}
		side.once.Do(func() { side.inst = newInstruments(meter, client) })
		m, o := side.inst, newMeasureOptions(call)
		return func(ctx context.Context, c kit.Call) (err error) {
			if !m.enabled(ctx) {
				return next(ctx, c)
			}
			m.requests.Add(ctx, 1, o.request...)
			start := time.Now()
			returned := false
			defer func() {
				code := int(kit.Internal)
				if returned {
					code = codeIndex(kit.CodeOf(err))
				}
				m.duration.Record(ctx, time.Since(start).Seconds(), o.duration[code]...)
				if code != int(kit.OK) {
					m.errors.Add(ctx, 1, o.errors[code]...)
				}
			}()
			err = next(ctx, c)
			returned = true
			return err
		}
	}
}
