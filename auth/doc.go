// Package auth authenticates and authorizes calls of typed endpoints: HTTP
// Basic, and bearer JWTs verified with github.com/golang-jwt/jwt/v5.
//
// # Credentials in the context
//
// Middleware does not see the transport, so the credentials travel in the
// context. On a server, a hook puts the Authorization header (HTTP) or the
// "authorization" metadata (gRPC) there; on a client, a hook sends the
// value the context carries:
//
//	server: httpx.ServerBefore(auth.HTTPToContext())   grpcx.ServerBefore(auth.GRPCToContext())
//	client: httpx.ClientBefore(auth.ContextToHTTP())   grpcx.ClientBefore(auth.ContextToGRPC())
//
//	ctx = auth.ContextWithAuthorization(ctx, auth.BearerAuthorization(token))
//
// # Middleware
//
// [Basic] admits calls whose Basic credentials a [BasicValidator] accepts;
// [BasicUsers] is one for a fixed set of accounts, compared in constant
// time. [Bearer] admits calls whose bearer JWT a [Verifier] accepts and puts
// the claims, typed, into the context ([ClaimsFrom]). A Verifier allows only
// the signing algorithms it is given (jwt.WithValidMethods), requires exp,
// checks nbf, and checks iss and aud when [Issuer] and [Audience] ask:
//
//	v, err := auth.NewVerifier[jwt.RegisteredClaims]([]string{"RS256"}, auth.StaticKey(pub),
//		auth.Issuer("https://issuer.example"), auth.Audience("users-api"))
//	createUser = kit.Chain(
//		auth.Bearer[CreateUserRequest, User](v),
//		auth.Authorize[CreateUserRequest, User](canWrite),
//	)(createUser)
//
// [Authorize] decides, from the claims and the request, whether a caller
// who authenticated may make the call.
//
// # Errors
//
// Missing or invalid credentials fail a call with an [*Error] of code
// Unauthenticated; credentials that are valid but not allowed with
// PermissionDenied. An *Error carries the WWW-Authenticate challenge as
// its Headers, so httpx's default error encoder answers 401 (or 403) with
// it; grpcx answers the status of the same code. Nothing of the
// credentials that failed is ever part of the error: not in its public
// message, not in its cause, not in the challenge.
package auth
