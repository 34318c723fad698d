// Package auth authenticates and authorizes calls of typed endpoints: HTTP
// Basic, and bearer JWTs verified with github.com/golang-jwt/jwt/v5.
//
// # Credentials in the context
//
// Interceptors do not see the transport's request, so the credentials
// travel in the context. On a server, a hook puts the Authorization header (HTTP) or the
// "authorization" metadata (gRPC) there; on a client, a hook sends the
// value the context carries:
//
//	server: httpx.ServerBefore(auth.HTTPToContext())   grpcx.ServerBefore(auth.GRPCToContext())
//	client: httpx.ClientBefore(auth.ContextToHTTP())   grpcx.ClientBefore(auth.ContextToGRPC())
//
//	ctx = auth.ContextWithAuthorization(ctx, auth.BearerAuthorization(token))
//
// # Interceptors and middleware
//
// [Basic] admits calls whose Basic credentials a [BasicValidator] accepts;
// [BasicUsers] is one for a fixed set of accounts, compared in constant
// time. [Bearer] admits calls whose bearer JWT a [Verifier] accepts and puts
// the claims, typed, into the context ([ClaimsFrom]). [RequirePeer] admits
// calls whose verified client certificate a [PeerAuthorizer] allows. They
// read only the context, so they are interceptors, and one list serves
// every method of a service. A Verifier allows only the signing algorithms
// it is given (jwt.WithValidMethods), requires exp, checks nbf, and checks
// iss and aud when [VerifierIssuer] and [VerifierAudience] ask:
//
//	v, err := auth.NewVerifier[jwt.RegisteredClaims]([]string{"RS256"}, auth.StaticKey(pub),
//		auth.VerifierIssuer("https://issuer.example"), auth.VerifierAudience("users-api"))
//	handler := httpx.NewServer(createUser, dec, enc,
//		httpx.ServerBefore(auth.HTTPToContext()),
//		httpx.ServerInterceptors(auth.Bearer(v)))
//
// [Authorize] decides, from the claims and the request, whether a caller
// who authenticated may make the call. It reads the request, so it is a
// typed kit.Middleware of the method it guards; a transport's interceptors
// run outside its methods' typed middlewares, so the claims [Bearer] put in
// the context are there when it runs:
//
//	createUser = auth.Authorize[CreateUserRequest, User](canWrite)(createUser)
//
// The guards ([HTTPGuard], [GRPCGuard], [HTTPPeerGuard], [GRPCPeerGuard])
// check a whole server before the request is even read.
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
