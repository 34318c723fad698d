// Package discovery finds the instances of a remote service and turns them
// into one typed, load-balanced, retrying client endpoint.
//
// The client path is
//
//	Instancer → Endpointer[Req, Resp] → Balancer[Req, Resp] → Retry → kit.Endpoint[Req, Resp]
//
// An [Instancer] knows the instances of a service ("host:port" strings) and
// sends an [Event] to its subscribers whenever the set changes or cannot be
// refreshed. [FixedInstancer] is a static list; discovery/consul watches a
// Consul agent. Backends keep their state in a [Broadcaster].
//
// An [Endpointer] subscribes to an instancer and keeps one typed endpoint per
// instance, made by a [Factory] when the instance appears and closed when it
// leaves. Its read path is a single atomic load of an immutable snapshot: no
// lock and no allocation per call.
//
// A [Balancer] picks one of the endpointer's endpoints per call:
// [RoundRobin], [Random], or [PowerOfTwoChoices], which prefers the instance
// with fewer calls in flight. With no instance to pick, a balancer returns an
// Unavailable *kit.Error that wraps [ErrNoEndpoints].
//
// [Retry] makes the balancer an endpoint that tries again on another
// instance when a call fails with an error worth retrying ([Retryable]:
// Unavailable and transport errors, never InvalidArgument), within a number
// of attempts, an optional per-attempt timeout, the caller's deadline and a
// [Budget] that keeps retries from multiplying the load during an outage.
// When it gives up after more than one attempt it returns a *[RetryError]
// listing every attempt.
//
// A [Registrar] announces this process as an instance, for backends that
// support it.
package discovery
