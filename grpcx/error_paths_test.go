package grpcx_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/genrt"
	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/observe"
)

// wireSecret is internal text that must never reach a caller.
const wireSecret = "10.9.8.7:5432"

// wireText is a hand-written WireMessage, as kitgen generates them: one
// string, field 1. Its decoder fails with a plain error, whose text must
// not reach the caller.
type wireText struct{ S string }

func (m *wireText) MarshalProtoWire(b []byte) ([]byte, error) {
	if m.S != "" {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, m.S)
	}
	return b, nil
}

func (m *wireText) UnmarshalProtoWire(b []byte) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return errors.New("parse failed near " + wireSecret)
		}
		b = b[n:]
		if num == 1 && typ == protowire.BytesType {
			s, n := protowire.ConsumeString(b)
			if n < 0 {
				return errors.New("parse failed near " + wireSecret)
			}
			m.S, b = s, b[n:]
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return errors.New("parse failed near " + wireSecret)
		}
		b = b[n:]
	}
	return nil
}

// rawWire sends its bytes as they are, to put malformed or large messages
// on the wire.
type rawWire []byte

func (r rawWire) MarshalProtoWire(b []byte) ([]byte, error) { return append(b, r...), nil }
func (r rawWire) UnmarshalProtoWire([]byte) error           { return nil }

// codedError is an error of another library that knows its kit code.
type codedError struct{ code kit.Code }

func (e codedError) Error() string     { return "coded: " + wireSecret }
func (e codedError) KitCode() kit.Code { return e.code }

const wireMethod = "/typedkit.test.Wire/Echo"

// finalRecorder keeps what the finalizers and the error handler saw.
type finalRecorder struct {
	mu      sync.Mutex
	finals  []grpcx.FinalizerInfo
	handled []error
	ran     chan struct{}
}

func newFinalRecorder() *finalRecorder { return &finalRecorder{ran: make(chan struct{}, 64)} }

func (r *finalRecorder) options() []grpcx.ServerOption {
	return []grpcx.ServerOption{
		grpcx.ServerFinalizer(func(_ context.Context, info grpcx.FinalizerInfo) {
			r.mu.Lock()
			r.finals = append(r.finals, info)
			r.mu.Unlock()
			r.ran <- struct{}{}
		}),
		grpcx.ServerErrorHandler(kit.ErrorHandlerFunc(func(_ context.Context, err error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.handled = append(r.handled, err)
		})),
	}
}

// wait waits for the finalizers of one more call. A request grpc-go cannot
// receive is answered by grpc-go itself, so its caller may have the status
// before the server's finalizers run.
func (r *finalRecorder) wait(t *testing.T) {
	t.Helper()
	waitFinalizer(t, r.ran)
}

func waitFinalizer(t *testing.T, ran <-chan struct{}) {
	t.Helper()
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("the finalizers did not run")
	}
}

func (r *finalRecorder) get() ([]grpcx.FinalizerInfo, []error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]grpcx.FinalizerInfo(nil), r.finals...), append([]error(nil), r.handled...)
}

// serveWire serves the Wire service, as kitgen registers one (through
// grpcx.MethodHandler), on a real grpc.Server over loopback TCP, and
// returns a connection to it.
func serveWire(t *testing.T, s *grpcx.Server[*wireText, string, string, *wireText], opts ...grpc.ServerOption) *grpc.ClientConn {
	t.Helper()
	return dialWire(t, serveWireAt(t, s, opts...))
}

// serveWireAt is serveWire returning the server's address.
func serveWireAt(t *testing.T, s *grpcx.Server[*wireText, string, string, *wireText], opts ...grpc.ServerOption) string {
	t.Helper()
	gs := grpc.NewServer(opts...)
	gs.RegisterService(&grpc.ServiceDesc{
		ServiceName: "typedkit.test.Wire",
		HandlerType: (*any)(nil),
		Methods:     []grpc.MethodDesc{{MethodName: "Echo", Handler: grpcx.MethodHandler(s, wireMethod)}},
	}, struct{}{})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = gs.Serve(lis)
	}()
	t.Cleanup(func() {
		gs.Stop()
		<-served
	})
	return lis.Addr().String()
}

