package httpx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"syscall"
	"time"

	"github.com/typedkit/kit"
)

// DefaultMaxResponseBytes is the response body limit of a Client unless
// [ClientMaxResponseBytes] sets another: 4 MiB.
const DefaultMaxResponseBytes = 4 << 20

// DefaultClientTimeout bounds a whole call of a Client that uses the
// default HTTP client, from dial to the end of the response body, when the
// caller's context sets no earlier deadline: 30 seconds.
const DefaultClientTimeout = 30 * time.Second

// defaultHTTPClient is the HTTP client of a Client without [ClientHTTPClient]:
// http.DefaultTransport (so connections are shared with the process's
// other clients) with a timeout.
var defaultHTTPClient = &http.Client{Timeout: DefaultClientTimeout}

// HTTPClient is the part of *http.Client a Client uses.
type HTTPClient interface {
	Do(*http.Request) (*http.Response, error)
}

// Client calls one remote endpoint over HTTP. Build it with [NewClient] and
// call it through [Client.Endpoint]. It is safe for concurrent use.
type Client[Req, Resp any] struct {
	method string
	target string
	enc    EncodeRequestFunc[Req]
	dec    DecodeResponseFunc[Resp]
	ep     kit.Endpoint[Req, Resp]
	clientConfig
}

type clientConfig struct {
	call         kit.Call
	interceptors []kit.Interceptor
	client       HTTPClient
	idempotent   bool
	before       []RequestFunc
	after        []ClientResponseFunc
	finalizers   []ClientFinalizerFunc
	maxBody      int64
}

// A ClientOption configures a Client. Options are not generic.
type ClientOption func(*clientConfig)

// ClientHTTPClient sets the HTTP client that sends requests. The default is an
// http.Client over http.DefaultTransport with a timeout of
// DefaultClientTimeout.
func ClientHTTPClient(c HTTPClient) ClientOption {
	return func(cc *clientConfig) { cc.client = c }
}

// ClientBefore adds hooks that run after the request is encoded and before
// it is sent, in the order given.
func ClientBefore(before ...RequestFunc) ClientOption {
	return func(cc *clientConfig) { cc.before = append(cc.before, before...) }
}

// ClientAfter adds hooks that run after a response arrives and before it is
// decoded, for 2xx and error responses alike, in the order given.
func ClientAfter(after ...ClientResponseFunc) ClientOption {
	return func(cc *clientConfig) { cc.after = append(cc.after, after...) }
}

// ClientFinalizer adds hooks that run at the end of every call.
func ClientFinalizer(f ...ClientFinalizerFunc) ClientOption {
	return func(cc *clientConfig) { cc.finalizers = append(cc.finalizers, f...) }
}

// ClientMaxResponseBytes sets the response body limit: a decoder that reads
// past it fails with an Internal error. A limit of 0 or less removes it.
func ClientMaxResponseBytes(n int64) ClientOption {
	return func(cc *clientConfig) { cc.maxBody = n }
}

// NewClient returns a Client that sends requests with the method to target,
// encoded by enc, and decodes 2xx responses with dec. An encoder may change
// the URL of the request it is given, for example to fill in a path. The
// JSON helpers fit without type arguments:
//
//	httpx.NewClient[CreateUser, User](http.MethodPost, u, httpx.EncodeJSONRequest, httpx.DecodeJSONResponse)
func NewClient[Req, Resp any](method string, target *url.URL, enc EncodeRequestFunc[Req], dec DecodeResponseFunc[Resp], opts ...ClientOption) *Client[Req, Resp] {
	c := &Client[Req, Resp]{
		method: method,
		target: target.String(),
		enc:    enc,
		dec:    dec,
		clientConfig: clientConfig{
			client:  defaultHTTPClient,
			maxBody: DefaultMaxResponseBytes,
		},
	}
	for _, o := range opts {
		o(&c.clientConfig)
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions, http.MethodTrace:
		c.idempotent = true
	}
	call := c.call
	call.Transport, call.Side = kit.HTTP, kit.ClientSide
	call.Idempotent = c.idempotent
	c.ep = kit.Intercept(c.do, call, c.interceptors...)
	return c
}

