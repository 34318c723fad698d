package kit

import (
	"context"
	"errors"
	"strings"
)

// A Code classifies an error. The codes and their numbers are those of gRPC,
// so a code crosses a gRPC boundary unchanged; httpx maps each to an HTTP
// status.
type Code uint32

// The codes, in gRPC's order. OK is the code of a nil error.
const (
	// OK means no error.
	OK Code = iota
	// Canceled means the caller cancelled the operation.
	Canceled
	// Unknown means an error whose kind is not known, such as a plain error
	// returned by a service.
	Unknown
	// InvalidArgument means the caller sent a request that is wrong whatever
	// the state of the system: a malformed body, a missing field.
	InvalidArgument
	// DeadlineExceeded means the deadline passed before the operation finished.
	DeadlineExceeded
	// NotFound means a requested entity does not exist.
	NotFound
	// AlreadyExists means the entity a caller tried to create exists.
	AlreadyExists
	// PermissionDenied means the caller is known but not allowed to do this.
	PermissionDenied
	// ResourceExhausted means a quota or rate limit was reached.
	ResourceExhausted
	// FailedPrecondition means the system is not in the state the operation needs.
	FailedPrecondition
	// Aborted means the operation was aborted, typically by a concurrency conflict.
	Aborted
	// OutOfRange means the operation went past a valid range.
	OutOfRange
	// Unimplemented means the operation is not implemented or not supported.
	Unimplemented
	// Internal means an invariant of the system broke. Its details are for
	// logs, not for callers.
	Internal
	// Unavailable means the service cannot answer now; the call may be retried.
	Unavailable
	// DataLoss means unrecoverable data loss or corruption.
	DataLoss
	// Unauthenticated means the caller has no valid credentials.
	Unauthenticated
)

// maxCode is the highest defined code.
const maxCode = Unauthenticated

var codeNames = [...]string{
	OK:                 "ok",
	Canceled:           "canceled",
	Unknown:            "unknown",
	InvalidArgument:    "invalid_argument",
	DeadlineExceeded:   "deadline_exceeded",
	NotFound:           "not_found",
	AlreadyExists:      "already_exists",
	PermissionDenied:   "permission_denied",
	ResourceExhausted:  "resource_exhausted",
	FailedPrecondition: "failed_precondition",
	Aborted:            "aborted",
	OutOfRange:         "out_of_range",
	Unimplemented:      "unimplemented",
	Internal:           "internal",
	Unavailable:        "unavailable",
	DataLoss:           "data_loss",
	Unauthenticated:    "unauthenticated",
}

// defaultMessages are the public messages of errors that carry none of their
// own, and of errors that are not kit errors.
var defaultMessages = [...]string{
	OK:                 "ok",
	Canceled:           "request canceled",
	Unknown:            "unknown error",
	InvalidArgument:    "invalid argument",
	DeadlineExceeded:   "deadline exceeded",
	NotFound:           "not found",
	AlreadyExists:      "already exists",
	PermissionDenied:   "permission denied",
	ResourceExhausted:  "resource exhausted",
	FailedPrecondition: "failed precondition",
	Aborted:            "aborted",
	OutOfRange:         "out of range",
	Unimplemented:      "unimplemented",
	Internal:           "internal error",
	Unavailable:        "service unavailable",
	DataLoss:           "data loss",
	Unauthenticated:    "unauthenticated",
}

// String returns the code's name in snake case, as it is written on the wire
// by httpx: "not_found", "invalid_argument". An undefined code is
// "code(N)".
func (c Code) String() string {
	if c <= maxCode {
		return codeNames[c]
	}
	return "code(" + itoa(uint32(c)) + ")"
}

// ParseCode returns the code named s, as written by [Code.String]. It
// reports false for a name it does not know.
func ParseCode(s string) (Code, bool) {
	for c, name := range codeNames {
		if name == s {
			return Code(c), true
		}
	}
	return Unknown, false
}

// Codes returns every defined code, OK first.
func Codes() []Code {
	cs := make([]Code, 0, maxCode+1)
	for c := OK; c <= maxCode; c++ {
		cs = append(cs, c)
	}
	return cs
}

func itoa(v uint32) string {
	var b [10]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}

// A FieldViolation says what is wrong with one field of a request. Field is
// a path such as "address.zip" or "items[2].sku".
type FieldViolation struct {
	Field       string `json:"field"`
	Description string `json:"description"`
}

// Error is the error type of typedkit: a code, a public message that may be
// shown to callers, optional field violations, and an internal cause that is
// for logs only.
//
// Transports write only the code, the public message and the violations;
// the cause never leaves the process. Error implements Unwrap, so
// errors.Is and errors.As see the cause.
type Error struct {
	code       Code
	message    string
	cause      error
	violations []FieldViolation
	concealed  bool
}

