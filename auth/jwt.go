package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/typedkit/kit"
)

// A VerificationKey is a key that verifies the signature of a JWT: an RSA
// public key (RS*, PS*), an ECDSA public key (ES*), an Ed25519 public key
// (EdDSA) or an HMAC secret (HS*).
type VerificationKey interface {
	*rsa.PublicKey | *ecdsa.PublicKey | ed25519.PublicKey | []byte
}

// StaticKey returns a key function that verifies every token with key. The
// key's type must fit the algorithms the [Verifier] allows: a token whose
// algorithm needs another type of key fails verification.
func StaticKey[K VerificationKey](key K) jwt.Keyfunc {
	return func(*jwt.Token) (any, error) { return key, nil }
}

// A VerifierOption configures a [Verifier]. Options are not generic.
type VerifierOption func(*verifierConfig)

type verifierConfig struct {
	parser      []jwt.ParserOption
	realm       string
	maxLifetime time.Duration
	now         func() time.Time
}

// VerifierMaxLifetime makes a Verifier refuse tokens that are valid for longer
// than d: those whose exp lies more than d after their iat, or, without
// an iat, more than d from now. It bounds the harm of a leaked token. The
// default is no bound beyond the required exp.
func VerifierMaxLifetime(d time.Duration) VerifierOption {
	return func(c *verifierConfig) { c.maxLifetime = d }
}

// VerifierIssuer makes a Verifier require the iss claim to be iss.
func VerifierIssuer(iss string) VerifierOption {
	return func(c *verifierConfig) { c.parser = append(c.parser, jwt.WithIssuer(iss)) }
}

// VerifierAudience makes a Verifier require the aud claim to hold one of the
// audiences given. Set it: a token issued for another service is otherwise
// accepted.
func VerifierAudience(aud ...string) VerifierOption {
	return func(c *verifierConfig) { c.parser = append(c.parser, jwt.WithAudience(aud...)) }
}

// VerifierLeeway makes a Verifier allow clocks to differ by up to d when it checks
// the exp and nbf claims.
func VerifierLeeway(d time.Duration) VerifierOption {
	return func(c *verifierConfig) { c.parser = append(c.parser, jwt.WithLeeway(d)) }
}

// VerifierClock sets the clock a Verifier checks exp and nbf against. The
// default is time.Now.
func VerifierClock(now func() time.Time) VerifierOption {
	return func(c *verifierConfig) {
		c.parser = append(c.parser, jwt.WithTimeFunc(now))
		c.now = now
	}
}

// VerifierRealm sets the realm of the Bearer challenge of a Verifier's errors.
func VerifierRealm(realm string) VerifierOption {
	return func(c *verifierConfig) { c.realm = realm }
}

// A Verifier checks bearer JWTs and decodes their claims into values of
// type C, a pointer to a claims struct such as *jwt.RegisteredClaims or a
// struct of one's own that embeds it. Build it with [NewVerifier] and share
// it between the [Bearer] interceptors and the guards of a service. It is
// safe for concurrent use.
type Verifier[C jwt.Claims] struct {
	parser      *jwt.Parser
	keyFunc     jwt.Keyfunc
	newClaims   func() C
	realm       string
	maxLifetime time.Duration
	now         func() time.Time
}

// errWeakKey is the cause of a rejection whose HMAC key was too short.
var errWeakKey = errors.New("auth: HMAC key shorter than its hash")

// minHMACKey returns the shortest HMAC key RFC 7518 §3.2 allows for the
// method: as long as its hash's output.
func minHMACKey(m *jwt.SigningMethodHMAC) int { return m.Hash.Size() }