// Endpoint returns the endpoint that makes the call, wrapped in the
// client's interceptors ([ClientInterceptors]).
func (c *Client[Req, Resp]) Endpoint() kit.Endpoint[Req, Resp] { return c.ep }

func (c *Client[Req, Resp]) do(ctx context.Context, req Req) (resp Resp, err error) {
	if len(c.finalizers) > 0 {
		defer func() {
			for _, f := range c.finalizers {
				f(ctx, err)
			}
		}()
	}

	r, err := http.NewRequestWithContext(ctx, c.method, c.target, nil)
	if err != nil {
		return resp, kit.WrapError(kit.Internal, err, "")
	}
	if err = c.enc(ctx, r, req); err != nil {
		if !hasKitCode(err) {
			err = kit.WrapError(kit.Internal, fmt.Errorf("encode request: %w", err), "")
		}
		return resp, err
	}
	for _, f := range c.before {
		ctx = f(ctx, r)
	}

	hr, err := c.client.Do(r)
	if err != nil {
		err = transportError(ctx, err)
		switch {
		case notSent(err):
			err = kit.WithRetrySafety(err, kit.RetryNotProcessed)
		case c.idempotent:
			err = kit.WithRetrySafety(err, kit.RetryIdempotent)
		}
		return resp, err
	}
	defer drainAndClose(hr.Body)

	for _, f := range c.after {
		ctx = f(ctx, hr)
	}

	if hr.StatusCode < 200 || hr.StatusCode > 299 {
		err = DecodeError(hr)
		if secs, perr := strconv.Atoi(hr.Header.Get("Retry-After")); perr == nil && secs >= 0 {
			err = kit.WithRetryAfter(err, time.Duration(min(secs, maxRetryAfter))*time.Second)
		}
		switch {
		case (hr.StatusCode == http.StatusServiceUnavailable || hr.StatusCode == http.StatusTooManyRequests) && hr.Header.Get("Retry-After") != "":
			err = kit.WithRetrySafety(err, kit.RetryNotProcessed)
		case c.idempotent:
			err = kit.WithRetrySafety(err, kit.RetryIdempotent)
		}
		return resp, err
	}

	var lb *limitedBody
	if c.maxBody > 0 {
		lb = &limitedBody{rc: hr.Body, n: c.maxBody, limit: c.maxBody}
		hr.Body = lb
	}
	resp, err = c.dec(ctx, hr)
	if err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			err = kit.WrapError(kit.Internal, fmt.Errorf("response body exceeds %d bytes: %w", mbe.Limit, err), "")
		case ctx.Err() != nil:
			err = transportError(ctx, err)
		default:
			if !hasKitCode(err) {
				err = kit.WrapError(kit.Internal, fmt.Errorf("decode response: %w", err), "")
			}
		}
		return resp, err
	}
	return resp, nil
}

// transportError classifies an error of the HTTP client: the context's
// error when the context ended, Unavailable otherwise.
func transportError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		code := kit.Canceled
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			code = kit.DeadlineExceeded
		}
		return kit.WrapError(code, err, "")
	}
	return kit.WrapError(kit.Unavailable, err, "")
}

// maxRetryAfter bounds, in seconds, the Retry-After a client believes: a
// day.
const maxRetryAfter = 24 * 60 * 60

// notSent reports whether err says the request never left: the
// connection could not be made. (A request that meets a kept-alive
// connection the server closed before anything was written is retried by
// net/http's transport itself.)
func notSent(err error) bool {
	var op *net.OpError
	return (errors.As(err, &op) && op.Op == "dial") || errors.Is(err, syscall.ECONNREFUSED)
}

// maxDrain is how much of an unread response body is read so its
// connection can be reused; a longer rest is cheaper to drop with the
// connection.
const maxDrain = 256 << 10

func drainAndClose(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, maxDrain))
	_ = body.Close()
}

// hasKitCode reports whether err is or wraps a *kit.Error or a
// [kit.Coder], whose code (and message) a client passes on as they are.
func hasKitCode(err error) bool {
	var ke *kit.Error
	var kc kit.Coder
	return errors.As(err, &ke) || errors.As(err, &kc)
}
