package httpx

import (
	"compress/flate"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/internal/failer"
	"github.com/typedkit/kit/internal/hook"
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
	call         kit.Call
	interceptors []kit.Interceptor
	before       []RequestFunc
	guards       []GuardFunc
	after        []ServerResponseFunc
	finalizers   []ServerFinalizerFunc
	errorEncoder ErrorEncoder
	errorHandler kit.ErrorHandler
	maxBody      int64

	streamIdle, heartbeat       time.Duration
	streamIdleSet, heartbeatSet bool
}

// A ServerOption configures a Server. Options are not generic: the same
// option values serve servers of every request and response type.
type ServerOption func(*serverConfig)

// ServerBefore adds hooks that run before the request is decoded, in the
// order given, each with the context the one before returned.
func ServerBefore(before ...RequestFunc) ServerOption {
	return func(c *serverConfig) { c.before = append(c.before, before...) }
}

// ServerGuard adds guards that run after the before hooks and before the
// request body is read, in the order given: the place for what must see
// every request and may refuse it before any work, such as authentication
// (auth.HTTPGuard) or a rate limit. A guard's error is answered by the
// error encoder and seen by the error handler and the finalizers; a
// *kit.Error anywhere in its chain keeps its code and message, a
// [kit.Coder], a [StatusCoder] or a context's error its code or status,
// and any other error is a [kit.Conceal]ed PermissionDenied.
func ServerGuard(guards ...GuardFunc) ServerOption {
	return func(c *serverConfig) { c.guards = append(c.guards, guards...) }
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

// newServerConfig returns the defaults of a server with opts applied.
func newServerConfig(opts []ServerOption) serverConfig {
	c := serverConfig{
		errorEncoder: DefaultErrorEncoder,
		errorHandler: kit.LogServerFaults(nil),
		maxBody:      DefaultMaxBodyBytes,
	}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// NewServer returns a Server that decodes requests with dec, calls ep and
// encodes its responses with enc. The JSON helpers fit without type
// arguments:
//
//	httpx.NewServer(ep, httpx.DecodeJSONRequest, httpx.EncodeJSONResponse)
func NewServer[Req, Resp any](ep kit.Endpoint[Req, Resp], dec DecodeRequestFunc[Req], enc EncodeResponseFunc[Resp], opts ...ServerOption) *Server[Req, Resp] {
	s := &Server[Req, Resp]{
		ep:           ep,
		dec:          dec,
		enc:          enc,
		failed:       failer.Func[Resp](),
		serverConfig: newServerConfig(opts),
	}
	s.ep = kit.Intercept(ep, s.serverConfig.callOf(), s.interceptors...)
	return s
}

// ServeHTTP implements http.Handler.
//
// Every hook runs under recovery: a panic anywhere — a before hook, a
// guard, the decoder, the endpoint, an after hook, the encoder, the error
// handler or encoder, a finalizer — is answered 500 (or aborts the
// response, when its status was already sent) and the server stays up.
// When the encoder fails after the status was sent, the response is
// aborted (http.ErrAbortHandler) so that the client sees a broken
// response, never a success.
//
// The ResponseWriter that the hooks and the encoder are given is valid
// only until ServeHTTP returns, as net/http's is: it is reused for later
// requests, so a goroutine that writes to it afterwards writes into
// another response.
func (s *Server[Req, Resp]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var start time.Time
	if len(s.finalizers) > 0 {
		start = time.Now()
	}
	iw := getWriter(w, r)
	defer putWriter(iw)

	var encErr error
	if ce := r.Header.Get("Content-Encoding"); ce != "" && r.Body != nil && r.Body != http.NoBody {
		encErr = decompressBody(r, ce, s.maxBody)
	}
	if s.maxBody > 0 && r.Body != nil && r.Body != http.NoBody {
		r.Body = &limitedBody{rc: r.Body, n: s.maxBody, limit: s.maxBody}
	}

	err, abort := s.serve(&ctx, iw, r, encErr)
	if len(s.finalizers) > 0 {
		info := FinalizerInfo{Request: r, Status: iw.status, Written: iw.written, Duration: time.Since(start), Err: err}
		if info.Status == 0 {
			info.Status = http.StatusOK
		}
		for _, f := range s.finalizers {
			s.safely(ctx, func() { f(ctx, info) })
		}
	}
	if abort {
		panic(http.ErrAbortHandler)
	}
}

// serve runs the hooks, the decoder, the endpoint and the encoder, and
// answers an error. It returns the error the request ended with and
// whether the response must be aborted. bodyErr is the refusal of the
// request's body, such as an unsupported Content-Encoding, found before
// any hook ran: it is answered after the before hooks and the guards, as
// a decoder's error would be, so that a refused caller learns nothing
// about what the server reads and the finalizers see the hooks' context.
func (s *Server[Req, Resp]) serve(pctx *context.Context, w *interceptingWriter, r *http.Request, bodyErr error) (err error, abort bool) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler { //nolint:errorlint // compared as net/http does
				err, abort = kit.WrapError(kit.Canceled, http.ErrAbortHandler, ""), true
				return
			}
			err = kit.WrapError(kit.Internal, &kit.PanicError{Value: v, Stack: debug.Stack()}, "")
			abort = s.fail(*pctx, w, err)
		}
	}()

	ctx := *pctx
	for _, f := range s.before {
		ctx = f(ctx, r)
		*pctx = ctx
	}
	for _, g := range s.guards {
		if ctx, err = g(ctx, r); err != nil {
			err = guardError(err)
			return err, s.fail(*pctx, w, err)
		}
		*pctx = ctx
	}
	if bodyErr != nil {
		return bodyErr, s.fail(ctx, w, bodyErr)
	}

	req, err := s.dec(ctx, r)
	if err != nil {
		err = decodeError(err)
		return err, s.fail(ctx, w, err)
	}

	resp, err := s.ep(ctx, req)
	if err == nil {
		err = s.failed(resp)
	}
	if err != nil {
		return err, s.fail(ctx, w, err)
	}

	for _, f := range s.after {
		ctx = f(ctx, w)
		*pctx = ctx
	}

	if err = s.enc(ctx, w, resp); err != nil {
		err = encodeError(err)
		return err, s.fail(ctx, w, err)
	}
	return nil, false
}

