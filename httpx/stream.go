package httpx

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"mime"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/typedkit/kit"
)

// The media types of streams.
const (
	// EventStreamContentType is Server-Sent Events: each message one
	// event whose data is its JSON.
	EventStreamContentType = "text/event-stream"
	// NDJSONContentType is newline-delimited JSON: one JSON value a line.
	NDJSONContentType = "application/x-ndjson"
	// JSONLContentType is JSON Lines, the same format under the name
	// OpenAPI 3.2 uses.
	JSONLContentType = "application/jsonl"
)

// Defaults of stream handlers.
const (
	// DefaultStreamIdleTimeout is how long a stream may wait for a write
	// to its client (a client that stopped reading) or, for a stream of
	// requests, for the next request, before it is ended: 60 seconds. A
	// stream that waits for its own next message, such as a quiet watch,
	// is never cut by it.
	DefaultStreamIdleTimeout = 60 * time.Second
	// DefaultStreamHeartbeat is how often a Server-Sent Events stream with
	// nothing to send writes a comment, so that proxies and balancers
	// keep its connection: 15 seconds.
	DefaultStreamHeartbeat = 15 * time.Second
)

// ServerStreamIdleTimeout sets how long a stream handler waits for a
// write to complete or for the client's next request before it ends the
// stream (see [DefaultStreamIdleTimeout]); 0 or less removes the bound.
// It replaces, for streams, the per-request deadlines [Serve] sets, which
// would cut a healthy long stream.
func ServerStreamIdleTimeout(d time.Duration) ServerOption {
	return func(c *serverConfig) { c.streamIdle, c.streamIdleSet = d, true }
}

// ServerStreamHeartbeat sets how often a Server-Sent Events stream writes
// a comment when it has nothing else to send (see
// [DefaultStreamHeartbeat]); 0 or less sends none.
func ServerStreamHeartbeat(d time.Duration) ServerOption {
	return func(c *serverConfig) { c.heartbeat, c.heartbeatSet = d, true }
}

func (c *serverConfig) idle() time.Duration {
	if !c.streamIdleSet {
		return DefaultStreamIdleTimeout
	}
	return c.streamIdle
}

func (c *serverConfig) beat() time.Duration {
	if !c.heartbeatSet {
		return DefaultStreamHeartbeat
	}
	return c.heartbeat
}

func newStreamServerConfig(opts []ServerOption) *serverConfig {
	cfg := newServerConfig(opts)
	return &cfg
}

// ServerStreamHandler returns an http.Handler that serves ep: it decodes
// the request with dec, calls ep, and writes each element of its sequence
// as it comes, flushed at once, in the format the request's Accept header
// asks for:
//
//   - text/event-stream (Server-Sent Events, what a browser's EventSource
//     asks for): each element an event with an "id:" (1, 2, …) and its
//     JSON as "data:"; an error that ends the stream an "error" event
//     whose data is its [Problem]; the end of the stream an "end" event
//     (data {}), after which a client should not reconnect; a comment
//     every heartbeat ([ServerStreamHeartbeat]) while nothing else is
//     sent.
//   - application/x-ndjson or application/jsonl (and any other Accept):
//     one JSON object a line, {"result": element} for each element and
//     {"error": problem} for an error that ends the stream, as
//     grpc-gateway writes server streams.
//
// An error before the stream opened (the before hooks, guards, decoder,
// or ep itself) is answered as a unary [Server] answers it, with its
// status and problem body. The interceptors see the whole stream (see
// [kit.InterceptServerStream]); the after hooks run when the stream
// opens, before its status is written. The per-request deadlines of
// [Serve] are replaced by the idle timeout ([ServerStreamIdleTimeout]);
// when [Serve] drains, the stream ends with an Unavailable error, so a
// client reconnects to another instance.
func ServerStreamHandler[Req, Resp any](ep kit.ServerStreamEndpoint[Req, Resp], dec DecodeRequestFunc[Req], opts ...ServerOption) http.Handler {
	cfg := newStreamServerConfig(opts)
	call := cfg.callOf()
	call.Stream = kit.ServerStream
	ep = kit.InterceptServerStream(ep, call, cfg.interceptors...)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cfg.serveStream(w, r, false, func(ctx context.Context, r *http.Request, sw *streamWriter) error {
			req, err := dec(ctx, r)
			if err != nil {
				return decodeError(err)
			}
			seq, err := ep(ctx, req)
			if err != nil {
				return err
			}
			return writeSeq(ctx, cfg, sw, seq)
		})
	})
}

