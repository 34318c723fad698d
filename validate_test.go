package kit_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
)

type signup struct {
	Email string
	Age   int
}

func (s signup) Validate() error {
	var vs []kit.FieldViolation
	if s.Email == "" {
		vs = append(vs, kit.FieldViolation{Field: "email", Description: "required"})
	}
	if s.Age < 0 {
		vs = append(vs, kit.FieldViolation{Field: "age", Description: "must not be negative"})
	}
	if s.Age > 200 {
		return errors.New("age is not plausible")
	}
	if s.Age == 13 {
		return kit.NewError(kit.PermissionDenied, "too young")
	}
	if len(vs) > 0 {
		return kit.InvalidArgumentError("invalid signup", vs...)
	}
	return nil
}

func TestValidate(t *testing.T) {
	t.Parallel()
	called := 0
	ep := kit.Validate(kit.Endpoint[signup, string](func(_ context.Context, s signup) (string, error) {
		called++
		return "welcome " + s.Email, nil
	}))
	tests := []struct {
		name       string
		req        signup
		code       kit.Code
		msg        string
		violations []kit.FieldViolation
	}{
		{"valid", signup{Email: "a@b"}, kit.OK, "", nil},
		{"violations", signup{Age: -1}, kit.InvalidArgument, "invalid signup",
			[]kit.FieldViolation{{Field: "email", Description: "required"}, {Field: "age", Description: "must not be negative"}}},
		{"plain error", signup{Email: "a@b", Age: 300}, kit.InvalidArgument, "invalid argument", nil},
		{"own code", signup{Email: "a@b", Age: 13}, kit.PermissionDenied, "too young", nil},
	}
	// The subtests count calls in the shared called, so they run one after another.
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := called
			_, err := ep(context.Background(), tt.req)
			assert.Equal(t, tt.code, kit.CodeOf(err))
			assert.Equal(t, tt.msg, kit.MessageOf(err))
			assert.Equal(t, tt.violations, kit.ViolationsOf(err))
			if tt.code == kit.OK {
				require.Equal(t, before+1, called)
			} else {
				assert.Equal(t, before, called, "an invalid request never reaches the endpoint")
			}
		})
	}
}

// Validate is itself a middleware, instantiated by the other arguments of Chain.
func TestValidateInChain(t *testing.T) {
	t.Parallel()
	ep := kit.Apply(kit.Nop[signup, string], kit.Validate)
	_, err := ep(context.Background(), signup{})
	assert.Equal(t, kit.InvalidArgument, kit.CodeOf(err))
}

func BenchmarkValidate(b *testing.B) {
	ep := kit.Validate(kit.Endpoint[signup, string](func(_ context.Context, s signup) (string, error) { return s.Email, nil }))
	ctx := context.Background()
	req := signup{Email: "a@b", Age: 30}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ep(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// reservation validates with a pointer receiver, so a reservation value is
// not a kit.Validator; ValidatePointer calls the method on its address.
type reservation struct {
	Seats int
}

func (r *reservation) Validate() error {
	if r.Seats <= 0 {
		return kit.InvalidArgumentError("invalid reservation", kit.FieldViolation{Field: "seats", Description: "must be positive"})
	}
	if r.Seats > 100 {
		return errors.New("too many seats")
	}
	return nil
}

func TestValidatePointer(t *testing.T) {
	t.Parallel()
	called := 0
	ep := kit.ValidatePointer(kit.Endpoint[reservation, int](func(_ context.Context, r reservation) (int, error) {
		called++
		return r.Seats, nil
	}))
	tests := []struct {
		name string
		req  reservation
		code kit.Code
		msg  string
	}{
		{"valid", reservation{Seats: 2}, kit.OK, ""},
		{"violation", reservation{}, kit.InvalidArgument, "invalid reservation"},
		{"plain error", reservation{Seats: 101}, kit.InvalidArgument, "invalid argument"},
	}
	// The subtests count calls in the shared called, so they run one after another.
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := called
			got, err := ep(context.Background(), tt.req)
			assert.Equal(t, tt.code, kit.CodeOf(err))
			assert.Equal(t, tt.msg, kit.MessageOf(err))
			if tt.code == kit.OK {
				assert.Equal(t, tt.req.Seats, got)
				assert.Equal(t, before+1, called)
			} else {
				assert.Equal(t, before, called, "an invalid request never reaches the endpoint")
			}
		})
	}
}

// ValidatePointer is a middleware too.
func TestValidatePointerInChain(t *testing.T) {
	t.Parallel()
	ep := kit.Apply(kit.Nop[reservation, int], kit.ValidatePointer)
	_, err := ep(context.Background(), reservation{})
	assert.Equal(t, kit.InvalidArgument, kit.CodeOf(err))
}

func BenchmarkValidatePointer(b *testing.B) {
	ep := kit.ValidatePointer(kit.Endpoint[reservation, int](func(_ context.Context, r reservation) (int, error) { return r.Seats, nil }))
	ctx := context.Background()
	req := reservation{Seats: 3}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ep(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

func TestValidationError(t *testing.T) {
	t.Parallel()
	assert.NoError(t, kit.ValidationError(nil))
	own := kit.NewError(kit.FailedPrecondition, "closed")
	assert.Same(t, own, kit.ValidationError(own))
	err := kit.ValidationError(errors.New("secret detail"))
	assert.Equal(t, kit.InvalidArgument, kit.CodeOf(err))
	assert.Equal(t, "invalid argument", kit.MessageOf(err))
}
