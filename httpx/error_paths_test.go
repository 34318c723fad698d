package httpx_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/httpx"
)

// codedError is an error of another library that knows its kit code.
type codedError struct{ code kit.Code }

func (e codedError) Error() string     { return "coded: " + secret }
func (e codedError) KitCode() kit.Code { return e.code }

// codedErrors are the errors that choose their own answer, each wrapped as
// a hook, a decoder or an encoder would wrap it, with the answer each
// must get.
var codedErrors = []struct {
	name       string
	err        error
	status     int
	code       kit.Code
	detail     string
	violations []kit.FieldViolation
	retryAfter string
}{
	{"kit error with violations", fmt.Errorf("step: %w", kit.WrapError(kit.FailedPrecondition, errors.New(secret), "not yet").
		WithViolations(kit.FieldViolation{Field: "state", Description: "must be open"})),
		400, kit.FailedPrecondition, "not yet", []kit.FieldViolation{{Field: "state", Description: "must be open"}}, ""},
	{"kit error with a retry wait", fmt.Errorf("step: %w", kit.WithRetryAfter(kit.WrapError(kit.Unavailable, errors.New(secret), "busy"), 3*time.Second)),
		503, kit.Unavailable, "busy", nil, "3"},
	{"status error", fmt.Errorf("step: %w", &httpx.StatusError{Status: http.StatusNotAcceptable, Err: kit.NewError(kit.InvalidArgument, "no such format")}),
		406, kit.InvalidArgument, "no such format", nil, ""},
	{"coded error of another library", fmt.Errorf("step: %w", codedError{kit.Aborted}),
		409, kit.Aborted, "aborted", nil, ""},
	{"caller gone", fmt.Errorf("step: %w", context.Canceled),
		httpx.StatusClientClosedRequest, kit.Canceled, "request canceled", nil, ""},
}

// TestServerAnswersCodedErrorsAsTheyAre returns each coded error, wrapped,
// from a guard, a decoder, the endpoint and an encoder of a real server:
// each is answered with its own status, code, message, violations and
// retry wait, never as the PermissionDenied, InvalidArgument or Internal
// of the step that returned it, and its cause never reaches the body.
func TestServerAnswersCodedErrorsAsTheyAre(t *testing.T) {
	t.Parallel()
	for _, tc := range codedErrors {
		fail := func() error { return tc.err }
		ok := func(context.Context, *http.Request) (sumRequest, error) { return sumRequest{}, nil }
		steps := []struct {
			name string
			h    http.Handler
		}{
			{"guard", httpx.NewServer(kit.Endpoint[sumRequest, sumResponse](sum), ok, httpx.EncodeJSONResponse[sumResponse], quiet(),
				httpx.ServerGuard(func(ctx context.Context, _ *http.Request) (context.Context, error) { return ctx, fail() }))},
			{"decoder", httpx.NewServer(kit.Endpoint[sumRequest, sumResponse](sum),
				func(context.Context, *http.Request) (sumRequest, error) { return sumRequest{}, fail() },
				httpx.EncodeJSONResponse[sumResponse], quiet())},
			{"endpoint", httpx.NewServer(kit.Endpoint[sumRequest, sumResponse](func(context.Context, sumRequest) (sumResponse, error) { return sumResponse{}, fail() }),
				ok, httpx.EncodeJSONResponse[sumResponse], quiet())},
			{"encoder", httpx.NewServer(kit.Endpoint[sumRequest, sumResponse](sum), ok,
				func(context.Context, http.ResponseWriter, sumResponse) error { return fail() }, quiet())},
		}
		for _, step := range steps {
			t.Run(tc.name+"/"+step.name, func(t *testing.T) {
				t.Parallel()
				srv := newTestServer(t, step.h)
				resp, err := http.Post(srv.URL, "application/json", strings.NewReader(`{}`))
				require.NoError(t, err)
				defer resp.Body.Close()
				body, err := io.ReadAll(resp.Body)
				require.NoError(t, err)
				assert.Equal(t, tc.status, resp.StatusCode, "body: %s", body)
				assert.Equal(t, tc.retryAfter, resp.Header.Get("Retry-After"))
				assert.NotContains(t, string(body), "10.1.2.3")
				p := decodeProblem(t, body)
				assert.Equal(t, tc.code.String(), p.Code)
				assert.Equal(t, tc.detail, p.Detail)
				assert.Equal(t, tc.violations, p.Violations)
			})
		}
	}
}

