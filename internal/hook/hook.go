// Package hook runs the user hooks of the transports under recovery.
package hook

import (
	"context"
	"runtime/debug"

	"github.com/typedkit/kit"
)

// Safely runs f, a user hook, and hands a panic in it to h as an Internal
// *kit.Error that wraps a *kit.PanicError with the stack. A panic in h
// itself is dropped: nothing is left to report it to, and the server must
// stay up.
func Safely(ctx context.Context, h kit.ErrorHandler, f func()) {
	defer func() {
		if v := recover(); v != nil {
			perr := kit.WrapError(kit.Internal, &kit.PanicError{Value: v, Stack: debug.Stack()}, "")
			func() {
				defer func() { _ = recover() }()
				h.Handle(ctx, perr)
			}()
		}
	}()
	f()
}
