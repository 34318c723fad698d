// Package limit provides rate and concurrency limits as typed middleware.
//
//   - [Erroring] rejects a call at once when an [Allower] says no, and
//     [Delaying] makes a call wait until a [Waiter] lets it go, within the
//     call's deadline. A *rate.Limiter of golang.org/x/time/rate is both,
//     so a token bucket of any rate and burst plugs in.
//   - [InFlight] bounds the number of calls running at once.
//   - [Bulkhead] bounds the calls running at once per key, such as per
//     tenant, so that one key cannot take every slot.
//
// A call that a limit rejects does not reach the endpoint. It returns a kit
// ResourceExhausted error that wraps [ErrRateLimited] or
// [ErrConcurrencyLimited], so httpx answers it with 429 Too Many Requests,
// grpcx with codes.ResourceExhausted, and errors.Is tells which limit it
// was. Rejections allocate nothing.
//
// The state of a limit (the limiter, the count of calls in flight) is
// shared by every endpoint the middleware wraps. Put limits outside
// breakers, so that calls rejected by a limit are not counted against the
// service:
//
//	ep = kit.Chain(
//		limit.Erroring[Req, Resp](rate.NewLimiter(100, 10)),
//		limit.InFlight[Req, Resp](50),
//		breaker.Adaptive[Req, Resp](),
//	)(ep)
package limit
