package limit_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/time/rate"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/limit"
)

type SearchRequest struct {
	Tenant string
	Query  string
}

type SearchResponse struct{ Hits int }

func search(context.Context, SearchRequest) (SearchResponse, error) {
	return SearchResponse{Hits: 3}, nil
}

// The calls of the methods Search and Suggest of one service, as a
// transport describes them to its interceptors.
var (
	searchCall  = kit.Call{Service: "search.Service", Method: "Search", Transport: kit.HTTP}
	suggestCall = kit.Call{Service: "search.Service", Method: "Suggest", Transport: kit.HTTP}
)

// Erroring rejects calls beyond a token bucket's rate at once.
func ExampleErroring() {
	lim := rate.NewLimiter(rate.Every(time.Minute), 2) // bursts of 2, then one a minute
	ep := kit.Intercept(search, searchCall, limit.Erroring(lim))
	for range 3 {
		resp, err := ep(context.Background(), SearchRequest{Query: "go"})
		fmt.Println(resp.Hits, kit.CodeOf(err), errors.Is(err, limit.ErrRateLimited))
	}
	// Output:
	// 3 ok false
	// 3 ok false
	// 0 resource_exhausted true
}

// One Erroring value is one budget for every method it wraps; an
// interceptor that makes a limiter each time it is called, which is once
// per method when the endpoints are built, gives each method a budget of
// its own.
func ExampleErroring_perMethod() {
	shared := limit.Erroring(rate.NewLimiter(rate.Every(time.Minute), 2))
	perMethod := func(call kit.Call, next kit.Invoker) kit.Invoker {
		return limit.Erroring(rate.NewLimiter(rate.Every(time.Minute), 2))(call, next)
	}
	for _, ic := range []kit.Interceptor{shared, perMethod} {
		searchEP := kit.Intercept(search, searchCall, ic)
		suggestEP := kit.Intercept(search, suggestCall, ic)
		var codes []kit.Code
		for _, ep := range []kit.Endpoint[SearchRequest, SearchResponse]{searchEP, searchEP, suggestEP, suggestEP} {
			_, err := ep(context.Background(), SearchRequest{Query: "go"})
			codes = append(codes, kit.CodeOf(err))
		}
		fmt.Println(codes)
	}
	// Output:
	// [ok ok resource_exhausted resource_exhausted]
	// [ok ok ok ok]
}

// Delaying waits for the limiter instead, but never past the call's
// deadline: a wait that cannot end in time fails at once.
func ExampleDelaying() {
	lim := rate.NewLimiter(rate.Every(time.Minute), 1)
	ep := kit.Intercept(search, searchCall, limit.Delaying(lim))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := ep(ctx, SearchRequest{Query: "first"})
	fmt.Println(err)
	_, err = ep(ctx, SearchRequest{Query: "second"}) // the next token is a minute away
	fmt.Println(kit.CodeOf(err), ctx.Err())
	// Output:
	// <nil>
	// resource_exhausted <nil>
}

// InFlight bounds the calls running at once.
func ExampleInFlight() {
	release := make(chan struct{})
	running := make(chan struct{})
	slow := func(context.Context, SearchRequest) (SearchResponse, error) {
		running <- struct{}{}
		<-release
		return SearchResponse{}, nil
	}
	ep := kit.Intercept(slow, searchCall, limit.InFlight(1))

	done := make(chan error)
	go func() {
		_, err := ep(context.Background(), SearchRequest{})
		done <- err
	}()
	<-running
	_, err := ep(context.Background(), SearchRequest{})
	fmt.Println("while one runs:", kit.CodeOf(err), kit.MessageOf(err))
	close(release)
	fmt.Println("the first:", <-done)
	// Output:
	// while one runs: resource_exhausted too many requests in flight
	// the first: <nil>
}

// Bulkhead bounds the calls running at once per tenant, so that one
// tenant's burst leaves the others their share.
func ExampleBulkhead() {
	release := make(chan struct{})
	running := make(chan struct{})
	slow := func(_ context.Context, req SearchRequest) (SearchResponse, error) {
		if req.Query == "slow" {
			running <- struct{}{}
			<-release
		}
		return SearchResponse{Hits: 1}, nil
	}
	perTenant := limit.Bulkhead[SearchRequest, SearchResponse](1, func(r SearchRequest) string { return r.Tenant })
	ep := perTenant(slow)

	done := make(chan error)
	go func() {
		_, err := ep(context.Background(), SearchRequest{Tenant: "acme", Query: "slow"})
		done <- err
	}()
	<-running
	_, err := ep(context.Background(), SearchRequest{Tenant: "acme", Query: "fast"})
	fmt.Println("acme:", kit.CodeOf(err))
	_, err = ep(context.Background(), SearchRequest{Tenant: "globex", Query: "fast"})
	fmt.Println("globex:", kit.CodeOf(err))
	close(release)
	fmt.Println("acme's first call:", <-done)
	// Output:
	// acme: resource_exhausted
	// globex: ok
	// acme's first call: <nil>
}
