package auth

import (
	"context"
	"encoding/base64"
	"net/http"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/httpx"
)

// metadataKey is the gRPC metadata key of the credentials, the
// counterpart of HTTP's Authorization header.
const metadataKey = "authorization"

type authorizationKey struct{}

// ContextWithAuthorization returns a context that carries the value of an
// Authorization header, such as "Bearer <token>". The interceptors of this
// package read it on a server; [ContextToHTTP] and [ContextToGRPC] send it
// from a client.
func ContextWithAuthorization(ctx context.Context, authorization string) context.Context {
	return context.WithValue(ctx, authorizationKey{}, authorization)
}

// AuthorizationFrom returns the Authorization value the context carries.
func AuthorizationFrom(ctx context.Context) (string, bool) {
	v, ok := ctx.Value(authorizationKey{}).(string)
	return v, ok && v != ""
}

// BearerAuthorization returns the Authorization value that presents token
// with the Bearer scheme (RFC 6750).
func BearerAuthorization(token string) string { return "Bearer " + token }

// BasicAuthorization returns the Authorization value that presents the user
// name and password with the Basic scheme (RFC 7617).
func BasicAuthorization(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

// HTTPToContext returns an httpx server hook (for httpx.ServerBefore) that
// puts the request's Authorization header into the context, where [Basic]
// and [Bearer] look for it.
func HTTPToContext() httpx.RequestFunc {
	return func(ctx context.Context, r *http.Request) context.Context {
		if v := r.Header.Get("Authorization"); v != "" {
			return ContextWithAuthorization(ctx, v)
		}
		return ctx
	}
}

// ContextToHTTP returns an httpx client hook (for httpx.ClientBefore) that
// sets the Authorization header of the request to the value the context
// carries ([ContextWithAuthorization]), if any.
func ContextToHTTP() httpx.RequestFunc {
	return func(ctx context.Context, r *http.Request) context.Context {
		if v, ok := AuthorizationFrom(ctx); ok {
			r.Header.Set("Authorization", v)
		}
		return ctx
	}
}

// GRPCToContext returns a grpcx server hook (for grpcx.ServerBefore) that
// puts the "authorization" metadata of the call into the context, where
// [Basic] and [Bearer] look for it.
func GRPCToContext() grpcx.ServerRequestFunc {
	return func(ctx context.Context, md metadata.MD) context.Context {
		if v := md.Get(metadataKey); len(v) > 0 && v[0] != "" {
			return ContextWithAuthorization(ctx, v[0])
		}
		return ctx
	}
}

// ContextToGRPC returns a grpcx client hook (for grpcx.ClientBefore) that
// sets the "authorization" metadata of the call to the value the context
// carries, if any. Send credentials over gRPC only on a connection with
// transport security.
func ContextToGRPC() grpcx.ClientRequestFunc {
	return func(ctx context.Context, md *metadata.MD) context.Context {
		if v, ok := AuthorizationFrom(ctx); ok {
			if *md == nil {
				*md = metadata.MD{}
			}
			md.Set(metadataKey, v)
		}
		return ctx
	}
}

// HTTPGuard returns an httpx server guard (for httpx.ServerGuard) that
// admits requests with a bearer token v verifies and puts its claims into
// the context ([ClaimsFrom]) before the request body is read, so an
// unauthenticated caller is answered 401 before the server reads, parses
// or validates anything it sent. Requests for which public returns true
// pass without a token (their Authorization, if any, still reaches the
// context); a nil public protects every request. The errors are those of
// [Bearer].
func HTTPGuard[C jwt.Claims](v *Verifier[C], public func(r *http.Request) bool) httpx.GuardFunc {
	return func(ctx context.Context, r *http.Request) (context.Context, error) {
		authz := r.Header.Get("Authorization")
		if authz != "" {
			ctx = ContextWithAuthorization(ctx, authz)
		}
		if public != nil && public(r) {
			return ctx, nil
		}
		return v.admit(ctx)
	}
}

// GRPCGuard returns a grpcx server guard (for grpcx.ServerGuard) that
// admits calls with a bearer token v verifies in their "authorization"
// metadata and puts its claims into the context, before the request is
// decoded. Calls whose full method name ("/pkg.Service/Method") public
// reports true for pass without a token; a nil public protects every call.
func GRPCGuard[C jwt.Claims](v *Verifier[C], public func(fullMethod string) bool) grpcx.GuardFunc {
	return func(ctx context.Context, md metadata.MD) (context.Context, error) {
		if vs := md.Get(metadataKey); len(vs) > 0 && vs[0] != "" {
			ctx = ContextWithAuthorization(ctx, vs[0])
		}
		if public != nil {
			if m, ok := grpc.Method(ctx); ok && public(m) {
				return ctx, nil
			}
		}
		return v.admit(ctx)
	}
}
