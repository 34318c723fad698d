package kit

import (
	"context"
	"errors"
)

// A Validator is a request that checks itself. Validate returns nil for a
// valid request; for an invalid one, an error whose text a caller may see,
// best an *Error from [InvalidArgumentError] with a [FieldViolation] per
// field.
type Validator interface {
	Validate() error
}

// Validate is a middleware that calls the request's Validate method before
// the endpoint and answers a failure with an InvalidArgument error instead
// of calling it. An *Error that Validate returns keeps its code, message and
// violations; any other error becomes a [Conceal]ed InvalidArgument error:
// the caller sees only "invalid argument", since a plain error's text may
// hold anything, and the error handler sees the text. Return an *Error
// (best from [InvalidArgumentError]) to tell the caller what is wrong.
// Its type parameter is constrained on the method, so there is no
// reflection and no type assertion; as a function of the
// endpoint it needs no type arguments:
//
//	ep := kit.Validate(createUser)
//	mw := kit.Chain(limit.Bulkhead[Req, Resp](8, key), kit.Validate)
func Validate[Req Validator, Resp any](next Endpoint[Req, Resp]) Endpoint[Req, Resp] {
	return func(ctx context.Context, req Req) (Resp, error) {
		if err := req.Validate(); err != nil {
			var zero Resp
			return zero, ValidationError(err)
		}
		return next(ctx, req)
	}
}

// ValidatePointer is [Validate] for a request type whose Validate method
// has a pointer receiver, func (r *Req) Validate() error, so that the
// request value itself is not a [Validator]: it calls the method on the
// request's address. Its type parameters are inferred from the endpoint:
//
//	ep := kit.ValidatePointer(reserve)
//
// The request's copy escapes to the heap (one allocation a call), as the
// method is called through the type parameter; generated endpoints call
// the method directly and answer its error with [ValidationError], which
// costs nothing.
func ValidatePointer[Req any, Resp any, PReq interface {
	*Req
	Validator
}](next Endpoint[Req, Resp]) Endpoint[Req, Resp] {
	return func(ctx context.Context, req Req) (Resp, error) {
		if err := PReq(&req).Validate(); err != nil {
			var zero Resp
			return zero, ValidationError(err)
		}
		return next(ctx, req)
	}
}

// ValidationError is the error [Validate] answers for what a Validate
// method returned: nil for nil, an *Error as it is, any other error
// [Conceal]ed behind InvalidArgument.
func ValidationError(err error) error {
	if err == nil {
		return nil
	}
	var ke *Error
	if errors.As(err, &ke) {
		return err
	}
	return Conceal(InvalidArgument, err)
}