// zip is a request field whose UnmarshalJSON, UnmarshalXML and
// UnmarshalText validate it with errors of their own.
type zip string

func (z *zip) check(s string) error {
	switch s {
	case "coded":
		return codedError{kit.OutOfRange}
	case "bad":
		return kit.WrapError(kit.InvalidArgument, errors.New(secret), "zip must have five digits").
			WithViolations(kit.FieldViolation{Field: "zip", Description: "must have five digits"})
	}
	*z = zip(s)
	return nil
}

func (z *zip) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	return z.check(s)
}

func (z *zip) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	var s string
	if err := d.DecodeElement(&s, &start); err != nil {
		return err
	}
	return z.check(s)
}

type address struct {
	XMLName xml.Name `json:"-" xml:"address"`
	Zip     zip      `json:"zip" xml:"zip"`
}

// TestUnmarshalerErrorsKeepTheirCode: the error of a type's own
// UnmarshalJSON or UnmarshalXML that has a code keeps it, with its message
// and violations, instead of becoming an "invalid JSON" message that
// carries the error's whole text, cause included.
func TestUnmarshalerErrorsKeepTheirCode(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, httpx.NewServer(kit.Endpoint[address, address](func(_ context.Context, a address) (address, error) { return a, nil }),
		httpx.DecodeByContentType(httpx.JSONDecoder[address](), httpx.XMLDecoder[address]()), httpx.EncodeJSONResponse[address], quiet()))
	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
		code        kit.Code
		detail      string
		violations  []kit.FieldViolation
	}{
		{"json ok", "application/json", `{"zip":"12345"}`, 200, kit.OK, "", nil},
		{"json kit error", "application/json", `{"zip":"bad"}`, 400, kit.InvalidArgument, "zip must have five digits",
			[]kit.FieldViolation{{Field: "zip", Description: "must have five digits"}}},
		{"json coded error", "application/json", `{"zip":"coded"}`, 400, kit.OutOfRange, "out of range", nil},
		{"xml ok", "application/xml", `<address><zip>12345</zip></address>`, 200, kit.OK, "", nil},
		{"xml kit error", "application/xml", `<address><zip>bad</zip></address>`, 400, kit.InvalidArgument, "zip must have five digits",
			[]kit.FieldViolation{{Field: "zip", Description: "must have five digits"}}},
		{"xml coded error", "application/xml", `<address><zip>coded</zip></address>`, 400, kit.OutOfRange, "out of range", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := do(t, http.MethodPost, srv.URL, hdr("Content-Type", tt.contentType), tt.body)
			assert.Equal(t, tt.status, got.status, "body: %s", got.body)
			assert.NotContains(t, got.body, "10.1.2.3")
			if tt.code == kit.OK {
				assert.Equal(t, `{"zip":"12345"}`+"\n", got.body)
				return
			}
			p := decodeProblem(t, []byte(got.body))
			assert.Equal(t, tt.code.String(), p.Code)
			assert.Equal(t, tt.detail, p.Detail)
			assert.Equal(t, tt.violations, p.Violations)
		})
	}
}

