package observe

import "github.com/typedkit/kit"

// Middleware returns [Tracing] and [Metrics] of the endpoint called name,
// chained with the tracing outermost, so the span is in the context the
// measurements are made with (for exemplars) and its duration includes
// theirs.
func Middleware[Req, Resp any](name string, opts ...Option) kit.Middleware[Req, Resp] {
	return kit.Chain(Tracing[Req, Resp](name, opts...), Metrics[Req, Resp](name, opts...))
}