// dialWire returns a connection to addr, closed at the end of the test.
func dialWire(t *testing.T, addr string, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func decodeWire(_ context.Context, m *wireText) (string, error) {
	switch m.S {
	case "decode-kit":
		return "", fmt.Errorf("decoding: %w", kit.InvalidArgumentError("bad text", kit.FieldViolation{Field: "s", Description: "not allowed"}))
	case "decode-coded":
		return "", fmt.Errorf("decoding: %w", codedError{kit.OutOfRange})
	case "decode-canceled":
		return "", fmt.Errorf("looking up: %w", context.Canceled)
	}
	return m.S, nil
}

func echoWire(_ context.Context, s string) (string, error) {
	if s == "panic" {
		panic("endpoint broke near " + wireSecret)
	}
	return s, nil
}

func encodeWire(_ context.Context, s string) (*wireText, error) {
	switch s {
	case "encode-kit":
		return nil, fmt.Errorf("encoding: %w", kit.WithRetryAfter(kit.WrapError(kit.FailedPrecondition, errors.New(wireSecret), "not yet"), 2*time.Second))
	case "encode-coded":
		return nil, fmt.Errorf("encoding: %w", codedError{kit.Aborted})
	case "encode-status":
		return nil, fmt.Errorf("encoding: %w", status.Error(codes.AlreadyExists, "exists"))
	case "encode-plain":
		return nil, errors.New("encoding failed near " + wireSecret)
	}
	return &wireText{S: s}, nil
}

// TestMethodHandlerFailuresReachFinalizers sends calls that fail at every
// step a served call takes — before it is decoded, while it is received
// and decoded, in the endpoint and in the encoder — to a kitgen-style
// service on a real server, and checks that each gets the status its error
// chooses, that no internal text leaves the server, and that the error
// handler and the finalizers see each call once, with the error itself.
func TestMethodHandlerFailuresReachFinalizers(t *testing.T) {
	t.Parallel()
	rec := newFinalRecorder()
	opts := append(rec.options(),
		grpcx.ServerBefore(func(ctx context.Context, md metadata.MD) context.Context {
			if len(md.Get("x-panic-before")) > 0 {
				panic("before hook broke near " + wireSecret)
			}
			return ctx
		}),
		grpcx.ServerGuard(func(ctx context.Context, md metadata.MD) (context.Context, error) {
			switch {
			case len(md.Get("x-refuse")) > 0:
				return ctx, kit.NewError(kit.Unauthenticated, "credentials required")
			case len(md.Get("x-refuse-coded")) > 0:
				return ctx, fmt.Errorf("guard: %w", codedError{kit.ResourceExhausted})
			case len(md.Get("x-refuse-canceled")) > 0:
				return ctx, fmt.Errorf("auth service: %w", context.Canceled)
			}
			return ctx, nil
		}))
	s := grpcx.NewServer(kit.Endpoint[string, string](echoWire), decodeWire, encodeWire, opts...)
	conn := serveWire(t, s, grpc.MaxRecvMsgSize(1024))

	text := func(s string) rawWire {
		b, _ := (&wireText{S: s}).MarshalProtoWire(nil)
		return b
	}
	tests := []struct {
		name       string
		md         []string
		req        rawWire
		code       codes.Code
		msg        string
		violations int
		retryInfo  bool
	}{
		{"ok", nil, text("hello"), codes.OK, "", 0, false},
		{"malformed wire bytes", nil, rawWire{0x0a, 0xff}, codes.InvalidArgument, "invalid argument", 0, false},
		{"larger than the server takes", nil, text(strings.Repeat("x", 2048)), codes.ResourceExhausted, "", 0, false},
		{"guard refuses", []string{"x-refuse", "1"}, text("hello"), codes.Unauthenticated, "credentials required", 0, false},
		{"guard refuses a malformed request first", []string{"x-refuse", "1"}, rawWire{0x0a, 0xff}, codes.Unauthenticated, "credentials required", 0, false},
		{"guard refuses with a coded error", []string{"x-refuse-coded", "1"}, text("hello"), codes.ResourceExhausted, "resource exhausted", 0, false},
		{"guard sees its caller leave", []string{"x-refuse-canceled", "1"}, text("hello"), codes.Canceled, "request canceled", 0, false},
		{"before hook panics", []string{"x-panic-before", "1"}, text("hello"), codes.Internal, "internal error", 0, false},
		{"decoder's wrapped kit error", nil, text("decode-kit"), codes.InvalidArgument, "bad text", 1, false},
		{"decoder's wrapped coded error", nil, text("decode-coded"), codes.OutOfRange, "out of range", 0, false},
		{"decoder's context error", nil, text("decode-canceled"), codes.Canceled, "request canceled", 0, false},
		{"endpoint panics", nil, text("panic"), codes.Internal, "internal error", 0, false},
		{"encoder's wrapped kit error", nil, text("encode-kit"), codes.FailedPrecondition, "not yet", 0, true},
		{"encoder's wrapped coded error", nil, text("encode-coded"), codes.Aborted, "aborted", 0, false},
		{"encoder's wrapped status", nil, text("encode-status"), codes.AlreadyExists, "exists", 0, false},
		{"encoder's plain error", nil, text("encode-plain"), codes.Internal, "internal error", 0, false},
	}
	for _, tt := range tests {
		// Serial: the cases compare rec with what the case before left in it.
		t.Run(tt.name, func(t *testing.T) {
			finalsBefore, handledBefore := rec.get()
			ctx := context.Background()
			if tt.md != nil {
				ctx = metadata.AppendToOutgoingContext(ctx, tt.md...)
			}
			reply := new(wireText)
			err := conn.Invoke(ctx, wireMethod, tt.req, reply)
			rec.wait(t)
			st := status.Convert(err)
			assert.Equal(t, tt.code, st.Code(), "%v", err)
			if tt.msg != "" {
				assert.Equal(t, tt.msg, st.Message())
			}
			assert.NotContains(t, st.Message(), wireSecret)
			var violations int
			var retryInfo bool
			for _, d := range st.Details() {
				assert.NotContains(t, fmt.Sprint(d), wireSecret)
				switch d := d.(type) {
				case *errdetails.BadRequest:
					violations = len(d.GetFieldViolations())
				case *errdetails.RetryInfo:
					retryInfo = d.GetRetryDelay() != nil
				}
			}
			assert.Equal(t, tt.violations, violations)
			assert.Equal(t, tt.retryInfo, retryInfo)

			finals, handled := rec.get()
			require.Len(t, finals, len(finalsBefore)+1, "the finalizers see the call once")
			info := finals[len(finals)-1]
			assert.Equal(t, tt.code, info.Code)
			assert.Equal(t, wireMethod, info.Method)
			if tt.code == codes.OK {
				assert.NoError(t, info.Err)
				assert.Len(t, handled, len(handledBefore))
				return
			}
			require.Error(t, info.Err)
			assert.Equal(t, tt.code, grpcx.ToStatus(info.Err).Code(), "the finalizers get the error the status was made of: %v", info.Err)
			require.Len(t, handled, len(handledBefore)+1, "the error handler sees the call once")
			assert.Equal(t, handled[len(handled)-1], info.Err)
			if tt.code == codes.Internal && tt.name != "encoder's plain error" {
				var p *kit.PanicError
				assert.ErrorAs(t, info.Err, &p, "a panic reaches the finalizers with its stack")
			}
		})
	}
}

// TestMethodHandlerMetricsCountRefusedCalls: observe.GRPCServerMetrics, a
// finalizer, counts the calls refused before the endpoint, as its HTTP
// twin does: a malformed message, one larger than the server takes, and a
// guard's refusal.
func TestMethodHandlerMetricsCountRefusedCalls(t *testing.T) {
	t.Parallel()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	ran := make(chan struct{}, 8)
	s := grpcx.NewServer(kit.Endpoint[string, string](echoWire), decodeWire, encodeWire,
		grpcx.ServerErrorHandler(kit.ErrorHandlerFunc(func(context.Context, error) {})),
		grpcx.ServerGuard(func(ctx context.Context, md metadata.MD) (context.Context, error) {
			if len(md.Get("x-refuse")) > 0 {
				return ctx, kit.NewError(kit.Unauthenticated, "credentials required")
			}
			return ctx, nil
		}),
		grpcx.ServerFinalizer(observe.GRPCServerMetrics(observe.MeterProvider(mp)),
			func(context.Context, grpcx.FinalizerInfo) { ran <- struct{}{} }))
	conn := serveWire(t, s, grpc.MaxRecvMsgSize(1024))

	ok, _ := (&wireText{S: "hello"}).MarshalProtoWire(nil)
	big, _ := (&wireText{S: strings.Repeat("x", 2048)}).MarshalProtoWire(nil)
	calls := []struct {
		md  []string
		req rawWire
	}{
		{nil, ok},
		{nil, rawWire{0x0a, 0xff}},
		{nil, big},
		{[]string{"x-refuse", "1"}, ok},
	}
	for _, c := range calls {
		ctx := context.Background()
		if c.md != nil {
			ctx = metadata.AppendToOutgoingContext(ctx, c.md...)
		}
		_ = conn.Invoke(ctx, wireMethod, c.req, new(wireText))
		waitFinalizer(t, ran)
	}

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	got := map[string]uint64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != observe.GRPCServerDuration {
				continue
			}
			hist, ok := m.Data.(metricdata.Histogram[float64])
			require.True(t, ok, "%T", m.Data)
			for _, dp := range hist.DataPoints {
				v, _ := dp.Attributes.Value("rpc.response.status_code")
				got[v.AsString()] += dp.Count
			}
		}
	}
	assert.Equal(t, map[string]uint64{
		observe.StatusName(kit.OK):                1,
		observe.StatusName(kit.InvalidArgument):   1,
		observe.StatusName(kit.ResourceExhausted): 1,
		observe.StatusName(kit.Unauthenticated):   1,
	}, got)
}