// ClientStreamHandler returns an http.Handler that serves ep: the request
// body is a stream of requests, one JSON object a line
// (application/x-ndjson or application/jsonl; blank lines are skipped),
// which ep ranges over as they arrive; ep's response is written by enc
// when it returns, as a unary [Server] writes it. A line that is not a
// request ends the sequence with an InvalidArgument error; the body limit
// ([ServerMaxBodyBytes]) bounds each line, not the whole body.
func ClientStreamHandler[Req, Resp any](ep kit.ClientStreamEndpoint[Req, Resp], enc EncodeResponseFunc[Resp], opts ...ServerOption) http.Handler {
	cfg := newStreamServerConfig(opts)
	call := cfg.callOf()
	call.Stream = kit.ClientStream
	ep = kit.InterceptClientStream(ep, call, cfg.interceptors...)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cfg.serveStream(w, r, true, func(ctx context.Context, r *http.Request, sw *streamWriter) error {
			reqs, err := cfg.readLines(r, sw)
			if err != nil {
				return err
			}
			resp, err := ep(ctx, iter.Seq2[Req, error](linesOf[Req](reqs)))
			if err == nil {
				err = kit.Failed(resp)
			}
			if err != nil {
				return err
			}
			ctx = sw.after(ctx, cfg)
			sw.boundAnswer()
			if err := enc(ctx, sw.w, resp); err != nil {
				return encodeError(err)
			}
			return nil
		})
	})
}

// BidiStreamHandler returns an http.Handler that serves ep over one HTTP
// exchange in both directions at once: the request body is read as
// [ClientStreamHandler] reads it while the responses are written as
// [ServerStreamHandler] writes them. Over HTTP/1.1 the handler enables
// full duplex (http.ResponseController.EnableFullDuplex); HTTP/2, with
// TLS or cleartext (h2c, which [Serve] enables), is full duplex itself.
// The client must send its body while it reads the response, which curl,
// Go's client and fetch with a streaming body in Chromium over HTTP/2 do.
func BidiStreamHandler[Req, Resp any](ep kit.BidiStreamEndpoint[Req, Resp], opts ...ServerOption) http.Handler {
	cfg := newStreamServerConfig(opts)
	call := cfg.callOf()
	call.Stream = kit.BidiStream
	ep = kit.InterceptBidiStream(ep, call, cfg.interceptors...)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cfg.serveStream(w, r, true, func(ctx context.Context, r *http.Request, sw *streamWriter) error {
			if r.ProtoMajor == 1 {
				if err := sw.rc.EnableFullDuplex(); err != nil {
					return kit.WrapError(kit.Internal, err, "")
				}
			}
			reqs, err := cfg.readLines(r, sw)
			if err != nil {
				return err
			}
			seq, err := ep(ctx, iter.Seq2[Req, error](linesOf[Req](reqs)))
			if err != nil {
				return err
			}
			return writeSeq(ctx, cfg, sw, seq)
		})
	})
}

// errDraining is the cause of a stream's context when [Serve] drains.
var errDraining = kit.NewError(kit.Unavailable, "the server is shutting down; reconnect")

