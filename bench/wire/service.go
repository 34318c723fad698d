// Package wire is the service of the message benchmarks: a list of users
// that kitgen serves over gRPC, beside the code that protoc-gen-go,
// protoc-gen-go-grpc and vtprotobuf's protoc-gen-go-vtproto generated from
// the .proto that kitgen emitted (in pb/), so that the three encode the same
// messages.
package wire

import (
	"context"
	"fmt"
	"time"
)

//go:generate sh -c "cd ../.. && GOWORK=off go run ./codegen/cmd/kitgen -dir bench/wire -type Users -transports grpc -q"
//go:generate ./gen.sh

// User is a representative message of 8 fields.
type User struct {
	ID      int64     `json:"id"`
	Name    string    `json:"name"`
	Email   string    `json:"email"`
	Age     int32     `json:"age"`
	Admin   bool      `json:"admin"`
	Score   float64   `json:"score"`
	Tags    []string  `json:"tags"`
	Created time.Time `json:"created"`
}

// UserList is a list of users.
type UserList struct {
	Users []User `json:"users"`
}

// Users echoes lists of users.
type Users interface {
	// Echo returns its argument.
	Echo(ctx context.Context, list UserList) (UserList, error)
}

// Echo is the Users service.
type Echo struct{}

// Echo returns its argument.
func (Echo) Echo(_ context.Context, list UserList) (UserList, error) { return list, nil }

// NewUser returns the i-th user of the benchmarks, of about 90 bytes on
// the wire.
func NewUser(i int) User {
	return User{ID: int64(i) + 1e6, Name: fmt.Sprintf("User Number %d", i), Email: fmt.Sprintf("user%d@example.com", i),
		Age: 42, Admin: i%7 == 0, Score: 97.25, Tags: []string{"alpha", "beta"}, Created: time.Unix(1700000000+int64(i), 500).UTC()}
}

// NewList returns a list of n users.
func NewList(n int) UserList {
	list := UserList{Users: make([]User, n)}
	for i := range n {
		list.Users[i] = NewUser(i)
	}
	return list
}
