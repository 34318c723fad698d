package httpx

import (
	"context"
	"net/http"
)

// stdJSONKey is the context key of ContextWithStandardJSON.
type stdJSONKey struct{}

// ContextWithStandardJSON returns ctx marked so that the HTTP glue kitgen
// generates reads and writes the JSON bodies of the requests and responses
// of calls made with it with encoding/json ([DecodeJSONRequest] and the
// other JSON functions of this package) instead of its generated codecs.
// The two accept and produce the same JSON: the mark is a switch to fall
// back on, for a client's calls or, through [ServerStandardJSON], for a
// server.
func ContextWithStandardJSON(ctx context.Context) context.Context {
	return context.WithValue(ctx, stdJSONKey{}, true)
}

// StandardJSONFrom reports whether ctx carries the mark of
// [ContextWithStandardJSON].
func StandardJSONFrom(ctx context.Context) bool {
	on, _ := ctx.Value(stdJSONKey{}).(bool)
	return on
}

// ServerStandardJSON makes a server's generated glue read requests and
// write responses with encoding/json instead of its generated JSON codecs
// (see [ContextWithStandardJSON]): pass it to a service's RegisterHTTP or
// NewHTTPHandler to fall back for that service. It costs one context per
// request.
func ServerStandardJSON() ServerOption {
	return ServerBefore(func(ctx context.Context, _ *http.Request) context.Context {
		return ContextWithStandardJSON(ctx)
	})
}