// safely runs f, a user hook that runs after the answer was chosen,
// handing a panic in it to the error handler.
func (s *serverConfig) safely(ctx context.Context, f func()) {
	hook.Safely(ctx, s.errorHandler, f)
}

// fail hands err to the error handler and, unless the response's status
// was already sent, to the error encoder. It reports whether the response
// must be aborted instead: the status was sent, or the error encoder
// panicked after it began to write.
func (s *serverConfig) fail(ctx context.Context, w *interceptingWriter, err error) (abort bool) {
	s.safely(ctx, func() { s.errorHandler.Handle(ctx, err) })
	if w.status != 0 {
		return true
	}
	defer func() {
		if v := recover(); v != nil {
			perr := kit.WrapError(kit.Internal, &kit.PanicError{Value: v, Stack: debug.Stack()}, "")
			s.safely(ctx, func() { s.errorHandler.Handle(ctx, perr) })
			if w.status == 0 {
				writeFallbackError(w)
				return
			}
			abort = true
		}
	}()
	s.errorEncoder(ctx, err, w)
	return false
}

// writeFallbackError answers 500 with a fixed problem body, for when the
// error encoder failed.
func writeFallbackError(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", ProblemContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = io.WriteString(w, `{"title":"Internal Server Error","status":500,"code":"internal","detail":"internal error"}`+"\n")
}

// decompressBody replaces the body of a request sent with a
// Content-Encoding by its decoded bytes: gzip is decoded as it is read, so
// the body limit applies to the decompressed bytes, and to the compressed
// bytes read off the wire too (empty gzip members decompress to nothing);
// identity is the body itself; any other encoding is refused with 415.
func decompressBody(r *http.Request, ce string, maxBody int64) error {
	switch strings.ToLower(strings.TrimSpace(ce)) {
	case "identity":
		return nil
	case "gzip", "x-gzip":
		raw := r.Body
		if maxBody > 0 {
			raw = &limitedBody{rc: raw, n: maxBody, limit: maxBody}
		}
		r.Body = &gzipBody{raw: raw}
		r.Header.Del("Content-Encoding")
		r.Header.Del("Content-Length")
		r.ContentLength = -1
		return nil
	}
	return &StatusError{Status: http.StatusUnsupportedMediaType,
		Err: kit.NewError(kit.InvalidArgument, "unsupported Content-Encoding "+strconv.Quote(ce)+": send gzip or identity")}
}

