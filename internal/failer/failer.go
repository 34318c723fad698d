// Package failer finds the business error a response carries, for the
// transports and the interceptor chain.
package failer

import "reflect"

// failer has the method set of kit.Failer.
type failer interface{ Failed() error }

// Func returns a function that returns resp.Failed() for responses of type
// Resp that implement kit.Failer, and nil otherwise, decided once: for a
// type that cannot implement it the function returns nil without looking
// at the response, so types that are not Failers pay nothing per call.
func Func[Resp any]() func(Resp) error {
	t := reflect.TypeFor[Resp]()
	if t.Kind() != reflect.Interface && !t.Implements(reflect.TypeFor[failer]()) {
		return none[Resp]
	}
	return failed[Resp]
}

func failed[Resp any](resp Resp) error {
	if f, ok := any(resp).(failer); ok {
		return f.Failed()
	}
	return nil
}

func none[Resp any](Resp) error { return nil }
