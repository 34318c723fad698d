package httpx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/typedkit/kit"
)

// DefaultMaxBodyBytes is the request body limit of a Server unless
// [ServerMaxBodyBytes] sets another: 4 MiB, gRPC's default message limit.
const DefaultMaxBodyBytes = 4 << 20

// Server is an http.Handler that serves one typed endpoint. Build it with
// [NewServer]. It is safe for concurrent use.
type Server[Req, Resp any] struct {
	ep     kit.Endpoint[Req, Resp]
	dec    DecodeRequestFunc[Req]
	enc    EncodeResponseFunc[Resp]
	failed func(Resp) error
	serverConfig
}

type serverConfig struct {
	before       []RequestFunc
	after        []ServerResponseFunc
	finalizers   []ServerFinalizerFunc
	errorEncoder ErrorEncoder
	errorHandler kit.ErrorHandler
	maxBody      int64
}

// A ServerOption configures a Server. Options are not generic: the same
// option values serve servers of every request and response type.
type ServerOption func(*serverConfig)

// ServerBefore adds hooks that run before the request is decoded, in the
// order given, each with the context the one before returned.
func ServerBefore(before ...RequestFunc) ServerOption {
	return func(c *serverConfig) { c.before = append(c.before, before...) }
}

// ServerAfter adds hooks that run after the endpoint succeeds and before the
// response is encoded, in the order given.
func ServerAfter(after ...ServerResponseFunc) ServerOption {
	return func(c *serverConfig) { c.after = append(c.after, after...) }
}

// ServerFinalizer adds hooks that run at the end of every request, whatever
// happened, with its status, size, duration and error.
func ServerFinalizer(f ...ServerFinalizerFunc) ServerOption {
	return func(c *serverConfig) { c.finalizers = append(c.finalizers, f...) }
}

// ServerErrorEncoder sets the function that writes errors to the client.
// The default is [DefaultErrorEncoder].
func ServerErrorEncoder(ee ErrorEncoder) ServerOption {
	return func(c *serverConfig) { c.errorEncoder = ee }
}

// ServerErrorHandler sets the handler that sees every error before it is
// encoded, for logging or metrics. The default, [kit.LogServerFaults], logs the
// errors that are the server's fault (and every panic, with its stack) to
// slog.Default().
func ServerErrorHandler(h kit.ErrorHandler) ServerOption {
	return func(c *serverConfig) { c.errorHandler = h }
}

// ServerMaxBodyBytes sets the request body limit. A decoder that reads past
// it gets an *http.MaxBytesError, answered 413. A limit of 0 or less
// removes it.
func ServerMaxBodyBytes(n int64) ServerOption {
	return func(c *serverConfig) { c.maxBody = n }
}

// NewServer returns a Server that decodes requests with dec, calls ep and
// encodes its responses with enc. The JSON helpers fit without type
// arguments:
//
//	httpx.NewServer(ep, httpx.DecodeJSONRequest, httpx.EncodeJSONResponse)
func NewServer[Req, Resp any](ep kit.Endpoint[Req, Resp], dec DecodeRequestFunc[Req], enc EncodeResponseFunc[Resp], opts ...ServerOption) *Server[Req, Resp] {
	s := &Server[Req, Resp]{
		ep:     ep,
		dec:    dec,
		enc:    enc,
		failed: kit.FailedFunc[Resp](),
		serverConfig: serverConfig{
			errorEncoder: DefaultErrorEncoder,
			errorHandler: kit.LogServerFaults(nil),
			maxBody:      DefaultMaxBodyBytes,
		},
	}
	for _, o := range opts {
		o(&s.serverConfig)
	}
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server[Req, Resp]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()

	var start time.Time
	var iw *interceptingWriter
	if len(s.finalizers) > 0 {
		start = time.Now()
		iw = &interceptingWriter{ResponseWriter: w}
		w = iw
	}

	var lb *limitedBody
	if s.maxBody > 0 && r.Body != nil && r.Body != http.NoBody {
		lb = &limitedBody{rc: r.Body, n: s.maxBody, limit: s.maxBody}
		r.Body = lb
	}

	var err error
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler { //nolint:errorlint // compared as net/http does
				panic(v)
			}
			err = kit.WrapError(kit.Internal, &kit.PanicError{Value: v, Stack: debug.Stack()}, "")
			if iw == nil || iw.status == 0 {
				s.fail(ctx, w, err)
			} else {
				s.errorHandler.Handle(ctx, err)
			}
		}
		if iw != nil {
			info := FinalizerInfo{Request: r, Status: iw.status, Written: iw.written, Duration: time.Since(start), Err: err}
			if info.Status == 0 {
				info.Status = http.StatusOK
			}
			for _, f := range s.finalizers {
				f(ctx, info)
			}
		}
	}()

	for _, f := range s.before {
		ctx = f(ctx, r)
	}

	req, err := s.dec(ctx, r)
	if err != nil {
		err = decodeError(err)
		s.fail(ctx, w, err)
		return
	}

	resp, err := s.ep(ctx, req)
	if err == nil {
		err = s.failed(resp)
	}
	if err != nil {
		s.fail(ctx, w, err)
		return
	}

	for _, f := range s.after {
		ctx = f(ctx, w)
	}

	if err = s.enc(ctx, w, resp); err != nil {
		err = encodeError(err)
		s.fail(ctx, w, err)
		return
	}
}

func (s *Server[Req, Resp]) fail(ctx context.Context, w http.ResponseWriter, err error) {
	s.errorHandler.Handle(ctx, err)
	s.errorEncoder(ctx, err, w)
}

// decodeError gives a decoder's error the InvalidArgument code unless it
// has a code or a status of its own.
func decodeError(err error) error {
	var ke *kit.Error
	var sc StatusCoder
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return &StatusError{Status: http.StatusRequestEntityTooLarge,
			Err: kit.WrapError(kit.ResourceExhausted, err, fmt.Sprintf("request body exceeds %d bytes", mbe.Limit))}
	case errors.As(err, &ke), errors.As(err, &sc):
		return err
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	return kit.WrapError(kit.InvalidArgument, err, "invalid request: "+err.Error())
}

// encodeError gives an encoder's error the Internal code unless it chooses
// its own status, as the 406 of content negotiation does.
func encodeError(err error) error {
	var sc StatusCoder
	if errors.As(err, &sc) {
		return err
	}
	return kit.WrapError(kit.Internal, err, "")
}

// limitedBody is a request body that fails with *http.MaxBytesError past its
// limit.
type limitedBody struct {
	rc       io.ReadCloser
	n, limit int64
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.n <= 0 {
		// One byte more tells a body that ends exactly at the limit from
		// one that goes past it.
		var one [1]byte
		n, err := l.rc.Read(one[:])
		if n > 0 {
			return 0, &http.MaxBytesError{Limit: l.limit}
		}
		return 0, err
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.rc.Read(p)
	l.n -= int64(n)
	return n, err
}

func (l *limitedBody) Close() error { return l.rc.Close() }

// interceptingWriter records the status and size of a response for the
// finalizers.
type interceptingWriter struct {
	http.ResponseWriter
	status  int
	written int64
}

func (w *interceptingWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *interceptingWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.written += int64(n)
	return n, err
}

// Unwrap returns the wrapped ResponseWriter, for http.ResponseController.
func (w *interceptingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush flushes the wrapped writer if it can.
func (w *interceptingWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		if w.status == 0 {
			w.status = http.StatusOK
		}
		f.Flush()
	}
}