// TestFinalizersSeeEveryFailure fails a request at every step a real
// server takes and checks that the error handler and the finalizers see
// each request once, with the status sent, the error and the context the
// before hooks made, and that the guards run before the body is refused.
func TestFinalizersSeeEveryFailure(t *testing.T) {
	t.Parallel()
	type tenantKey struct{}
	var (
		mu      sync.Mutex
		finals  []httpx.FinalizerInfo
		tenants []any
		handled []error
		ran     = make(chan struct{}, 1)
	)
	h := httpx.NewServer(
		kit.Endpoint[sumRequest, sumResponse](func(ctx context.Context, r sumRequest) (sumResponse, error) {
			if r.B == "missing" {
				return sumResponse{}, kit.NewError(kit.NotFound, "no such sum")
			}
			return sum(ctx, r)
		}),
		httpx.DecodeJSONRequest[sumRequest],
		func(ctx context.Context, w http.ResponseWriter, r sumResponse) error {
			switch r.C {
			case "encode-fail":
				return errors.New(secret)
			case "encode-panic":
				panic(secret)
			}
			return httpx.EncodeJSONResponse(ctx, w, r)
		},
		httpx.ServerBefore(
			func(ctx context.Context, r *http.Request) context.Context {
				return context.WithValue(ctx, tenantKey{}, r.Header.Get("X-Tenant"))
			},
			func(ctx context.Context, r *http.Request) context.Context {
				if r.Header.Get("X-Panic") == "before" {
					panic(secret)
				}
				return ctx
			}),
		httpx.ServerGuard(func(ctx context.Context, r *http.Request) (context.Context, error) {
			if r.Header.Get("Authorization") == "" {
				return ctx, kit.NewError(kit.Unauthenticated, "credentials required")
			}
			return ctx, nil
		}),
		httpx.ServerAfter(func(ctx context.Context, _ http.ResponseWriter) context.Context {
			if ctx.Value(tenantKey{}) == "after-panic" {
				panic(secret)
			}
			return ctx
		}),
		httpx.ServerErrorHandler(kit.ErrorHandlerFunc(func(_ context.Context, err error) {
			mu.Lock()
			defer mu.Unlock()
			handled = append(handled, err)
		})),
		httpx.ServerFinalizer(func(ctx context.Context, info httpx.FinalizerInfo) {
			mu.Lock()
			finals = append(finals, info)
			tenants = append(tenants, ctx.Value(tenantKey{}))
			mu.Unlock()
			ran <- struct{}{}
		}),
	)
	srv := newTestServer(t, h)

	tests := []struct {
		name   string
		header http.Header
		body   string
		status int
		code   kit.Code
		panic  bool
	}{
		{"ok", hdr("Authorization", "x"), `{"a":1,"b":"y"}`, 200, kit.OK, false},
		{"before hook panics", hdr("Authorization", "x", "X-Panic", "before"), `{}`, 500, kit.Internal, true},
		{"guard refuses", nil, `{}`, 401, kit.Unauthenticated, false},
		{"guard refuses before the encoding is", hdr("Content-Encoding", "br"), `{}`, 401, kit.Unauthenticated, false},
		{"unsupported encoding", hdr("Authorization", "x", "Content-Encoding", "br"), `{}`, 415, kit.InvalidArgument, false},
		{"malformed body", hdr("Authorization", "x"), `{`, 400, kit.InvalidArgument, false},
		{"endpoint error", hdr("Authorization", "x"), `{"b":"missing"}`, 404, kit.NotFound, false},
		{"after hook panics", hdr("Authorization", "x", "X-Tenant", "after-panic"), `{}`, 500, kit.Internal, true},
		{"encoder fails", hdr("Authorization", "x"), `{"b":"encode-fail"}`, 500, kit.Internal, false},
		{"encoder panics", hdr("Authorization", "x"), `{"b":"encode-panic"}`, 500, kit.Internal, true},
	}
	for _, tt := range tests {
		// Serial: the cases share the finalizers' and the error handler's records.
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			finals, tenants, handled = nil, nil, nil
			mu.Unlock()
			header := tt.header.Clone()
			if header == nil {
				header = http.Header{}
			}
			header.Set("Content-Type", "application/json")
			if header.Get("X-Tenant") == "" {
				header.Set("X-Tenant", "acme")
			}
			got := do(t, http.MethodPost, srv.URL, header, tt.body)
			assert.Equal(t, tt.status, got.status, "body: %s", got.body)
			assert.NotContains(t, got.body, "10.1.2.3")
			select {
			case <-ran:
			case <-time.After(10 * time.Second):
				t.Fatal("the finalizers did not run")
			}

			mu.Lock()
			defer mu.Unlock()
			require.Len(t, finals, 1, "the finalizers see the request once")
			info := finals[0]
			assert.Equal(t, tt.status, info.Status)
			assert.Equal(t, header.Get("X-Tenant"), tenants[0], "the finalizers get the before hooks' context")
			if tt.code == kit.OK {
				assert.NoError(t, info.Err)
				assert.Empty(t, handled)
				return
			}
			assert.Equal(t, tt.code, kit.CodeOf(info.Err), "%v", info.Err)
			require.Len(t, handled, 1, "the error handler sees the request once")
			assert.Equal(t, handled[0], info.Err)
			var p *kit.PanicError
			assert.Equal(t, tt.panic, errors.As(info.Err, &p), "a panic reaches the finalizers with its stack")
		})
	}
}

