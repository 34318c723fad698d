package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/typedkit/kit"
)

// StatusCode returns the HTTP status for a kit code: OK 200,
// InvalidArgument, FailedPrecondition and OutOfRange 400, Unauthenticated
// 401, PermissionDenied 403, NotFound 404, AlreadyExists and Aborted 409,
// ResourceExhausted 429, Canceled 499, Unimplemented 501, Unavailable 503,
// DeadlineExceeded 504, and 500 for Internal, DataLoss, Unknown and any
// undefined code.
func StatusCode(code kit.Code) int {
	switch code {
	case kit.OK:
		return http.StatusOK
	case kit.InvalidArgument, kit.FailedPrecondition, kit.OutOfRange:
		return http.StatusBadRequest
	case kit.Unauthenticated:
		return http.StatusUnauthorized
	case kit.PermissionDenied:
		return http.StatusForbidden
	case kit.NotFound:
		return http.StatusNotFound
	case kit.AlreadyExists, kit.Aborted:
		return http.StatusConflict
	case kit.ResourceExhausted:
		return http.StatusTooManyRequests
	case kit.Canceled:
		return StatusClientClosedRequest
	case kit.Unimplemented:
		return http.StatusNotImplemented
	case kit.Unavailable:
		return http.StatusServiceUnavailable
	case kit.DeadlineExceeded:
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

// StatusClientClosedRequest is the status of a request its client cancelled
// (nginx's 499; net/http has no name for it).
const StatusClientClosedRequest = 499

// CodeFromStatus returns the kit code for an HTTP status, for answers that do
// not carry a code of their own (a proxy's 502, a plain 404): 2xx and 3xx
// OK, 400 InvalidArgument, 401 Unauthenticated, 403 PermissionDenied, 404
// NotFound, 408 DeadlineExceeded, 409 Aborted, 413 and 429
// ResourceExhausted, 499 Canceled, 501 Unimplemented, 502 and 503
// Unavailable, 504 DeadlineExceeded, other 4xx FailedPrecondition, other 5xx
// Internal.
func CodeFromStatus(status int) kit.Code {
	switch status {
	case http.StatusBadRequest:
		return kit.InvalidArgument
	case http.StatusUnauthorized:
		return kit.Unauthenticated
	case http.StatusForbidden:
		return kit.PermissionDenied
	case http.StatusNotFound:
		return kit.NotFound
	case http.StatusRequestTimeout, http.StatusGatewayTimeout:
		return kit.DeadlineExceeded
	case http.StatusConflict:
		return kit.Aborted
	case http.StatusRequestEntityTooLarge, http.StatusTooManyRequests:
		return kit.ResourceExhausted
	case StatusClientClosedRequest:
		return kit.Canceled
	case http.StatusNotImplemented:
		return kit.Unimplemented
	case http.StatusBadGateway, http.StatusServiceUnavailable:
		return kit.Unavailable
	}
	switch {
	case status < 400:
		return kit.OK
	case status < 500:
		return kit.FailedPrecondition
	}
	return kit.Internal
}

// A StatusCoder is an error that chooses its own HTTP status. The default
// error encoder uses the status of the first StatusCoder in an error's chain
// instead of the one its kit code maps to.
type StatusCoder interface {
	StatusCode() int
}

// A Headerer is an error that adds headers to the error response, such as
// WWW-Authenticate on a 401 or Retry-After on a 503. The default error
// encoder sets the headers of the first Headerer in an error's chain.
type Headerer interface {
	Headers() http.Header
}

// StatusError wraps a *kit.Error with the HTTP status to answer it with, for
// the cases where the status says more than the code does (413, 415, 406).
// Its Unwrap returns the kit error, so kit.CodeOf sees through it.
type StatusError struct {
	Status int
	Err    *kit.Error
}

// Error returns the kit error's text.
func (e *StatusError) Error() string { return e.Err.Error() }

// Unwrap returns the kit error.
func (e *StatusError) Unwrap() error { return e.Err }

// StatusCode returns e.Status.
func (e *StatusError) StatusCode() int { return e.Status }

// errorStatus returns the HTTP status for err.
func errorStatus(err error) int {
	var sc StatusCoder
	if errors.As(err, &sc) {
		if s := sc.StatusCode(); s >= 400 && s <= 599 {
			return s
		}
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	return StatusCode(kit.CodeOf(err))
}

// ProblemContentType is the media type of the error bodies the default error
// encoder writes (RFC 9457).
const ProblemContentType = "application/problem+json"

// Problem is the JSON body of an error response: an RFC 9457 problem
// document whose extension members carry the kit code and any field
// violations. Detail is the error's public message; an internal cause is
// never part of it.
type Problem struct {
	Type       string               `json:"type,omitempty"`
	Title      string               `json:"title"`
	Status     int                  `json:"status"`
	Detail     string               `json:"detail,omitempty"`
	Code       string               `json:"code"`
	Violations []kit.FieldViolation `json:"violations,omitempty"`
}

// An ErrorEncoder writes an error to the ResponseWriter.
type ErrorEncoder func(ctx context.Context, err error, w http.ResponseWriter)

// DefaultErrorEncoder writes err as a [Problem] with the status of
// [StatusCode] for its code (or of a [StatusCoder] in its chain, or 413 for
// an *http.MaxBytesError), the headers of a [Headerer] in its chain, a
// Retry-After header on a 429 or 503 whose error knows its wait
// ([kit.RetryAfterOf], rounded up to whole seconds), and the Content-Type
// application/problem+json.
func DefaultErrorEncoder(_ context.Context, err error, w http.ResponseWriter) {
	p := ProblemOf(err)
	status := p.Status
	h := w.Header()
	var hd Headerer
	if errors.As(err, &hd) {
		for k, vs := range hd.Headers() {
			for _, v := range vs {
				h.Add(k, v)
			}
		}
	}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		if d, ok := kit.RetryAfterOf(err); ok {
			h.Set("Retry-After", strconv.FormatInt(int64(max(1, (d+time.Second-1)/time.Second)), 10))
		}
	}
	h.Set("Content-Type", ProblemContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}

// ProblemOf returns the [Problem] document of err that
// [DefaultErrorEncoder] writes: the status of its code (or of a
// [StatusCoder] in its chain, 413 for an *http.MaxBytesError), its public
// message and its field violations, never its internal cause.
func ProblemOf(err error) Problem {
	status := errorStatus(err)
	code := kit.CodeOf(err)
	msg := kit.MessageOf(err)
	if status == http.StatusRequestEntityTooLarge && code == kit.Unknown {
		code, msg = kit.ResourceExhausted, "request body too large"
	}
	p := Problem{
		Title:      http.StatusText(status),
		Status:     status,
		Detail:     msg,
		Code:       code.String(),
		Violations: kit.ViolationsOf(err),
	}
	if p.Title == "" {
		p.Title = code.String()
	}
	return p
}

// errorOfProblem is the error a client makes of a problem document: a
// *kit.Error with its code, message and violations, or nil when it names
// no failing code.
func errorOfProblem(p Problem) error {
	code, ok := kit.ParseCode(p.Code)
	if !ok || code == kit.OK {
		return nil
	}
	return kit.NewError(code, p.Detail).WithViolations(p.Violations...)
}

// maxErrorBody is how much of an error response the client reads.
const maxErrorBody = 64 << 10

// DecodeError turns a non-2xx response into an error: a *kit.Error with the
// code, message and violations of a [Problem] body, or, for a body that is
// not one, the code [CodeFromStatus] gives and the status text as message,
// with the start of the body kept in the internal cause. It reads at most 64
// KiB of the body.
func DecodeError(r *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxErrorBody))
	if isProblem(r.Header.Get("Content-Type")) || bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
		var p Problem
		if json.Unmarshal(body, &p) == nil && p.Code != "" {
			if code, ok := kit.ParseCode(p.Code); ok && code != kit.OK {
				return kit.NewError(code, p.Detail).WithViolations(p.Violations...)
			}
		}
	}
	code := CodeFromStatus(r.StatusCode)
	if code == kit.OK {
		code = kit.Unknown
	}
	snippet := strings.TrimSpace(string(body))
	if len(snippet) > 512 {
		snippet = snippet[:512] + "…"
	}
	return kit.WrapError(code, fmt.Errorf("http status %d: %s", r.StatusCode, snippet), http.StatusText(r.StatusCode))
}

func isProblem(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.TrimSpace(mt)
	return strings.EqualFold(mt, ProblemContentType) || strings.EqualFold(mt, "application/json")
}
