// Package limit provides rate and concurrency limits: interceptors for the
// limits of a whole service, and a typed middleware for the limit that
// depends on the request.
//
//   - [Erroring] rejects a call at once when an [Allower] says no, and
//     [Delaying] makes a call wait until a [Waiter] lets it go, within the
//     call's deadline. A *rate.Limiter of golang.org/x/time/rate is both,
//     so a token bucket of any rate and burst plugs in.
//   - [InFlight] bounds the number of calls running at once.
//   - [Bulkhead] bounds the calls running at once per key, such as per
//     tenant, so that one key cannot take every slot. It reads the key from
//     the request, so it is a typed kit.Middleware of the method it guards.
//
// A call that a limit rejects does not reach the endpoint. It returns a kit
// ResourceExhausted error that wraps [ErrRateLimited] or
// [ErrConcurrencyLimited], so httpx answers it with 429 Too Many Requests,
// grpcx with codes.ResourceExhausted, and errors.Is tells which limit it
// was. Rejections allocate nothing, and neither does a call a limit lets
// through, beyond what the Allower or Waiter does.
//
// # Shared or per method
//
// The state of [Erroring], [Delaying] and [InFlight] (the limiter, the
// count of calls in flight) belongs to the interceptor value: every method
// it wraps shares it, so one value is a budget for a whole service. A
// kit.Interceptor is called once per method when the endpoints are built,
// so an interceptor that makes its limit in that call gives each method
// its own:
//
//	perMethod := func(call kit.Call, next kit.Invoker) kit.Invoker {
//		return limit.Erroring(rate.NewLimiter(100, 10))(call, next)
//	}
//
// A server of each transport builds its own chains, so such an interceptor
// gives each method one limiter per transport.
//
// Put limits before (outside) breakers, so that calls rejected by a limit
// are not counted against the service:
//
//	httpx.ServerInterceptors(
//		limit.Erroring(rate.NewLimiter(100, 10)),
//		limit.InFlight(50),
//		breaker.Adaptive(),
//	)
package limit
