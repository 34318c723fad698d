// Package breaker provides circuit breakers as interceptors: a breaker
// watches the calls to a service and, when the service fails, rejects
// calls at once instead of adding to its load and making callers wait.
//
//   - [Adaptive] is this package's own breaker, and the one to use unless
//     there is a reason not to: client-side throttling as the Google SRE
//     book describes it, with no thresholds to tune and no hard open state.
//   - [Gobreaker] runs calls through a github.com/sony/gobreaker/v2
//     CircuitBreaker, the classic closed, open and half-open state machine.
//   - [Hystrix] runs calls as github.com/afex/hystrix-go commands.
//   - [Handy] adapts any breaker with the methods Allow, Success and
//     Failure ([Breaker]), such as streadway/handy's.
//   - [Fallback] answers, with a function of the caller's choice, the calls
//     that a breaker rejects or that fail for want of the service. It
//     reads the request and builds a response, so it is a typed
//     kit.Middleware, put around the endpoint the interceptors return.
//
// # One breaker per method
//
// A kit.Interceptor is called once per method when the endpoints are
// built. Each breaker interceptor makes the breaker of a method in that
// call, so one interceptor value in a service's list gives every method a
// breaker of its own: a method that fails is rejected while the others go
// on, and a call never creates a breaker. (hystrix keeps its circuits
// globally by command name; [Hystrix] names each method's command after
// it, so methods of the same name share one circuit across transports.)
//
//	httpx.ClientInterceptors(breaker.Adaptive(), kit.Timeout(time.Second))
//
// # Rejections
//
// A call that a breaker rejects does not reach the rest of the chain. It returns a
// kit Unavailable error that wraps [ErrOpen] (and, for Gobreaker and
// Hystrix, the library's own error), so httpx answers it with 503 Service
// Unavailable and grpcx with codes.Unavailable, and
// errors.Is(err, breaker.ErrOpen) tells it from a failure of the service.
//
// # Failures
//
// Which errors count against the service is a policy, a [Classifier]. The
// default, [IsFailure], counts errors that say the service could not answer
// properly: the kit codes Unknown (which covers plain errors, such as those
// of a transport that could not reach the service), Internal, Unavailable,
// DeadlineExceeded and DataLoss. Errors that are the caller's fault
// (InvalidArgument, NotFound, PermissionDenied, …) and Canceled do not
// count: the service answered, or the caller went away. Nor does the error
// of a call whose caller cancelled it, or whose caller's deadline passed
// after the caller gave it less than [DefaultMinCountedDeadline] (one
// second; [MinCountedDeadline]): a caller with a tight deadline must
// not open a breaker that other callers share, while a service that lets
// generous deadlines pass is slow or hung and counts. Put a breaker outside
// (before, in the list of interceptors) the timeout that bounds the
// dependency, kit.Timeout, whose expiry always counts. [Classify]
// sets another policy. Calls that fail with an error that does not count
// are recorded as successes, and the caller receives the error unchanged.
//
// # Adaptive throttling
//
// [Adaptive] keeps, for each method, over a sliding window, two counts:
//
//   - requests: the calls the application made of the method, including
//     the ones the breaker rejected itself;
//   - accepts: the calls the service accepted, that is the calls that
//     succeeded or failed with an error that is not a failure.
//
// Each new call is rejected with probability
//
//	p = max(0, (requests − K·accepts) / (requests + 1))
//
// While the service accepts every call, requests equals accepts and p is
// zero, whatever the traffic. When the service starts to fail, the client
// goes on sending until requests reaches K times accepts, and beyond that
// rejects calls itself, more of them the more the service fails: the
// service receives about K times what it can accept, which leaves it room
// to show that it has recovered. Calls that the breaker rejects count as
// requests so that p keeps rising while the service keeps failing; if they
// did not, p would fall each time the client shed load, and a service that
// fails every call would go on receiving a steady share of them. When the
// service recovers, the calls that go through are accepted, accepts grows
// and p falls back to zero; failures older than the window are forgotten.
//
// The parameters, each set by an [AdaptiveOption]:
//
//   - K ([AdaptiveK], default 2): how many requests are let through per
//     accepted one before throttling starts. The SRE book suggests 2;
//     smaller is more aggressive, larger lets more traffic reach a failing
//     service. At K = 2 a service that fails more than half its calls sees
//     most calls rejected; one that fails fewer sees none rejected.
//   - Window and buckets ([AdaptiveWindow], default one second in ten
//     buckets): the history counted, sliding forward a bucket at a time.
//     A shorter window reacts and recovers faster and is noisier. After
//     the service comes back, the calls let through roughly double each
//     window, so a client that rejected almost every call rejects none
//     about four windows later: under four seconds by default.
//   - Minimum requests ([AdaptiveMinRequests], default 20): no call is
//     rejected while the window holds fewer requests, so that at low
//     traffic a few failures do not throttle.
//   - Probe interval ([AdaptiveProbeInterval], default one second): while
//     throttling, one call goes through whatever the odds if none did in
//     the last interval, so that a recovery is seen even when p is close
//     to one.
//   - Clock and random source ([AdaptiveClock], [AdaptiveRand]): for tests.
//
// The hot path of a healthy service, a call that is allowed and succeeds,
// takes a handful of atomic loads and one atomic add, and reads the clock
// only now and then; no lock and no allocation.
package breaker