// TestInterceptorPassingAnotherTypeReachesFinalizers: an interceptor that
// hands the handler a message of another type is the server's fault,
// answered Internal and seen by the error handler and the finalizers.
func TestInterceptorPassingAnotherTypeReachesFinalizers(t *testing.T) {
	t.Parallel()
	rec := newFinalRecorder()
	s := grpcx.NewServer(kit.Endpoint[string, string](echoWire), decodeWire, encodeWire, rec.options()...)
	conn := serveWire(t, s, grpc.UnaryInterceptor(func(ctx context.Context, _ any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		return h(ctx, "not a message")
	}))
	msg, _ := (&wireText{S: "hello"}).MarshalProtoWire(nil)
	err := conn.Invoke(context.Background(), wireMethod, rawWire(msg), new(wireText))
	rec.wait(t)
	assert.Equal(t, codes.Internal, status.Code(err))
	assert.Equal(t, "internal error", status.Convert(err).Message())

	finals, handled := rec.get()
	require.Len(t, finals, 1)
	assert.Equal(t, codes.Internal, finals[0].Code)
	assert.Equal(t, wireMethod, finals[0].Method)
	require.Len(t, handled, 1)
	assert.Equal(t, handled[0], finals[0].Err)
	assert.Contains(t, finals[0].Err.Error(), "an interceptor passed a string")
}