// NewError returns an error with the code and the public message.
func NewError(code Code, message string) *Error {
	return &Error{code: code, message: message}
}

// WrapError returns an error with the code and the public message that wraps
// cause. The cause is kept for logs and for errors.Is and errors.As; it is
// never sent to a caller.
func WrapError(code Code, cause error, message string) *Error {
	return &Error{code: code, message: message, cause: cause}
}

// Conceal returns an error with the code and the code's default public
// message that wraps cause: the form for an error of unknown origin, such
// as a plain error from a user's decoder or Validate method, whose text may
// hold anything (a database address, a file path) and so must not reach a
// caller. Transports use it for every error that is not a *Error; its text
// stays in the process, and [LogServerFaults] logs it whatever its code, so
// that it is seen.
func Conceal(code Code, cause error) *Error {
	return &Error{code: code, cause: cause, concealed: true}
}

// Concealed reports whether the first *Error in err's chain was made by
// [Conceal]: its public message is a default that hides the text of its
// cause.
func Concealed(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.concealed
}

// InvalidArgumentError returns an InvalidArgument error with the message and
// the violations, for a request that fails validation.
func InvalidArgumentError(message string, violations ...FieldViolation) *Error {
	return &Error{code: InvalidArgument, message: message, violations: violations}
}

// WithViolations returns a copy of e that carries the violations after any
// it had.
func (e *Error) WithViolations(violations ...FieldViolation) *Error {
	c := *e
	c.violations = append(c.violations[:len(c.violations):len(c.violations)], violations...)
	return &c
}

// Code returns the error's code.
func (e *Error) Code() Code { return e.code }

// Message returns the public message: the code's default text when the error
// was made without one.
func (e *Error) Message() string {
	if e.message == "" {
		return e.code.defaultMessage()
	}
	return e.message
}

// Violations returns the field violations the error carries, if any.
func (e *Error) Violations() []FieldViolation { return e.violations }

// Unwrap returns the internal cause, or nil.
func (e *Error) Unwrap() error { return e.cause }

// Error returns the code, the public message and, after a colon, the cause:
// the full text for logs. Use [MessageOf] for what a caller may see.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.code.String())
	b.WriteString(": ")
	b.WriteString(e.Message())
	for _, v := range e.violations {
		b.WriteString("; ")
		b.WriteString(v.Field)
		b.WriteString(": ")
		b.WriteString(v.Description)
	}
	if e.cause != nil {
		b.WriteString(": ")
		b.WriteString(e.cause.Error())
	}
	return b.String()
}

// Is reports whether target is a *Error with the same code and no message
// of its own, so a code-only error works as a sentinel:
//
//	errors.Is(err, kit.NewError(kit.NotFound, ""))
//
// Prefer [CodeOf] for such tests.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.code == e.code && t.message == "" && t.cause == nil && t.violations == nil
}

func (c Code) defaultMessage() string {
	if c <= maxCode {
		return defaultMessages[c]
	}
	return defaultMessages[Unknown]
}

// A Coder is an error that knows its kit code. Errors of other libraries can
// implement it to be classified by [CodeOf] without being wrapped.
type Coder interface {
	error
	KitCode() Code
}

// CodeOf returns the code of err:
//   - OK for nil;
//   - the code of the first *Error or [Coder] in err's chain;
//   - Canceled for context.Canceled and DeadlineExceeded for
//     context.DeadlineExceeded, anywhere in the chain;
//   - Unknown for anything else.
func CodeOf(err error) Code {
	if err == nil {
		return OK
	}
	if e, ok := err.(*Error); ok { // fast path: no allocation for errors.As
		return e.code
	}
	var e *Error
	if errors.As(err, &e) {
		return e.code
	}
	var c Coder
	if errors.As(err, &c) {
		return c.KitCode()
	}
	switch {
	case errors.Is(err, context.Canceled):
		return Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return DeadlineExceeded
	}
	return Unknown
}

// MessageOf returns the message of err that may be shown to a caller: the
// public message of the first *Error in err's chain, or the default message
// of err's code. It never returns the text of a cause.
func MessageOf(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message()
	}
	return CodeOf(err).defaultMessage()
}

// ViolationsOf returns the field violations of the first *Error in err's
// chain.
func ViolationsOf(err error) []FieldViolation {
	var e *Error
	if errors.As(err, &e) {
		return e.violations
	}
	return nil
}

// AsError returns err as a *Error: err itself when it is one, the first
// *Error in its chain, or else a new *Error with err's code and default
// message wrapping err. It returns nil for nil.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	if e, ok := err.(*Error); ok {
		return e
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{code: CodeOf(err), cause: err}
}
