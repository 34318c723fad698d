package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"strings"

	"github.com/typedkit/kit"
)

// A BasicValidator checks the user name and password of a Basic
// Authorization. It returns nil to accept them. An error with the code
// Unauthenticated, or with none (kit.CodeOf gives Unknown), rejects them as
// wrong: the call fails Unauthenticated with the Basic challenge. An error
// with any other code fails the call with that error, such as
// PermissionDenied for a user who may not call the endpoint, or
// Unavailable when the store of users cannot be reached.
type BasicValidator func(ctx context.Context, user, password string) error

// errBasicMismatch is the cause of a rejection by [BasicUsers].
var errBasicMismatch = errors.New("user name or password does not match")

// BasicUsers returns a BasicValidator that accepts the user names and
// passwords of users (user name to password). It compares SHA-256 digests
// in constant time, and compares the credentials given with every entry,
// so the time it takes tells neither how much of a password matched nor
// whether the user exists. It keeps the digests, not users; later changes
// to the map are not seen. It suits a handful of accounts configured with
// the service; a user base belongs in a validator over a password hash such
// as bcrypt.
func BasicUsers(users map[string]string) BasicValidator {
	type entry struct{ user, password [sha256.Size]byte }
	entries := make([]entry, 0, len(users))
	for u, p := range users {
		entries = append(entries, entry{sha256.Sum256([]byte(u)), sha256.Sum256([]byte(p))})
	}
	return func(_ context.Context, user, password string) error {
		u, p := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(password))
		match := 0
		for i := range entries {
			match |= subtle.ConstantTimeCompare(u[:], entries[i].user[:]) &
				subtle.ConstantTimeCompare(p[:], entries[i].password[:])
		}
		if match != 1 {
			return errBasicMismatch
		}
		return nil
	}
}

type basicUserKey struct{}

// BasicUserFrom returns the user name that [Basic] accepted for the call
// whose context this is.
func BasicUserFrom(ctx context.Context) (string, bool) {
	u, ok := ctx.Value(basicUserKey{}).(string)
	return u, ok
}

// Basic returns an interceptor that admits calls with a Basic
// Authorization (RFC 7617) that validate accepts, and puts the user name
// into the context ([BasicUserFrom]). The Authorization comes from the
// context, where [HTTPToContext] and [GRPCToContext] put it. It reads no
// request, so one interceptor protects every method of a service.
//
// A call without Basic credentials, with malformed ones, or with ones
// validate rejects fails with an [*Error] of code Unauthenticated and the
// challenge `Basic realm="<realm>", charset="UTF-8"`; over httpx that is a
// 401 with that WWW-Authenticate header, over grpcx the status
// Unauthenticated. Neither its message nor its cause holds the
// credentials. Basic panics if validate is nil.
func Basic(realm string, validate BasicValidator) kit.Interceptor {
	if validate == nil {
		panic("auth: Basic needs a BasicValidator")
	}
	ch := challenge("Basic", "realm", realm, "charset", "UTF-8")
	unauthenticated := func(msg string, cause error) error {
		return &Error{Err: kit.WrapError(kit.Unauthenticated, cause, msg), Challenge: ch}
	}
	// The errors that hold no cause are built once.
	missing := unauthenticated("missing credentials", nil)
	invalid := unauthenticated("invalid credentials", nil)
	return func(_ kit.Call, next kit.Invoker) kit.Invoker {
		return func(ctx context.Context, c kit.Call) error {
			v, ok := AuthorizationFrom(ctx)
			if !ok {
				return missing
			}
			user, password, ok := parseBasic(v)
			if !ok {
				return invalid
			}
			if err := validate(ctx, user, password); err != nil {
				switch kit.CodeOf(err) {
				case kit.Unauthenticated, kit.Unknown:
					return unauthenticated("invalid user name or password", err)
				}
				return err
			}
			return next(context.WithValue(ctx, basicUserKey{}, user), c)
		}
	}
}

// parseBasic parses the value of a Basic Authorization header, as
// net/http's Request.BasicAuth does.
func parseBasic(v string) (user, password string, ok bool) {
	const prefix = "Basic "
	if len(v) < len(prefix) || !strings.EqualFold(v[:len(prefix)], prefix) {
		return "", "", false
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v[len(prefix):]))
	if err != nil {
		return "", "", false
	}
	user, password, ok = strings.Cut(string(b), ":")
	return user, password, ok
}
