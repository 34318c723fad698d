package grpcx

import (
	"errors"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/typedkit/kit"
)

// grpcStatuser is an error that is, or wraps, a gRPC status.
type grpcStatuser interface {
	GRPCStatus() *status.Status
}

// ToStatus returns the gRPC status a server sends for err, or nil for nil:
//   - for a *kit.Error in err's chain, its code (kit codes and gRPC codes
//     have the same numbers) with its public message, its field
//     violations as an errdetails.BadRequest detail, and the wait of a
//     [kit.RetryAfterer] in the chain as an errdetails.RetryInfo detail;
//   - for a gRPC status error in err's chain that is not inside a
//     *kit.Error, its code and, when the code is the caller's
//     (InvalidArgument, NotFound, PermissionDenied, Unauthenticated, …),
//     its message and details unchanged, as grpc-go sends a status a
//     handler returns; when the code is a server fault
//     ([kit.IsServerFault]: Unknown, Internal, Unavailable,
//     DeadlineExceeded, Unimplemented, DataLoss) the code's default message
//     alone. Such a status is most often one a grpc-go client returned
//     for a downstream call, whose message says which address it could
//     not reach: it must not reach this server's callers as if it were
//     its own. Return a *kit.Error (kit.WrapError(code, err, message)) to
//     choose the message of such a code;
//   - otherwise the code kit.CodeOf gives and its default message, with
//     the wait of a [kit.RetryAfterer] in the chain as an
//     errdetails.RetryInfo detail.
//
// The text of an internal cause is never part of the status.
func ToStatus(err error) *status.Status {
	if err == nil {
		return nil
	}
	var ke *kit.Error
	if errors.As(err, &ke) {
		st := status.New(codes.Code(ke.Code()), ke.Message())
		if vs := ke.Violations(); len(vs) > 0 {
			br := &errdetails.BadRequest{FieldViolations: make([]*errdetails.BadRequest_FieldViolation, len(vs))}
			for i, v := range vs {
				br.FieldViolations[i] = &errdetails.BadRequest_FieldViolation{Field: v.Field, Description: v.Description}
			}
			if withDetails, err := st.WithDetails(br); err == nil {
				st = withDetails
			}
		}
		return withRetryInfo(st, err)
	}
	if st, ok := wrappedStatus(err); ok {
		if kit.IsServerFault(kit.Code(st.Code())) {
			return status.New(st.Code(), kit.NewError(kit.Code(st.Code()), "").Message())
		}
		return st
	}
	code := kit.CodeOf(err)
	return withRetryInfo(status.New(codes.Code(code), kit.MessageOf(err)), err)
}

// withRetryInfo returns st with an errdetails.RetryInfo detail for the
// wait of a [kit.RetryAfterer] in err's chain, or st itself when there is
// none.
func withRetryInfo(st *status.Status, err error) *status.Status {
	if d, ok := kit.RetryAfterOf(err); ok {
		if withDetails, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(d)}); err == nil {
			return withDetails
		}
	}
	return st
}

// wrappedStatus returns the gRPC status of the first error in err's chain
// that has one, as that error made it: status.FromError would replace the
// message of a wrapped status with the text of the whole chain.
func wrappedStatus(err error) (*status.Status, bool) {
	var gs grpcStatuser
	if errors.As(err, &gs) {
		if st := gs.GRPCStatus(); st != nil {
			return st, true
		}
	}
	return nil, false
}

// FromStatus turns an error a gRPC call returned into a *kit.Error with the
// status's code and message and the field violations of an
// errdetails.BadRequest detail; the status error is kept as its cause. A
// status wrapped by another error (an interceptor's fmt.Errorf("…: %w",
// err)) is read as its own, message included. It returns nil for nil and
// for an OK status. An error that is or wraps a *kit.Error, such as one an
// interceptor returned, is returned unchanged, with its code, message and
// violations; any other error that carries no status gets the code
// kit.CodeOf gives it (Unknown for a plain error).
func FromStatus(err error) error {
	if err == nil {
		return nil
	}
	var own *kit.Error
	if errors.As(err, &own) {
		return err
	}
	st, ok := wrappedStatus(err)
	if !ok {
		return kit.WrapError(kit.CodeOf(err), err, "")
	}
	if st.Code() == codes.OK {
		return nil
	}
	ke := kit.WrapError(kit.Code(st.Code()), err, st.Message())
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			vs := make([]kit.FieldViolation, len(br.GetFieldViolations()))
			for i, v := range br.GetFieldViolations() {
				vs[i] = kit.FieldViolation{Field: v.GetField(), Description: v.GetDescription()}
			}
			ke = ke.WithViolations(vs...)
		}
	}
	return ke
}
