package observe

import (
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/typedkit/kit"
)

// statusNames are the values of rpc.response.status_code and error.type for
// each kit code: the names gRPC gives its status codes, which kit's codes
// share.
var statusNames = [...]string{
	kit.OK:                 "OK",
	kit.Canceled:           "CANCELLED",
	kit.Unknown:            "UNKNOWN",
	kit.InvalidArgument:    "INVALID_ARGUMENT",
	kit.DeadlineExceeded:   "DEADLINE_EXCEEDED",
	kit.NotFound:           "NOT_FOUND",
	kit.AlreadyExists:      "ALREADY_EXISTS",
	kit.PermissionDenied:   "PERMISSION_DENIED",
	kit.ResourceExhausted:  "RESOURCE_EXHAUSTED",
	kit.FailedPrecondition: "FAILED_PRECONDITION",
	kit.Aborted:            "ABORTED",
	kit.OutOfRange:         "OUT_OF_RANGE",
	kit.Unimplemented:      "UNIMPLEMENTED",
	kit.Internal:           "INTERNAL",
	kit.Unavailable:        "UNAVAILABLE",
	kit.DataLoss:           "DATA_LOSS",
	kit.Unauthenticated:    "UNAUTHENTICATED",
}

const numCodes = len(statusNames)

// codeIndex returns the index of code in the per-code tables: the code
// itself, or Unknown's for a code kit does not define.
func codeIndex(code kit.Code) int {
	if int(code) < numCodes {
		return int(code)
	}
	return int(kit.Unknown)
}

// StatusName returns the value the interceptors of this package give the
// rpc.response.status_code and error.type attributes for code: gRPC's name
// for the status code of the same number ("OK", "NOT_FOUND", "CANCELLED",
// "UNAUTHENTICATED"). A code kit does not define is "UNKNOWN".
func StatusName(code kit.Code) string { return statusNames[codeIndex(code)] }

// methodName returns the rpc.method of a call, which is also the name of
// its span: the fully qualified method, "Service/Method", as the semantic
// conventions (v1.43.0) ask, or the method alone when the call names no
// service, or "_OTHER", the conventions' value for a method that is not
// known, when it names no method.
func methodName(call kit.Call) string {
	switch {
	case call.Method == "":
		return "_OTHER"
	case call.Service == "":
		return call.Method
	}
	return call.Service + "/" + call.Method
}

// systemName returns the rpc.system.name of a transport, or "" for an
// in-process call, which has none.
func systemName(t kit.Transport) string {
	if t == kit.InProcess {
		return ""
	}
	return t.String()
}

// callAttrs returns the attributes every measurement and span of a call
// carries: the method, and the transport when there is one.
func callAttrs(call kit.Call) []attribute.KeyValue {
	attrs := []attribute.KeyValue{semconv.RPCMethod(methodName(call))}
	if system := systemName(call.Transport); system != "" {
		attrs = append(attrs, semconv.RPCSystemNameKey.String(system))
	}
	return attrs
}

// resultAttrs returns the attributes of a call's outcome: its status code
// and, for a failure, its error type.
func resultAttrs(code kit.Code) []attribute.KeyValue {
	name := StatusName(code)
	if code == kit.OK {
		return []attribute.KeyValue{semconv.RPCResponseStatusCode(name)}
	}
	return []attribute.KeyValue{semconv.RPCResponseStatusCode(name), semconv.ErrorTypeKey.String(name)}
}
