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
//	mw := kit.Chain(kit.Recover[Req, Resp](logger), kit.Validate)
func Validate[Req Validator, Resp any](next Endpoint[Req, Resp]) Endpoint[Req, Resp] {
	return func(ctx context.Context, req Req) (Resp, error) {
		if err := req.Validate(); err != nil {
			var zero Resp
			var ke *Error
			if errors.As(err, &ke) {
				return zero, err
			}
			return zero, Conceal(InvalidArgument, err)
		}
		return next(ctx, req)
	}
}
