package breaker

import (
	"context"

	"github.com/typedkit/kit"
)

// A FallbackFunc answers a call in place of an endpoint that failed with
// err: from a cache, with a default, or with a degraded response. What it
// returns is what the caller receives.
type FallbackFunc[Req, Resp any] func(ctx context.Context, req Req, err error) (Resp, error)

// Fallback returns a middleware that answers with fb when the endpoint fails
// with an error of the class its [Classifier] picks: by default
// [IsTransient], that is a rejection by a breaker ([ErrOpen]) and the codes
// Unavailable and DeadlineExceeded. [Classify] picks another class.
// Other errors, and successes, go to the caller as they are.
//
// Fallback reads the request and builds a response, so it is a typed
// middleware, not an interceptor. Put it outside the breaker, around the
// endpoint the breaker's interceptor chain returns, so that the calls the
// breaker rejects are answered too: on a client, around the client's
// endpoint,
//
//	c := httpx.NewClient(method, u, enc, dec, httpx.ClientInterceptors(breaker.Adaptive()))
//	getUser := breaker.Fallback(cached)(c.Endpoint())
//
// and around one endpoint, kit.Intercept:
//
//	ep = breaker.Fallback(cached)(kit.Intercept(ep, call, breaker.Adaptive()))
//
// fb receives the call's context, which may have ended (when the error is
// the caller's own deadline); a fallback that does more than compute a
// value should check it.
func Fallback[Req, Resp any](fb FallbackFunc[Req, Resp], opts ...Option) kit.Middleware[Req, Resp] {
	s := newSettings(IsTransient, opts)
	when := s.classify
	return func(next kit.Endpoint[Req, Resp]) kit.Endpoint[Req, Resp] {
		return func(ctx context.Context, req Req) (Resp, error) {
			resp, err := next(ctx, req)
			if err != nil && when(err) {
				return fb(ctx, req, err)
			}
			return resp, err
		}
	}
}
