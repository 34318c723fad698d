package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/afex/hystrix-go/hystrix"
	"github.com/sony/gobreaker/v2"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/breaker"
)

type GetUserRequest struct{ ID string }

type User struct{ Name string }

// A gobreaker CircuitBreaker in a chain: only the request type is written,
// the response type comes from the breaker.
func ExampleGobreaker() {
	cb := gobreaker.NewCircuitBreaker[User](gobreaker.Settings{
		Name:        "users",
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 2 },
	})
	getUser := func(_ context.Context, req GetUserRequest) (User, error) {
		fmt.Println("  backend called for", req.ID)
		return User{}, kit.NewError(kit.Unavailable, "database down")
	}
	ep := kit.Wrap(getUser).
		Timeout(time.Second).
		Use(breaker.Gobreaker[GetUserRequest](cb)).
		Endpoint()

	for _, id := range []string{"1", "2", "3"} {
		_, err := ep(context.Background(), GetUserRequest{ID: id})
		fmt.Println(id, kit.CodeOf(err), errors.Is(err, breaker.ErrOpen), cb.State())
	}
	// Output:
	//   backend called for 1
	// 1 unavailable false closed
	//   backend called for 2
	// 2 unavailable false open
	// 3 unavailable true open
}

// Adaptive needs no thresholds: it lets everything through while the
// service accepts calls, and rejects calls locally, in proportion, when it
// fails.
func ExampleAdaptive() {
	var reached int
	failing := func(context.Context, GetUserRequest) (User, error) {
		reached++
		return User{}, errors.New("connection refused")
	}
	ep := breaker.Adaptive[GetUserRequest, User](
		breaker.WithK(2),                          // the default
		breaker.WithWindow(5*time.Second, 10),     // the default
		breaker.WithMinRequests(20),               // the default
		breaker.WithProbeInterval(time.Second),    // the default
		breaker.WithClassifier(breaker.IsFailure), // the default
	)(failing)

	rejected := 0
	for range 1000 {
		_, err := ep(context.Background(), GetUserRequest{ID: "1"})
		if errors.Is(err, breaker.ErrOpen) {
			rejected++
		}
	}
	fmt.Println("the first 20 calls reached the service:", reached >= 20)
	fmt.Println("fewer than 5% of all calls did:", reached < 50)
	fmt.Println("the others were rejected locally:", rejected == 1000-reached)
	// Output:
	// the first 20 calls reached the service: true
	// fewer than 5% of all calls did: true
	// the others were rejected locally: true
}

// Fallback outside a breaker answers the calls the breaker rejects, and
// those that fail for want of the service, from a cache.
func ExampleFallback() {
	cache := map[string]User{"1": {Name: "Ada (cached)"}}
	fromCache := func(_ context.Context, req GetUserRequest, err error) (User, error) {
		if u, ok := cache[req.ID]; ok {
			return u, nil
		}
		return User{}, err
	}
	getUser := func(_ context.Context, req GetUserRequest) (User, error) {
		fmt.Println("  backend called")
		return User{}, kit.NewError(kit.Unavailable, "database down")
	}
	cb := gobreaker.NewCircuitBreaker[User](gobreaker.Settings{
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 1 },
	})
	ep := kit.Chain(
		breaker.Fallback(fromCache),
		breaker.Gobreaker[GetUserRequest](cb),
	)(getUser)

	for _, id := range []string{"1", "1", "2"} {
		u, err := ep(context.Background(), GetUserRequest{ID: id})
		fmt.Printf("%s: %q %v\n", id, u.Name, kit.CodeOf(err))
	}
	// Output:
	//   backend called
	// 1: "Ada (cached)" ok
	// 1: "Ada (cached)" ok
	// 2: "" unavailable
}

// consecutive is a minimal breaker with the Allow, Success and Failure
// methods: it opens after three failures in a row.
type consecutive struct{ failures int }

func (c *consecutive) Allow() bool           { return c.failures < 3 }
func (c *consecutive) Success(time.Duration) { c.failures = 0 }
func (c *consecutive) Failure(time.Duration) { c.failures++ }

// Any breaker with the method set of streadway/handy's plugs in through
// Handy.
func ExampleHandy() {
	ep := breaker.Handy[GetUserRequest, User](&consecutive{})(
		func(context.Context, GetUserRequest) (User, error) {
			return User{}, errors.New("connection refused")
		})
	for range 4 {
		_, err := ep(context.Background(), GetUserRequest{ID: "1"})
		fmt.Println(kit.CodeOf(err), errors.Is(err, breaker.ErrOpen))
	}
	// Output:
	// unknown false
	// unknown false
	// unknown false
	// unavailable true
}

// Hystrix commands are configured globally, by name.
func ExampleHystrix() {
	hystrix.ConfigureCommand("get-user", hystrix.CommandConfig{
		Timeout:               500, // milliseconds
		MaxConcurrentRequests: 100,
	})
	ep := breaker.Hystrix[GetUserRequest, User]("get-user")(
		func(_ context.Context, req GetUserRequest) (User, error) {
			return User{Name: "user " + req.ID}, nil
		})
	u, err := ep(context.Background(), GetUserRequest{ID: "7"})
	fmt.Println(u.Name, err)
	// Output: user 7 <nil>
}