// unwrappingWriter wraps a ResponseWriter as middleware inside an encoder
// would, and says so with Unwrap.
type unwrappingWriter struct{ http.ResponseWriter }

func (w unwrappingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// opaqueWriter wraps a ResponseWriter and hides it.
type opaqueWriter struct{ http.ResponseWriter }

// TestNegotiationNeedsNoHook: the negotiating encoders read the Accept
// header through the ResponseWriter the server gives them, with no before
// hook, also through a writer that wraps it and unwraps to it; given a
// writer they cannot trace back to a server, they fail with an Internal
// error whose text stays in the process.
func TestNegotiationNeedsNoHook(t *testing.T) {
	t.Parallel()
	var seen atomic.Pointer[error]
	handler := kit.ErrorHandlerFunc(func(_ context.Context, err error) { seen.Store(&err) })
	wrapped := func(wrap func(http.ResponseWriter) http.ResponseWriter) httpx.EncodeResponseFunc[item] {
		return func(ctx context.Context, w http.ResponseWriter, it item) error {
			return jsonOrXMLEncoder(ctx, wrap(w), it)
		}
	}
	tests := []struct {
		name     string
		enc      httpx.EncodeResponseFunc[item]
		accept   string
		status   int
		wantType string
	}{
		{"json or xml", jsonOrXMLEncoder, "application/xml", 200, httpx.XMLContentType},
		{"json or xml, no preference", jsonOrXMLEncoder, "", 200, httpx.JSONContentType},
		{"negotiate response", httpx.NegotiateResponse(httpx.JSONEncoder[item](), httpx.XMLEncoder[item]()), "text/xml;q=0.1, application/xml", 200, httpx.XMLContentType},
		{"negotiate response, not acceptable", httpx.NegotiateResponse(httpx.JSONEncoder[item]()), "application/xml", 406, httpx.ProblemContentType},
		{"through a writer that unwraps", wrapped(func(w http.ResponseWriter) http.ResponseWriter { return unwrappingWriter{unwrappingWriter{w}} }), "application/xml", 200, httpx.XMLContentType},
		{"through a writer that hides the server's", wrapped(func(w http.ResponseWriter) http.ResponseWriter { return opaqueWriter{w} }), "application/xml", 500, httpx.ProblemContentType},
	}
	for _, tt := range tests {
		// Serial: the cases share seen.
		t.Run(tt.name, func(t *testing.T) {
			seen.Store(nil)
			srv := newTestServer(t, httpx.NewServer(kit.Endpoint[item, item](echoItem), jsonOrXMLDecoder, tt.enc,
				httpx.ServerErrorHandler(handler)))
			h := hdr("Content-Type", "application/json")
			if tt.accept != "" {
				h.Set("Accept", tt.accept)
			}
			got := do(t, http.MethodPost, srv.URL, h, `{"id":1}`)
			assert.Equal(t, tt.status, got.status, "body: %s", got.body)
			assert.Equal(t, tt.wantType, got.contentType)
			switch tt.status {
			case 200:
				assert.Equal(t, "Accept", got.vary)
				assert.Contains(t, got.body, "1")
			case 500:
				require.NotNil(t, seen.Load())
				assert.Contains(t, (*seen.Load()).Error(), "content negotiation needs the ResponseWriter an httpx.Server gives its encoders")
				assert.Equal(t, "internal error", decodeProblem(t, []byte(got.body)).Detail)
			}
		})
	}
}