// serveStream runs one stream request: the before hooks and guards, then
// run under recovery, then the error handler (for an error answered
// before the stream opened it is the error encoder's), the finalizers and,
// when the stream failed after its status was sent with no way to say so,
// the abort of the response.
func (s *serverConfig) serveStream(w http.ResponseWriter, r *http.Request, body bool, run func(context.Context, *http.Request, *streamWriter) error) {
	var start time.Time
	if len(s.finalizers) > 0 {
		start = time.Now()
	}
	iw := getWriter(w, r)
	defer putWriter(iw)
	sw := &streamWriter{w: iw, rc: http.NewResponseController(iw), idle: s.idle(), format: negotiateStream(r.Header.Get("Accept"))}
	// The stream replaces Serve's deadlines of the whole request by its
	// own, for each write and read.
	_ = sw.rc.SetWriteDeadline(time.Time{})
	if body {
		_ = sw.rc.SetReadDeadline(time.Time{})
	}
	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(nil)
	if drain := drainingOf(r.Context()); drain != nil {
		go func() {
			select {
			case <-drain:
				cancel(errDraining)
			case <-ctx.Done():
			}
		}()
	}

	err := func() (err error) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler { //nolint:errorlint // compared as net/http does
					err = kit.WrapError(kit.Canceled, http.ErrAbortHandler, "")
					sw.abort = true
					return
				}
				err = kit.WrapError(kit.Internal, &kit.PanicError{Value: v, Stack: debug.Stack()}, "")
			}
		}()
		for _, f := range s.before {
			ctx = f(ctx, r)
		}
		for _, g := range s.guards {
			if ctx, err = g(ctx, r); err != nil {
				return guardError(err)
			}
		}
		return run(ctx, r, sw)
	}()
	if err != nil && errors.Is(context.Cause(ctx), errDraining) && kit.CodeOf(err) == kit.Canceled {
		err = errDraining
	}
	sw.stopBeat()
	switch {
	case err == nil:
		sw.end()
	case !sw.opened && iw.status == 0:
		sw.abort = s.fail(ctx, iw, err)
	default:
		s.safely(ctx, func() { s.errorHandler.Handle(ctx, err) })
		if sw.opened {
			sw.fail(err)
		} else {
			sw.abort = true
		}
	}
	if len(s.finalizers) > 0 {
		info := FinalizerInfo{Request: r, Status: iw.status, Written: iw.written, Duration: time.Since(start), Err: err}
		if info.Status == 0 {
			info.Status = http.StatusOK
		}
		for _, f := range s.finalizers {
			s.safely(ctx, func() { f(ctx, info) })
		}
	}
	if sw.abort {
		panic(http.ErrAbortHandler)
	}
}

// streamFormat is how a stream's responses are written.
type streamFormat uint8

const (
	formatNDJSON streamFormat = iota
	formatJSONL
	formatSSE
)

// negotiateStream picks the format of a stream from an Accept header: SSE
// when it names text/event-stream, JSON Lines when it names
// application/jsonl, NDJSON otherwise.
func negotiateStream(accept string) streamFormat {
	f := formatNDJSON
	for part := range strings.SplitSeq(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case EventStreamContentType:
			return formatSSE
		case JSONLContentType:
			f = formatJSONL
		}
	}
	return f
}

// streamWriter writes the messages of one stream response.
type streamWriter struct {
	mu     sync.Mutex
	w      *interceptingWriter
	rc     *http.ResponseController
	idle   time.Duration
	format streamFormat
	buf    bytes.Buffer
	enc    *json.Encoder
	id     uint64
	opened bool
	abort  bool
	beat   *time.Timer
	done   bool
}

// after runs the after hooks, once, before the status is written.
func (sw *streamWriter) after(ctx context.Context, cfg *serverConfig) context.Context {
	for _, f := range cfg.after {
		ctx = f(ctx, sw.w)
	}
	return ctx
}

// boundAnswer gives the one answer of a client stream the idle timeout as
// its write deadline.
func (sw *streamWriter) boundAnswer() {
	if sw.idle > 0 {
		_ = sw.rc.SetWriteDeadline(time.Now().Add(sw.idle))
	}
}

// open writes the stream's status and headers and starts its heartbeat.
func (sw *streamWriter) open(beat time.Duration) error {
	h := sw.w.Header()
	switch sw.format {
	case formatSSE:
		h.Set("Content-Type", EventStreamContentType)
	case formatJSONL:
		h.Set("Content-Type", JSONLContentType)
	default:
		h.Set("Content-Type", NDJSONContentType)
	}
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length")
	sw.mu.Lock()
	defer sw.mu.Unlock()
	sw.opened = true
	sw.w.WriteHeader(http.StatusOK)
	if err := sw.flushLocked(); err != nil {
		return err
	}
	if sw.format == formatSSE && beat > 0 {
		sw.beat = time.AfterFunc(beat, func() { sw.heartbeat(beat) })
	}
	return nil
}