// gzipBody decodes a gzip request body as it is read. The gzip reader is
// made at the first Read, so nothing is read before the decoder asks.
type gzipBody struct {
	raw io.ReadCloser
	zr  *gzip.Reader
	err error
}

func (g *gzipBody) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	if g.zr == nil {
		zr, err := gzip.NewReader(g.raw)
		if err != nil {
			g.err = gzipError(err)
			return 0, g.err
		}
		g.zr = zr
	}
	n, err := g.zr.Read(p)
	if err != nil && err != io.EOF { //nolint:errorlint // io.EOF is returned unwrapped by Read
		err = gzipError(err)
	}
	return n, err
}

func (g *gzipBody) Close() error { return g.raw.Close() }

// gzipError is the error of a body that is not valid gzip; errors of the
// connection underneath pass unchanged.
func gzipError(err error) error {
	if errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) || errors.Is(err, io.ErrUnexpectedEOF) {
		return kit.WrapError(kit.InvalidArgument, err, "malformed gzip request body")
	}
	var ce flate.CorruptInputError
	if errors.As(err, &ce) {
		return kit.WrapError(kit.InvalidArgument, err, "malformed gzip request body")
	}
	return err
}

// guardError gives a guard's error the PermissionDenied code unless it has
// a code or a status of its own.
func guardError(err error) error {
	if hasCode(err) {
		return err
	}
	return kit.Conceal(kit.PermissionDenied, err)
}

// decodeError gives a decoder's error the InvalidArgument code unless it
// has a code or a status of its own; a plain error is concealed, so its
// text never reaches the caller.
func decodeError(err error) error {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return &StatusError{Status: http.StatusRequestEntityTooLarge,
			Err: kit.WrapError(kit.ResourceExhausted, err, fmt.Sprintf("request body exceeds %d bytes", mbe.Limit))}
	case hasCode(err):
		return err
	case isTimeout(err):
		return &StatusError{Status: http.StatusRequestTimeout,
			Err: kit.WrapError(kit.DeadlineExceeded, err, "request body not received in time")}
	}
	return kit.Conceal(kit.InvalidArgument, err)
}

// hasCode reports whether err chooses its own answer: a *kit.Error, a
// [kit.Coder] or a [StatusCoder] anywhere in its chain, or a context's
// error (Canceled, DeadlineExceeded). Such an error is answered as it is,
// never wrapped in another *kit.Error, whose code and message would hide
// its own.
func hasCode(err error) bool {
	var ke *kit.Error
	var kc kit.Coder
	var sc StatusCoder
	return errors.As(err, &ke) || errors.As(err, &kc) || errors.As(err, &sc) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// isTimeout reports whether err is a network timeout, such as a read
// deadline that passed.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// encodeError gives an encoder's error the Internal code unless it has a
// code or a status of its own ([hasCode]), as the 406 of content
// negotiation does: such an error is answered as it is, with its code,
// public message, violations and retry wait.
func encodeError(err error) error {
	if hasCode(err) {
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

// interceptingWriter records the status and size of a response, for the
// finalizers and to tell whether an error can still be answered. It also
// keeps the request it answers, so that a negotiating encoder, which is
// given only the context and the writer, reads the request's Accept header
// (see [requestOf]).
type interceptingWriter struct {
	http.ResponseWriter
	req     *http.Request
	status  int
	written int64
}

var writerPool = sync.Pool{New: func() any { return new(interceptingWriter) }}

func getWriter(w http.ResponseWriter, r *http.Request) *interceptingWriter {
	iw := writerPool.Get().(*interceptingWriter)
	iw.ResponseWriter = w
	iw.req = r
	return iw
}

func putWriter(iw *interceptingWriter) {
	*iw = interceptingWriter{}
	writerPool.Put(iw)
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
