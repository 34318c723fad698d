package conformance_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/internal/conformance/shapes"
)

// compare is how the server compares a request with the value the client
// says it sent: NaN equals NaN, -0 differs from +0, a nil slice or map
// equals an empty one (protobuf has no difference between them), times
// are instants, addresses compare with ==.
var compare = cmp.Options{
	cmp.Comparer(func(a, b float64) bool {
		return math.Float64bits(a) == math.Float64bits(b) || math.IsNaN(a) && math.IsNaN(b)
	}),
	cmp.Comparer(func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b }),
	cmpopts.EquateEmpty(),
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
}

// recorder notes each (method, value) a client sent or asked for, so the
// test can tell that every value of the tables crossed the wire both ways.
type recorder struct {
	mu            sync.Mutex
	sent, replied map[string]bool
}

func (r *recorder) note(method, send, reply string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent[method+" "+send] = true
	r.replied[method+" "+reply] = true
}

// covers checks that every value of the tables, by method the names of
// its requests and of its replies, crossed the wire.
func (r *recorder) covers(t *testing.T, tables map[string][2][]string) {
	t.Helper()
	for method, kv := range tables {
		for _, k := range kv[0] {
			assert.True(t, r.sent[method+" "+k], "no case sends %s value %q", method, k)
		}
		for _, k := range kv[1] {
			assert.True(t, r.replied[method+" "+k], "no case asks %s for value %q", method, k)
		}
	}
}

func newRecorder() *recorder { return &recorder{sent: map[string]bool{}, replied: map[string]bool{}} }

// answer checks a request against the value the client names in the
// x-send metadata and returns the value it names in x-reply.
func answer[Req, Resp any](ctx context.Context, r *recorder, method string, reqs map[string]Req, resps map[string]Resp, got Req) (Resp, error) {
	var zero Resp
	md, _ := metadata.FromIncomingContext(ctx)
	send, reply := first(md.Get("x-send")), first(md.Get("x-reply"))
	want, ok := reqs[send]
	if !ok {
		return zero, kit.NewError(kit.NotFound, fmt.Sprintf("%s: no request value %q", method, send))
	}
	resp, ok := resps[reply]
	if !ok {
		return zero, kit.NewError(kit.NotFound, fmt.Sprintf("%s: no reply value %q", method, reply))
	}
	if diff := cmp.Diff(want, got, compare); diff != "" {
		return zero, kit.NewError(kit.InvalidArgument, fmt.Sprintf("%s: the Go server decoded another request than %q (-want +got):\n%s", method, send, diff))
	}
	r.note(method, send, reply)
	return resp, nil
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// server is the suite's implementation of shapes.Shapes.
type server struct{ rec *recorder }

var _ shapes.Shapes = server{}

func (s server) Scalars(ctx context.Context, v shapes.Scalars) (shapes.Scalars, error) {
	return answer(ctx, s.rec, "Scalars", scalarValues, scalarValues, v)
}

func (s server) Optional(ctx context.Context, v shapes.Optional) (shapes.Optional, error) {
	return answer(ctx, s.rec, "Optional", optionalValues, optionalValues, v)
}

func (s server) Enums(ctx context.Context, v shapes.Enums) (shapes.Enums, error) {
	return answer(ctx, s.rec, "Enums", enumValues, enumValues, v)
}

func (s server) Tree(ctx context.Context, v shapes.Node) (shapes.Node, error) {
	return answer(ctx, s.rec, "Tree", treeValues, treeValues, v)
}

func (s server) Collections(ctx context.Context, v shapes.Collections) (shapes.Collections, error) {
	return answer(ctx, s.rec, "Collections", collectionRequests, collectionValues, v)
}

func (s server) Times(ctx context.Context, v shapes.Times) (shapes.Times, error) {
	return answer(ctx, s.rec, "Times", timeValues, timeValues, v)
}

func (s server) Generic(ctx context.Context, v shapes.Page[shapes.Inner]) (shapes.Page[string], error) {
	return answer(ctx, s.rec, "Generic", pageInnerValues, pageStringValues, v)
}

func (s server) Length(ctx context.Context, v string) (int64, error) {
	return answer(ctx, s.rec, "Length", stringValues, int64Values, v)
}

func (s server) Blob(ctx context.Context, v []byte) ([]byte, error) {
	return answer(ctx, s.rec, "Blob", bytesValues, bytesValues, v)
}

func (s server) Shade(ctx context.Context, v shapes.Color) (shapes.Color, error) {
	return answer(ctx, s.rec, "Shade", colorValues, colorValues, v)
}

func (s server) List(ctx context.Context, v []shapes.Inner) ([]shapes.Inner, error) {
	return answer(ctx, s.rec, "List", innerListValues, innerListValues, v)
}

func (s server) Several(ctx context.Context, a string, b int32, c []string) (bool, float64, error) {
	resp, err := answer(ctx, s.rec, "Several", severalRequests, severalResponses, shapes.SeveralRequest{A: a, B: b, C: c})
	return resp.X, resp.Y, err
}

func (s server) Ping(ctx context.Context) error {
	_, err := answer(ctx, s.rec, "Ping", map[string]struct{}{"none": {}}, map[string]struct{}{"none": {}}, struct{}{})
	return err
}

func (s server) Fail(ctx context.Context, code string, violations int32) error {
	c, ok := kit.ParseCode(code)
	if !ok {
		return kit.NewError(kit.Internal, "no code "+code)
	}
	s.rec.note("Fail", code, code)
	err := kit.NewError(c, "failed with "+code)
	for i := range violations {
		err = err.WithViolations(kit.FieldViolation{Field: fmt.Sprintf("items[%d].name", i), Description: fmt.Sprintf("violation %d: ünïcode", i)})
	}
	return err
}

// serverFaults logs the server's internal errors in the test's log, and
// keeps the errors the suite provokes out of it.
func serverFaults(t *testing.T) grpcx.ServerOption {
	return grpcx.ServerErrorHandler(kit.ErrorHandlerFunc(func(_ context.Context, err error) {
		if c := kit.CodeOf(err); c == kit.Internal || c == kit.Unknown {
			t.Logf("server fault: %v", err)
		}
	}))
}

// nodeResult is one line of the Node client's report.
type nodeResult struct {
	Case     string   `json:"case"`
	OK       bool     `json:"ok"`
	Problems []string `json:"problems"`
}

// serveGRPC serves the endpoints register adds on loopback until the test
// ends, and returns the address.
func serveGRPC(t *testing.T, register func(*grpc.Server)) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	register(srv)
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(lis)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-served
	})
	return lis.Addr().String()
}