// weakHMACKey reports whether key, as a key function returned it for an
// HMAC method, is or holds (in a jwt.VerificationKeySet) a secret shorter
// than the method's hash, and the length of the shortest.
func weakHMACKey(key any, m *jwt.SigningMethodHMAC) (int, bool) {
	switch k := key.(type) {
	case []byte:
		return len(k), len(k) < minHMACKey(m)
	case jwt.VerificationKeySet:
		for _, kk := range k.Keys {
			if n, weak := weakHMACKey(kk, m); weak {
				return n, true
			}
		}
	case *jwt.VerificationKeySet:
		if k != nil {
			return weakHMACKey(*k, m)
		}
	}
	return 0, false
}

// checkedKeys wraps keyFunc so that an HMAC key shorter than its hash is
// never used to verify a token.
func checkedKeys(keyFunc jwt.Keyfunc) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		key, err := keyFunc(t)
		if err != nil {
			return key, err
		}
		if m, ok := t.Method.(*jwt.SigningMethodHMAC); ok {
			if n, weak := weakHMACKey(key, m); weak {
				return nil, kit.Conceal(kit.Internal, fmt.Errorf("%w: %s needs %d bytes, a key has %d", errWeakKey, m.Name, minHMACKey(m), n))
			}
		}
		return key, nil
	}
}

// NewVerifier returns a Verifier that accepts tokens signed with one of the
// algorithms (such as "RS256" or "EdDSA") by a key that keyFunc returns
// (see [StaticKey]), that carry an exp claim in the future, an nbf claim,
// if any, in the past, and the iss and aud the options require. Claims are
// decoded into a new T; the Verifier's type argument C is *T:
//
//	v, err := auth.NewVerifier[jwt.RegisteredClaims]([]string{"RS256"}, auth.StaticKey(pub),
//		auth.VerifierIssuer("https://issuer.example"), auth.VerifierAudience("users-api"))
//
// Only the algorithms listed are accepted, whatever a token's header says.
// NewVerifier fails when none is listed, when one is unknown or "none",
// when HMAC algorithms are listed beside public-key ones, which would let a
// public key be used as an HMAC secret, and when keyFunc gives an HMAC key
// shorter than the algorithm's hash (32 bytes for HS256, 48 for HS384, 64
// for HS512; RFC 7518 §3.2), such as the empty secret of a variable
// missing from the environment: with it anyone could mint tokens. Keys a
// keyFunc gives later are checked on every token too.
func NewVerifier[T any, C interface {
	*T
	jwt.Claims
}](algorithms []string, keyFunc jwt.Keyfunc, opts ...VerifierOption) (*Verifier[C], error) {
	if len(algorithms) == 0 {
		return nil, errors.New("auth: no signing algorithm allowed")
	}
	if keyFunc == nil {
		return nil, errors.New("auth: no key function")
	}
	var hmac, public bool
	for _, alg := range algorithms {
		switch m := jwt.GetSigningMethod(alg); m.(type) {
		case nil:
			return nil, fmt.Errorf("auth: unknown signing algorithm %q", alg)
		case *jwt.SigningMethodHMAC:
			hmac = true
		default:
			if m == jwt.SigningMethodNone {
				return nil, errors.New(`auth: the signing algorithm "none" cannot be allowed`)
			}
			public = true
		}
	}
	if hmac && public {
		return nil, errors.New("auth: HMAC and public-key signing algorithms cannot be allowed together")
	}
	for _, alg := range algorithms {
		m, ok := jwt.GetSigningMethod(alg).(*jwt.SigningMethodHMAC)
		if !ok {
			continue
		}
		// A key function that answers without a real token, as StaticKey
		// does, is checked now, so a weak secret stops the service at
		// start rather than at its first call.
		key, err := keyFunc(&jwt.Token{Method: m, Header: map[string]any{"alg": alg}})
		if n, weak := weakHMACKey(key, m); err == nil && weak {
			return nil, fmt.Errorf("auth: a %s key has %d bytes; it needs at least %d (RFC 7518 §3.2): use a random secret of that length", alg, n, minHMACKey(m))
		}
	}
	var cfg verifierConfig
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	parserOpts := append([]jwt.ParserOption{
		jwt.WithValidMethods(algorithms),
		jwt.WithExpirationRequired(),
	}, cfg.parser...)
	return &Verifier[C]{
		parser:      jwt.NewParser(parserOpts...),
		keyFunc:     checkedKeys(keyFunc),
		newClaims:   func() C { return C(new(T)) },
		realm:       cfg.realm,
		maxLifetime: cfg.maxLifetime,
		now:         cfg.now,
	}, nil
}

