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

// Erroring rejects calls beyond a token bucket's rate at once.
func ExampleErroring() {
	lim := rate.NewLimiter(rate.Every(time.Minute), 2) // bursts of 2, then one a minute
	ep := limit.Erroring[SearchRequest, SearchResponse](lim)(search)
	for range 3 {
		resp, err := ep(context.Background(), SearchRequest{Query: "go"})
		fmt.Println(resp.Hits, kit.CodeOf(err), errors.Is(err, limit.ErrRateLimited))
	}
	// Output:
	// 3 ok false
	// 3 ok false
	// 0 resource_exhausted true
}

// Delaying waits for the limiter instead, but never past the call's
// deadline: a wait that cannot end in time fails at once.
func ExampleDelaying() {
	lim := rate.NewLimiter(rate.Every(time.Minute), 1)
	ep := limit.Delaying[SearchRequest, SearchResponse](lim)(search)

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
	ep := limit.InFlight[SearchRequest, SearchResponse](1)(slow)

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
