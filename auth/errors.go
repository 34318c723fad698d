package auth

import (
	"net/http"
	"strings"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/httpx"
)

// An Error is a failed authentication or authorization: a *kit.Error with
// the code Unauthenticated or PermissionDenied, and the challenge an HTTP
// answer carries in its WWW-Authenticate header.
//
// It implements httpx's Headerer, so httpx's default error encoder answers
// 401 or 403 with the challenge; grpcx answers the kit code as a gRPC
// status. Its Unwrap returns the kit error, so kit.CodeOf and
// kit.MessageOf see through it. Neither the public message nor the cause
// ever holds the credentials that failed.
type Error struct {
	// Err is the kit error: its code, public message and cause.
	Err *kit.Error
	// Challenge is the value of the WWW-Authenticate header, such as
	// `Bearer realm="api", error="invalid_token"`; empty for none.
	Challenge string
}

var _ httpx.Headerer = (*Error)(nil)

// Error returns the kit error's text.
func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the kit error.
func (e *Error) Unwrap() error { return e.Err }

// Headers returns the WWW-Authenticate header of the challenge, or nil
// when there is none.
func (e *Error) Headers() http.Header {
	if e.Challenge == "" {
		return nil
	}
	return http.Header{"Www-Authenticate": {e.Challenge}}
}

// challenge writes an authentication challenge (RFC 9110, section 11.3):
// the scheme, then its parameters as quoted strings.
func challenge(scheme string, params ...string) string {
	var b strings.Builder
	b.WriteString(scheme)
	sep := " "
	for i := 0; i+1 < len(params); i += 2 {
		if params[i+1] == "" {
			continue
		}
		b.WriteString(sep)
		b.WriteString(params[i])
		b.WriteString(`="`)
		for _, r := range params[i+1] {
			if r < ' ' || r == 0x7f {
				continue // not allowed in a quoted string
			}
			if r == '"' || r == '\\' {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		b.WriteByte('"')
		sep = ", "
	}
	return b.String()
}