// errTokenRejected is the cause of a rejection jwt gave no reason for.
var errTokenRejected = errors.New("token rejected")

// reasons are the causes a rejected token's error is reduced to, most
// telling first. They are jwt's sentinel errors, whose text holds nothing
// of the token.
var reasons = []error{
	jwt.ErrTokenExpired,
	jwt.ErrTokenNotValidYet,
	jwt.ErrTokenUsedBeforeIssued,
	jwt.ErrTokenInvalidAudience,
	jwt.ErrTokenInvalidIssuer,
	jwt.ErrTokenInvalidSubject,
	jwt.ErrTokenRequiredClaimMissing,
	jwt.ErrTokenSignatureInvalid,
	jwt.ErrTokenMalformed,
	jwt.ErrTokenUnverifiable,
	jwt.ErrTokenInvalidClaims,
}

// Verify checks token and returns its claims. A token that fails any check
// returns an [*Error] of code Unauthenticated with the Bearer challenge of
// an invalid token (RFC 6750). Its public message is "token expired" or
// "invalid token" and its cause the jwt sentinel error of the first check
// that failed (jwt.ErrTokenExpired, jwt.ErrTokenInvalidAudience, …), so
// errors.Is tells the reason while no part of the token is ever part of
// the error.
//
// A *kit.Error with another code that the key function or the claims'
// own Validate method returns is returned as it is: Unavailable when the
// keys cannot be fetched, PermissionDenied for claims that authenticate
// but do not permit.
func (v *Verifier[C]) Verify(token string) (C, error) {
	claims := v.newClaims()
	if _, err := v.parser.ParseWithClaims(token, claims, v.keyFunc); err != nil {
		var zero C
		return zero, v.reject(err)
	}
	if v.maxLifetime > 0 {
		exp, _ := claims.GetExpirationTime()
		// From iat or from now, whichever is earlier: an iat in the
		// future does not stretch the bound.
		from := v.now()
		if iat, _ := claims.GetIssuedAt(); iat != nil && iat.Before(from) {
			from = iat.Time
		}
		if exp == nil || exp.Sub(from) > v.maxLifetime {
			var zero C
			return zero, v.reject(fmt.Errorf("%w: lives longer than %s", jwt.ErrTokenInvalidClaims, v.maxLifetime))
		}
	}
	return claims, nil
}

func (v *Verifier[C]) reject(err error) error {
	var ke *kit.Error
	if errors.As(err, &ke) {
		if code := ke.Code(); code != kit.Unauthenticated && code != kit.Unknown {
			return ke
		}
	}
	cause := errTokenRejected
	for _, r := range reasons {
		if errors.Is(err, r) {
			cause = r
			break
		}
	}
	msg := "invalid token"
	if cause == jwt.ErrTokenExpired {
		msg = "token expired"
	}
	return &Error{
		Err:       kit.WrapError(kit.Unauthenticated, cause, msg),
		Challenge: challenge("Bearer", "realm", v.realm, "error", "invalid_token", "error_description", msg),
	}
}

// missing returns the error of a call without a bearer token.
func (v *Verifier[C]) missing() error {
	return &Error{
		Err:       kit.NewError(kit.Unauthenticated, "missing credentials"),
		Challenge: challenge("Bearer", "realm", v.realm),
	}
}

type claimsKey[C jwt.Claims] struct{}

