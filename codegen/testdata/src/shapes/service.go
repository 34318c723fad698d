// Package shapes declares a service with every method shape and type kind
// the generator supports.
package shapes

import (
	"context"
	"time"

	"github.com/typedkit/kit/codegen/testdata/src/model"
	mhttp "github.com/typedkit/kit/codegen/testdata/src/model/http"
)

// UserID is a named string used in a path.
type UserID string

// Account is a local struct.
type Account struct {
	ID      UserID            `json:"id"`
	Owner   model.User        `json:"owner"`
	Labels  map[string]string `json:"labels,omitempty"`
	Secret  string            `json:"-"`
	private int
}

// Validate checks an account.
func (a Account) Validate() error { return nil }

// Query is a request struct read from the query string.
type Query struct {
	Org      string        `json:"org"`
	Limit    uint16        `json:"limit"`
	MinScore float64       `json:"min_score"`
	Active   *bool         `json:"active"`
	Tags     []model.Tag   `json:"tags"`
	Level    model.Level   `json:"level"`
	Within   time.Duration `json:"within"`
}

// Alias is an alias of an imported type.
type Alias = model.User

// Shapes covers the method shapes.
type Shapes interface {
	// StructArg takes a request struct. Calling it twice does what calling
	// it once does, so its clients may retry it.
	//
	//kit:idempotent
	StructArg(ctx context.Context, req Account) (Account, error)
	// PointerArg takes a pointer to a request struct and returns a pointer.
	//
	//kit:http PUT /accounts/{id}
	PointerArg(ctx context.Context, req *Account) (*Account, error)
	// Params takes several parameters, imported and aliased.
	//
	//kit:http POST /params/{user}/{n}
	Params(ctx context.Context, user UserID, n int32, alias Alias, headers []mhttp.Header, when time.Time) (model.Page[model.User], error)
	// NoArgs takes nothing and returns nothing.
	NoArgs(ctx context.Context) error
	// Several returns several named results.
	//
	//kit:http GET /several/{id}
	Several(ctx context.Context, id uint64, verbose bool) (user model.User, score float32, err error)
	// Unnamed returns several unnamed results.
	Unnamed(ctx context.Context, keys map[string][]int) (int, string, error)
	// Search reads a query.
	//
	//kit:http GET /search
	Search(ctx context.Context, q Query) ([]model.User, error)
	// Remove deletes by optional ID.
	//
	//kit:http DELETE /things/{name}
	Remove(ctx context.Context, name string, force *bool, ids []int64) error
	// Header returns a type from a package named like net/http.
	Header(ctx context.Context, key string) (mhttp.Header, error)
}