// runNodeClient runs the Node gRPC client against addr for the service
// described by proto and reports each of its cases as a subtest.
func runNodeClient(t *testing.T, node, addr, proto, service, suite string) []nodeResult {
	t.Helper()
	out, err := run(t, 2*time.Minute, node, "js/grpc_client.js", addr, proto, service, suite)
	return reportNode(t, out, err)
}

// reportNode reports each case a Node client printed, one JSON line
// {"case", "ok", "problems"} each, as a subtest, and its exit status.
func reportNode(t *testing.T, out string, err error) []nodeResult {
	t.Helper()
	var results []nodeResult
	var other []string
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r nodeResult
		if line := sc.Text(); json.Unmarshal([]byte(line), &r) == nil && r.Case != "" {
			results = append(results, r)
		} else {
			other = append(other, line)
		}
	}
	require.NotEmpty(t, results, "the Node client reported no case (err %v):\n%s", err, out)
	for _, r := range results {
		// Serial: t.Failed below reads their results.
		t.Run(r.Case, func(t *testing.T) {
			for _, p := range r.Problems {
				t.Error(p)
			}
			assert.True(t, r.OK || len(r.Problems) > 0, "failed without a reason")
		})
	}
	if t.Failed() || err != nil {
		t.Logf("node exited with %v; its other output:\n%s", err, strings.Join(other, "\n"))
	}
	assert.NoError(t, err, "the Node client exits 0 when every case passes")
	return results
}

// TestNodeGRPCClient calls the generated gRPC server of shapes.Shapes with
// @grpc/grpc-js, its messages encoded and decoded by protobuf.js from the
// emitted .proto (loaded by @grpc/proto-loader), for every shape, and
// compares field by field on both sides: the Go server checks what it
// decoded, the Node client checks what it decoded.
func TestNodeGRPCClient(t *testing.T) {
	t.Parallel()
	node := requireNode(t)
	rec := newRecorder()
	addr := serveGRPC(t, func(s *grpc.Server) {
		shapes.RegisterGRPC(s, shapes.NewEndpoints(server{rec}, shapes.Middlewares{}), serverFaults(t))
	})
	runNodeClient(t, node, addr, "shapes/shapes.proto", shapes.GRPCServiceName, "shapes")

	// Every value of the tables crossed the wire in both directions.
	tables := map[string][2][]string{
		"Scalars":     {keys(scalarValues), keys(scalarValues)},
		"Optional":    {keys(optionalValues), keys(optionalValues)},
		"Enums":       {keys(enumValues), keys(enumValues)},
		"Tree":        {keys(treeValues), keys(treeValues)},
		"Collections": {keys(collectionRequests), keys(collectionValues)},
		"Times":       {keys(timeValues), keys(timeValues)},
		"Generic":     {keys(pageInnerValues), keys(pageStringValues)},
		"Length":      {keys(stringValues), keys(int64Values)},
		"Blob":        {keys(bytesValues), keys(bytesValues)},
		"Shade":       {keys(colorValues), keys(colorValues)},
		"List":        {keys(innerListValues), keys(innerListValues)},
		"Several":     {keys(severalRequests), keys(severalResponses)},
		"Ping":        {{"none"}, {"none"}},
	}
	rec.covers(t, tables)
	for _, code := range []string{"invalid_argument", "not_found", "unauthenticated"} {
		assert.True(t, rec.sent["Fail "+code], "no case makes Fail answer %s", code)
	}
}

func keys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