// ContextWithClaims returns a context that carries claims, as [Bearer] puts
// them there.
func ContextWithClaims[C jwt.Claims](ctx context.Context, claims C) context.Context {
	return context.WithValue(ctx, claimsKey[C]{}, claims)
}

// ClaimsFrom returns the claims of type C that [Bearer] verified for the
// call whose context this is:
//
//	claims, ok := auth.ClaimsFrom[*jwt.RegisteredClaims](ctx)
func ClaimsFrom[C jwt.Claims](ctx context.Context) (C, bool) {
	c, ok := ctx.Value(claimsKey[C]{}).(C)
	return c, ok
}

// Bearer returns an interceptor that admits calls with a bearer token (RFC
// 6750) that v verifies, and puts its claims into the context
// ([ClaimsFrom]). The Authorization comes from the context, where
// [HTTPToContext] and [GRPCToContext] put it. It reads no request, so one
// interceptor protects every method of a service; [Authorize], a typed
// middleware of one method, then decides from the claims and the request.
//
// A call without a bearer token fails with an [*Error] of code
// Unauthenticated, message "missing credentials" and the challenge
// `Bearer realm="<realm>"`; a call whose token v rejects fails with the
// error of [Verifier.Verify]. Over httpx either is a 401 with that
// WWW-Authenticate header, over grpcx the status Unauthenticated. Bearer
// panics if v is nil.
func Bearer[C jwt.Claims](v *Verifier[C]) kit.Interceptor {
	if v == nil {
		panic("auth: Bearer needs a Verifier")
	}
	return func(_ kit.Call, next kit.Invoker) kit.Invoker {
		return func(ctx context.Context, c kit.Call) error {
			ctx, err := v.admit(ctx)
			if err != nil {
				return err
			}
			return next(ctx, c)
		}
	}
}

// admit verifies the bearer token of the context and returns the context
// with its claims.
func (v *Verifier[C]) admit(ctx context.Context) (context.Context, error) {
	token, ok := bearerToken(ctx)
	if !ok {
		return ctx, v.missing()
	}
	claims, err := v.Verify(token)
	if err != nil {
		return ctx, err
	}
	return ContextWithClaims(ctx, claims), nil
}

// bearerToken returns the token of a Bearer Authorization in the context.
func bearerToken(ctx context.Context) (string, bool) {
	v, ok := AuthorizationFrom(ctx)
	if !ok {
		return "", false
	}
	const prefix = "Bearer "
	if len(v) < len(prefix) || !strings.EqualFold(v[:len(prefix)], prefix) {
		return "", false
	}
	return strings.TrimSpace(v[len(prefix):]), true
}

// Authorize returns a typed middleware that admits the calls whose claims
// allow admits, and fails the others with an [*Error] of code
// PermissionDenied (403 over httpx). It goes inside [Bearer], which puts
// the claims into the context: a transport's interceptors run outside the
// typed middlewares of its methods. A call without claims of type C fails
// Unauthenticated. allow sees the request, so a rule may depend on it:
//
//	auth.Authorize[UpdateUserRequest, User](func(_ context.Context, c *jwt.RegisteredClaims, req UpdateUserRequest) bool {
//		return c.Subject == req.ID
//	})
func Authorize[Req, Resp any, C jwt.Claims](allow func(ctx context.Context, claims C, req Req) bool) kit.Middleware[Req, Resp] {
	return func(next kit.Endpoint[Req, Resp]) kit.Endpoint[Req, Resp] {
		return func(ctx context.Context, req Req) (Resp, error) {
			var zero Resp
			claims, ok := ClaimsFrom[C](ctx)
			if !ok {
				return zero, &Error{Err: kit.NewError(kit.Unauthenticated, "missing credentials"), Challenge: "Bearer"}
			}
			if !allow(ctx, claims, req) {
				return zero, &Error{Err: kit.NewError(kit.PermissionDenied, "permission denied")}
			}
			return next(ctx, req)
		}
	}
}