// heartbeat writes an SSE comment and schedules the next one.
func (sw *streamWriter) heartbeat(every time.Duration) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if sw.done {
		return
	}
	sw.buf.Reset()
	sw.buf.WriteString(": keep-alive\n\n")
	if sw.writeLocked() == nil {
		sw.beat.Reset(every)
	}
}

func (sw *streamWriter) stopBeat() {
	sw.mu.Lock()
	sw.done = true
	if sw.beat != nil {
		sw.beat.Stop()
	}
	sw.mu.Unlock()
}

// send writes one element.
func (sw *streamWriter) send(v any) error {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if sw.enc == nil {
		sw.enc = json.NewEncoder(&sw.buf)
	}
	sw.buf.Reset()
	switch sw.format {
	case formatSSE:
		sw.id++
		sw.buf.WriteString("id: ")
		sw.buf.WriteString(strconv.FormatUint(sw.id, 10))
		sw.buf.WriteString("\ndata: ")
		if err := sw.enc.Encode(v); err != nil {
			return encodeError(err)
		}
		sw.buf.WriteByte('\n')
	default:
		sw.buf.WriteString(`{"result":`)
		if err := sw.enc.Encode(v); err != nil {
			return encodeError(err)
		}
		// Encode ended the value with a newline: close the object
		// before it.
		sw.buf.Truncate(sw.buf.Len() - 1)
		sw.buf.WriteString("}\n")
	}
	return sw.writeLocked()
}

// fail writes the error that ends an open stream.
func (sw *streamWriter) fail(err error) {
	p := ProblemOf(err)
	sw.mu.Lock()
	defer sw.mu.Unlock()
	b, merr := json.Marshal(p)
	if merr != nil {
		sw.abort = true
		return
	}
	sw.buf.Reset()
	switch sw.format {
	case formatSSE:
		sw.buf.WriteString("event: error\ndata: ")
		sw.buf.Write(b)
		sw.buf.WriteString("\n\n")
	default:
		sw.buf.WriteString(`{"error":`)
		sw.buf.Write(b)
		sw.buf.WriteString("}\n")
	}
	if sw.writeLocked() != nil {
		sw.abort = true
	}
}

// end writes the end of a stream that ended without an error.
func (sw *streamWriter) end() {
	if !sw.opened || sw.format != formatSSE {
		return
	}
	sw.mu.Lock()
	defer sw.mu.Unlock()
	sw.buf.Reset()
	sw.buf.WriteString("event: end\ndata: {}\n\n")
	_ = sw.writeLocked()
}

// writeLocked writes the buffer and flushes it, within the idle timeout.
func (sw *streamWriter) writeLocked() error {
	if sw.idle > 0 {
		_ = sw.rc.SetWriteDeadline(time.Now().Add(sw.idle))
	}
	if _, err := sw.w.Write(sw.buf.Bytes()); err != nil {
		return kit.WrapError(kit.Canceled, err, "")
	}
	return sw.flushLocked()
}

func (sw *streamWriter) flushLocked() error {
	if err := sw.rc.Flush(); err != nil {
		return kit.WrapError(kit.Canceled, err, "")
	}
	return nil
}

// writeSeq opens the stream and writes each element of seq.
func writeSeq[Resp any](ctx context.Context, cfg *serverConfig, sw *streamWriter, seq iter.Seq2[Resp, error]) error {
	_ = sw.after(ctx, cfg) // nothing after the hooks reads their context
	if err := sw.open(cfg.beat()); err != nil {
		return err
	}
	if seq == nil {
		return nil
	}
	for v, err := range seq {
		if err != nil {
			return err
		}
		if err := sw.send(v); err != nil {
			return err
		}
	}
	return nil
}

// lineReader reads the lines of a stream of requests.
type lineReader struct {
	br   *bufio.Reader
	rc   *http.ResponseController
	idle time.Duration
	max  int64
	buf  []byte
}