// TestClientKeepsCodesThroughWrapping: a *kit.Error a client interceptor
// returns keeps its message and violations, a status an interceptor wraps
// keeps the server's message, and a decoder's error that knows its code
// keeps it, where re-wrapping each would have hidden them.
func TestClientKeepsCodesThroughWrapping(t *testing.T) {
	t.Parallel()
	s := grpcx.NewServer(kit.Endpoint[string, string](echoWire), decodeWire, encodeWire,
		grpcx.ServerErrorHandler(kit.ErrorHandlerFunc(func(context.Context, error) {})))
	addr := serveWireAt(t, s)
	enc := func(_ context.Context, s string) (*wireText, error) { return &wireText{S: s}, nil }
	dec := func(_ context.Context, r *wireText) (string, error) {
		if r.S == "reply-coded" {
			return "", fmt.Errorf("decoding reply: %w", codedError{kit.DataLoss})
		}
		return r.S, nil
	}
	intercepted := func(after func(err error) error) *grpc.ClientConn {
		return dialWire(t, addr, grpc.WithUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			return after(invoker(ctx, method, req, reply, cc, opts...))
		}))
	}

	tests := []struct {
		name       string
		cc         grpc.ClientConnInterface
		req        string
		code       kit.Code
		msg        string
		violations []kit.FieldViolation
	}{
		{"interceptor's kit error", intercepted(func(error) error {
			return fmt.Errorf("client middleware: %w", kit.InvalidArgumentError("no tenant", kit.FieldViolation{Field: "tenant", Description: "required"}))
		}), "hello", kit.InvalidArgument, "no tenant", []kit.FieldViolation{{Field: "tenant", Description: "required"}}},
		{"interceptor wraps the server's status", intercepted(func(err error) error {
			if err == nil {
				return nil
			}
			return fmt.Errorf("after 3 attempts: %w", err)
		}), "decode-kit", kit.InvalidArgument, "bad text", []kit.FieldViolation{{Field: "s", Description: "not allowed"}}},
		{"decoder's coded error", dialWire(t, addr), "reply-coded", kit.DataLoss, "data loss", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := grpcx.NewClient(tt.cc, wireMethod, enc, dec).Endpoint()(context.Background(), tt.req)
			assert.Equal(t, tt.code, kit.CodeOf(err), "%v", err)
			assert.Equal(t, tt.msg, kit.MessageOf(err))
			assert.Equal(t, tt.violations, kit.ViolationsOf(err))
		})
	}
}

// BenchmarkMethodHandler measures the handler kitgen registers, without a
// network: the deferred decode, the hooks' checks and the call.
func BenchmarkMethodHandler(b *testing.B) {
	s := grpcx.NewServer(kit.Endpoint[string, string](echoWire), decodeWire, encodeWire)
	h := grpcx.MethodHandler(s, wireMethod)
	msg, _ := (&wireText{S: "hello"}).MarshalProtoWire(nil)
	dec := func(v any) error { return v.(genrt.WireMessage).UnmarshalProtoWire(msg) }
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h(nil, ctx, dec, nil); err != nil {
			b.Fatal(err)
		}
	}
}
