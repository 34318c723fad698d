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
// With [EndpointerOutlierEjection], the endpointer also ejects an instance
// whose calls fail several times in a row (transport errors, Unavailable,
// attempts cut short by their own timeout; see [OutlierFailure]), after
// Envoy's outlier detection: the instance stays known ([Endpointer.Ejected]
// lists it) but the balancers leave it out until a timer re-admits it,
// after a time that grows each time it is ejected again. A bounded share
// of the instances, and never all, may be out at once. So a hung instance
// stops getting calls after a few failed attempts, long before its health
// check fails. Counting adds a few atomic operations to a call and no
// allocation.
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
// For idempotent calls ([RetryIdempotentCalls]), Retry can also hedge
// ([RetryHedgeAfter], [RetryHedgeAtPercentile]): when an attempt has not
// answered after a fixed delay or a running percentile of the latency,
// another attempt starts on another instance, the first answer wins and
// the others are cancelled. A hedge is an attempt: it counts against the
// attempts and draws on the budget. Hedging trims the latency that a slow
// instance adds; ejection removes an instance that fails. They go
// together:
//
//	endpointer := discovery.NewEndpointer(instancer, factory,
//		discovery.EndpointerOutlierEjection(discovery.OutlierEjection{}))
//	call := discovery.Retry(discovery.RoundRobin(endpointer),
//		discovery.RetryIdempotentCalls(),
//		discovery.RetryAttemptTimeout(time.Second),
//		discovery.RetryHedgeAtPercentile(0.95, 5*time.Millisecond, 500*time.Millisecond))
//
// A [Registrar] announces this process as an instance, for backends that
// support it.
//
// For gRPC clients that want grpc-go's own connection management and
// balancing (subchannels, round_robin, keepalive, the service config),
// [NewResolver] turns any instancer into a grpc-go resolver.Builder, given
// to grpc.NewClient with grpc.WithResolvers: discovery/consul's
// NewResolver resolves consul:///service targets with it.
package discovery