// readLines checks a stream request's Content-Type and returns the reader
// of its lines.
func (s *serverConfig) readLines(r *http.Request, sw *streamWriter) (*lineReader, error) {
	ct := r.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	switch mt {
	case NDJSONContentType, JSONLContentType, JSONContentType, "application/json-seq":
	default:
		return nil, unsupportedMediaType(ct, NDJSONContentType+" (one JSON object a line)")
	}
	body := r.Body
	if lb, ok := body.(*limitedBody); ok {
		// The limit bounds each line, not the stream.
		body = lb.rc
	}
	if body == nil {
		body = http.NoBody
	}
	return &lineReader{br: bufio.NewReader(body), rc: sw.rc, idle: sw.idle, max: s.maxBody}, nil
}

// next returns the next non-blank line, io.EOF at the end of the body.
func (lr *lineReader) next() ([]byte, error) {
	for {
		if lr.idle > 0 {
			_ = lr.rc.SetReadDeadline(time.Now().Add(lr.idle))
		}
		lr.buf = lr.buf[:0]
		for {
			chunk, err := lr.br.ReadSlice('\n')
			lr.buf = append(lr.buf, chunk...)
			if lr.max > 0 && int64(len(lr.buf)) > lr.max {
				return nil, &StatusError{Status: http.StatusRequestEntityTooLarge,
					Err: kit.NewError(kit.ResourceExhausted, fmt.Sprintf("a message of the stream exceeds %d bytes", lr.max))}
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			if err != nil {
				if errors.Is(err, io.EOF) && len(bytes.TrimSpace(lr.buf)) > 0 {
					// The last line may lack its newline.
					return lr.buf, nil
				}
				if errors.Is(err, io.EOF) {
					return nil, io.EOF
				}
				return nil, kit.WrapError(kit.Canceled, err, "the stream of requests broke off")
			}
			break
		}
		if line := bytes.TrimSpace(lr.buf); len(line) > 0 {
			return line, nil
		}
	}
}

// linesOf returns the requests of a line reader as a sequence, decoded
// with the JSON rules of [DecodeJSONRequest].
func linesOf[Req any](lr *lineReader) iter.Seq2[Req, error] {
	return func(yield func(Req, error) bool) {
		for {
			line, err := lr.next()
			if errors.Is(err, io.EOF) {
				return
			}
			var zero Req
			if err != nil {
				yield(zero, err)
				return
			}
			var v Req
			if err := unmarshalJSON(line, &v, false); err != nil {
				yield(zero, decodeError(err))
				return
			}
			if !yield(v, nil) {
				return
			}
		}
	}
}

// streamHTTPClient is the HTTP client of stream clients without
// [ClientHTTPClient]: http.DefaultTransport with no timeout of the whole
// call, which would end every long stream.
var streamHTTPClient = &http.Client{}

// streamClient is what the stream clients of one route share.
type streamClient struct {
	method string
	target string
	clientConfig
}

func newStreamClient(method string, target *url.URL, opts []ClientOption) *streamClient {
	c := &streamClient{method: method, target: target.String(),
		clientConfig: clientConfig{client: defaultHTTPClient, maxBody: DefaultMaxResponseBytes}}
	for _, o := range opts {
		o(&c.clientConfig)
	}
	if c.client == defaultHTTPClient {
		c.client = streamHTTPClient
	}
	return c
}

func (c *streamClient) callOf(kind kit.StreamKind) kit.Call {
	call := c.call
	call.Transport, call.Side, call.Stream = kit.HTTP, kit.ClientSide, kind
	return call
}

// ServerStreamClient returns an endpoint that calls a server-stream route
// (such as one of [ServerStreamHandler]): it sends the request encoded by
// enc with Accept application/x-ndjson, answers a non-2xx response with
// its error ([DecodeError]), and returns the stream's elements as a
// sequence. Breaking out of it ends the call. The options are a
// [Client]'s; without [ClientHTTPClient] the call has no overall timeout,
// and the response limit ([ClientMaxResponseBytes]) bounds each line.
func ServerStreamClient[Req, Resp any](method string, target *url.URL, enc EncodeRequestFunc[Req], opts ...ClientOption) kit.ServerStreamEndpoint[Req, Resp] {
	c := newStreamClient(method, target, opts)
	ep := kit.ServerStreamEndpoint[Req, Resp](func(ctx context.Context, req Req) (iter.Seq2[Resp, error], error) {
		ctx, end := c.start(ctx)
		r, err := http.NewRequestWithContext(ctx, c.method, c.target, nil)
		if err != nil {
			return nil, end(kit.WrapError(kit.Internal, err, ""))
		}
		if err := enc(ctx, r, req); err != nil {
			if !hasKitCode(err) {
				err = kit.WrapError(kit.Internal, fmt.Errorf("encode request: %w", err), "")
			}
			return nil, end(err)
		}
		hr, err := c.roundTrip(ctx, r)
		if err != nil {
			return nil, end(err)
		}
		return resultsOf[Resp](ctx, hr, c.maxBody, end), nil
	})
	return kit.InterceptServerStream(ep, c.callOf(kit.ServerStream), c.interceptors...)
}

// ClientStreamClient returns an endpoint that calls a client-stream route
// (such as one of [ClientStreamHandler]): the requests are sent as an
// NDJSON body as the sequence yields them, and the response is decoded by
// dec. An error in the sequence ends the call and is returned.
func ClientStreamClient[Req, Resp any](method string, target *url.URL, dec DecodeResponseFunc[Resp], opts ...ClientOption) kit.ClientStreamEndpoint[Req, Resp] {
	c := newStreamClient(method, target, opts)
	ep := kit.ClientStreamEndpoint[Req, Resp](func(ctx context.Context, reqs iter.Seq2[Req, error]) (resp Resp, err error) {
		ctx, end := c.start(ctx)
		body, seqErr := sendLines(ctx, reqs)
		defer body.Close()
		r, err := http.NewRequestWithContext(ctx, c.method, c.target, body)
		if err != nil {
			return resp, end(kit.WrapError(kit.Internal, err, ""))
		}
		r.Header.Set("Content-Type", NDJSONContentType)
		hr, err := c.roundTrip(ctx, r)
		if err != nil {
			if serr := seqErr(); serr != nil {
				err = serr
			}
			return resp, end(err)
		}
		defer drainAndClose(hr.Body)
		if c.maxBody > 0 {
			hr.Body = &limitedBody{rc: hr.Body, n: c.maxBody, limit: c.maxBody}
		}
		resp, err = dec(ctx, hr)
		if err != nil && !hasKitCode(err) {
			err = kit.WrapError(kit.Internal, fmt.Errorf("decode response: %w", err), "")
		}
		return resp, end(err)
	})
	return kit.InterceptClientStream(ep, c.callOf(kit.ClientStream), c.interceptors...)
}

// BidiStreamClient returns an endpoint that calls a bidirectional route
// (such as one of [BidiStreamHandler]): the requests are sent as an NDJSON
// body while the responses are read, as [ServerStreamClient] reads them.
// The requests' sequence is ranged over on a goroutine of its own, which
// returns at the sequence's next element after the call ended.
func BidiStreamClient[Req, Resp any](method string, target *url.URL, opts ...ClientOption) kit.BidiStreamEndpoint[Req, Resp] {
	c := newStreamClient(method, target, opts)
	ep := kit.BidiStreamEndpoint[Req, Resp](func(ctx context.Context, reqs iter.Seq2[Req, error]) (iter.Seq2[Resp, error], error) {
		ctx, end := c.start(ctx)
		body, seqErr := sendLines(ctx, reqs)
		r, err := http.NewRequestWithContext(ctx, c.method, c.target, body)
		if err != nil {
			_ = body.Close()
			return nil, end(kit.WrapError(kit.Internal, err, ""))
		}
		r.Header.Set("Content-Type", NDJSONContentType)
		hr, err := c.roundTrip(ctx, r)
		if err != nil {
			_ = body.Close()
			if serr := seqErr(); serr != nil {
				err = serr
			}
			return nil, end(err)
		}
		return resultsOf[Resp](ctx, hr, c.maxBody, func(err error) error {
			_ = body.Close()
			if serr := seqErr(); serr != nil && (err == nil || kit.CodeOf(err) == kit.Canceled || kit.CodeOf(err) == kit.Unavailable) {
				err = serr
			}
			return end(err)
		}), nil
	})
	return kit.InterceptBidiStream(ep, c.callOf(kit.BidiStream), c.interceptors...)
}

// start begins a call under a context of its own; end, called once when
// the call ends, cancels it, runs the finalizers and returns the error.
func (c *streamClient) start(ctx context.Context) (context.Context, func(error) error) {
	ctx, cancel := context.WithCancel(ctx)
	var once sync.Once
	var final error
	return ctx, func(err error) error {
		once.Do(func() {
			cancel()
			final = err
			for _, f := range c.finalizers {
				f(ctx, err)
			}
		})
		return final
	}
}

// roundTrip sends r after the before hooks, runs the after hooks, and
// answers a non-2xx response with its error.
func (c *streamClient) roundTrip(ctx context.Context, r *http.Request) (*http.Response, error) {
	if r.Header.Get("Accept") == "" {
		r.Header.Set("Accept", NDJSONContentType)
	}
	for _, f := range c.before {
		ctx = f(ctx, r)
	}
	hr, err := c.client.Do(r)
	if err != nil {
		err = transportError(ctx, err)
		if notSent(err) {
			err = kit.WithRetrySafety(err, kit.RetryNotProcessed)
		}
		return nil, err
	}
	for _, f := range c.after {
		ctx = f(ctx, hr)
	}
	if hr.StatusCode < 200 || hr.StatusCode > 299 {
		err := DecodeError(hr)
		drainAndClose(hr.Body)
		return nil, err
	}
	return hr, nil
}

// resultsOf returns the elements of a stream response, one
// {"result": …} or {"error": problem} object a line, as a sequence.
func resultsOf[Resp any](ctx context.Context, hr *http.Response, max int64, end func(error) error) iter.Seq2[Resp, error] {
	return func(yield func(Resp, error) bool) {
		defer drainAndClose(hr.Body)
		lr := &lineReader{br: bufio.NewReader(hr.Body), max: max}
		for {
			var zero Resp
			line, err := lr.next()
			if errors.Is(err, io.EOF) {
				end(nil)
				return
			}
			if err != nil {
				yield(zero, end(transportError(ctx, err)))
				return
			}
			var msg struct {
				Result *Resp    `json:"result"`
				Error  *Problem `json:"error"`
			}
			if err := json.Unmarshal(line, &msg); err != nil {
				yield(zero, end(kit.WrapError(kit.Internal, fmt.Errorf("decode stream message: %w", err), "")))
				return
			}
			if msg.Error != nil {
				err := errorOfProblem(*msg.Error)
				if err == nil {
					err = kit.NewError(kit.Unknown, msg.Error.Detail)
				}
				yield(zero, end(err))
				return
			}
			var v Resp
			if msg.Result != nil {
				v = *msg.Result
			}
			if !yield(v, nil) {
				end(kit.NewError(kit.Canceled, "stream ended by its consumer"))
				return
			}
		}
	}
}

// sendLines returns a request body that carries reqs as NDJSON, written by
// a goroutine as the sequence yields them, and a function that returns the
// sequence's own error once it yielded one. Closing the body ends the
// goroutine at the sequence's next element; it does not wait for it, as
// the sequence may be waiting for something the caller does only later.
func sendLines[Req any](ctx context.Context, reqs iter.Seq2[Req, error]) (io.ReadCloser, func() error) {
	pr, pw := io.Pipe()
	var mu sync.Mutex
	var seqErr error
	fail := func(err error) {
		mu.Lock()
		seqErr = err
		mu.Unlock()
		_ = pw.CloseWithError(err)
	}
	go func() {
		if reqs == nil {
			_ = pw.Close()
			return
		}
		bw := bufio.NewWriter(pw)
		enc := json.NewEncoder(bw)
		for r, err := range reqs {
			if err != nil {
				fail(err)
				return
			}
			if err := enc.Encode(r); err != nil {
				fail(kit.WrapError(kit.Internal, fmt.Errorf("encode request: %w", err), ""))
				return
			}
			if err := bw.Flush(); err != nil || ctx.Err() != nil {
				return
			}
		}
		_ = pw.Close()
	}()
	return pr, func() error {
		mu.Lock()
		defer mu.Unlock()
		return seqErr
	}
}

// drainingOf returns the channel that [Serve] closes when it drains, from
// a request's context, or nil.
func drainingOf(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(drainingKey{}).(<-chan struct{})
	return ch
}

// drainingKey is the context key of the draining channel.
type drainingKey struct{}
