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

// getUserCall describes the calls of the method GetUser of a client of the
// service users.Service, as the client's interceptors see them.
var getUserCall = kit.Call{Service: "users.Service", Method: "GetUser", Transport: kit.HTTP, Side: kit.ClientSide}

// A gobreaker breaker before a timeout: the method's breaker opens after two
// failures in a row and then rejects calls at once.
func ExampleGobreaker() {
	settings := gobreaker.Settings{
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 2 },
		OnStateChange: func(name string, from, to gobreaker.State) {
			fmt.Println("  breaker", name, from, "->", to)
		},
	}
	getUser := func(_ context.Context, req GetUserRequest) (User, error) {
		fmt.Println("  backend called for", req.ID)
		return User{}, kit.NewError(kit.Unavailable, "database down")
	}
	ep := kit.Intercept(getUser, getUserCall, breaker.Gobreaker(settings), kit.Timeout(time.Second))

	for _, id := range []string{"1", "2", "3"} {
		_, err := ep(context.Background(), GetUserRequest{ID: id})
		fmt.Println(id, kit.CodeOf(err), errors.Is(err, breaker.ErrOpen))
	}
	// Output:
	//   backend called for 1
	// 1 unavailable false
	//   backend called for 2
	//   breaker /users.Service/GetUser closed -> open
	// 2 unavailable false
	// 3 unavailable true
}

// One breaker interceptor in a service's list gives each method a breaker
// of its own: the method that fails is rejected, the others go on.
func Example_perMethod() {
	ic := breaker.Gobreaker(gobreaker.Settings{
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 1 },
	})
	down := func(context.Context, GetUserRequest) (User, error) {
		return User{}, kit.NewError(kit.Unavailable, "database down")
	}
	up := func(_ context.Context, req GetUserRequest) (User, error) { return User{Name: "user " + req.ID}, nil }
	getUser := kit.Intercept(down, getUserCall, ic)
	listCall := getUserCall
	listCall.Method = "ListUsers"
	listUsers := kit.Intercept(up, listCall, ic)

	for range 2 {
		_, err := getUser(context.Background(), GetUserRequest{ID: "1"})
		u, err2 := listUsers(context.Background(), GetUserRequest{ID: "2"})
		fmt.Println("GetUser:", kit.CodeOf(err), errors.Is(err, breaker.ErrOpen), "ListUsers:", u.Name, err2)
	}
	// Output:
	// GetUser: unavailable false ListUsers: user 2 <nil>
	// GetUser: unavailable true ListUsers: user 2 <nil>
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
	ep := kit.Intercept(failing, getUserCall, breaker.Adaptive(
		breaker.AdaptiveK(2),                       // the default
		breaker.AdaptiveWindow(5*time.Second, 10),  // the default
		breaker.AdaptiveMinRequests(20),            // the default
		breaker.AdaptiveProbeInterval(time.Second), // the default
		breaker.Classify(breaker.IsFailure),        // the default
	))

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

// Fallback around the endpoint a breaker's interceptor returns answers the
// calls the breaker rejects, and those that fail for want of the service,
// from a cache.
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
	ep := breaker.Fallback(fromCache)(kit.Intercept(getUser, getUserCall, breaker.Gobreaker(gobreaker.Settings{
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 1 },
	})))

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
// Handy, which makes one for each method.
func ExampleHandy() {
	perMethod := breaker.Handy(func(kit.Call) breaker.Breaker { return &consecutive{} })
	ep := kit.Intercept(func(context.Context, GetUserRequest) (User, error) {
		return User{}, errors.New("connection refused")
	}, getUserCall, perMethod)
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

// Each method runs as the hystrix command named after it, configured when
// the chain is built.
func ExampleHystrix() {
	ic := breaker.Hystrix(func(call kit.Call) hystrix.CommandConfig {
		fmt.Println("command", call.Procedure())
		return hystrix.CommandConfig{
			Timeout:               500, // milliseconds
			MaxConcurrentRequests: 100,
		}
	})
	ep := kit.Intercept(func(_ context.Context, req GetUserRequest) (User, error) {
		return User{Name: "user " + req.ID}, nil
	}, getUserCall, ic)
	u, err := ep(context.Background(), GetUserRequest{ID: "7"})
	fmt.Println(u.Name, err)
	// Output:
	// command /users.Service/GetUser
	// user 7 <nil>
}
