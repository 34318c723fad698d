// Package minimal declares the smallest service.
package minimal

import "context"

// Echo echoes.
type Echo interface {
	Echo(ctx context.Context, text string) (string, error)
}
