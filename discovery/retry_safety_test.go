package discovery_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/discovery"
	"github.com/typedkit/kit/httpx"
)

// TestRetryNeverDuplicatesAWrite calls real httpx servers on loopback
// through real httpx clients, Retry over round robin, and counts how often
// each server's endpoint ran: a POST whose connection drops after the
// server handled it runs exactly once; the same failure of an idempotent
// call is retried; a refused connection and a 503 with Retry-After are
// retried whatever the method, since the call was provably not processed.
func TestRetryNeverDuplicatesAWrite(t *testing.T) {
	t.Parallel()
	type behaviour int
	const (
		ok behaviour = iota
		dropAfterHandling
		overloaded       // 503 with Retry-After, before the endpoint
		downstreamFailed // did its work, then a downstream call was rejected
	)
	start := func(t *testing.T, b behaviour) (string, *atomic.Int32) {
		var handled atomic.Int32
		ep := kit.Endpoint[echoReq, echoResp](func(_ context.Context, req echoReq) (echoResp, error) {
			if b == overloaded {
				return echoResp{}, kit.WithRetryAfter(kit.NewError(kit.Unavailable, "overloaded"), time.Second)
			}
			handled.Add(1)
			if b == downstreamFailed {
				// The downstream's breaker rejected the call: not
				// processed there, but this endpoint did its work.
				return echoResp{}, kit.WrapError(kit.Unavailable,
					kit.WithRetrySafety(kit.WithRetryAfter(errors.New("breaker open"), time.Second), kit.RetryNotProcessed), "")
			}
			return echoResp{N: req.N}, nil
		})
		if b == downstreamFailed {
			ep = kit.Served(ep) // as generated endpoints are
		}
		enc := func(ctx context.Context, w http.ResponseWriter, resp echoResp) error {
			if b == dropAfterHandling {
				panic(http.ErrAbortHandler) // the connection drops after the work was done
			}
			return httpx.EncodeJSONResponse(ctx, w, resp)
		}
		srv := httptest.NewServer(httpx.NewServer(ep, httpx.DecodeJSONRequest[echoReq], enc))
		t.Cleanup(srv.Close)
		return srv.Listener.Addr().String(), &handled
	}
	factory := func(method string, opts ...httpx.ClientOption) discovery.Factory[echoReq, echoResp] {
		return func(instance string) (kit.Endpoint[echoReq, echoResp], io.Closer, error) {
			u := &url.URL{Scheme: "http", Host: instance, Path: "/echo"}
			return httpx.NewClient(method, u, httpx.EncodeJSONRequest[echoReq], httpx.DecodeJSONResponse[echoResp], opts...).Endpoint(), nil, nil
		}
	}

	tests := []struct {
		name        string
		first       behaviour // the instance tried first; "dead" when refused
		refused     bool
		method      string
		opts        []httpx.ClientOption
		wantFirst   int32 // runs of the first instance's endpoint
		wantSecond  int32
		wantErr     bool
		wantMessage string
	}{
		{name: "POST dropped after handling runs once", first: dropAfterHandling, method: http.MethodPost, wantFirst: 1, wantErr: true,
			wantMessage: "not retried: may have been processed and is not idempotent"},
		{name: "idempotent POST is retried", first: dropAfterHandling, method: http.MethodPost, opts: []httpx.ClientOption{httpx.ClientCall(kit.Call{Method: "Post", Idempotent: true})}, wantFirst: 1, wantSecond: 1},
		{name: "PUT is retried", first: dropAfterHandling, method: http.MethodPut, wantFirst: 1, wantSecond: 1},
		{name: "POST to a refused port is retried", refused: true, method: http.MethodPost, wantSecond: 1},
		{name: "POST answered 503 with Retry-After is retried", first: overloaded, method: http.MethodPost, wantSecond: 1},
		{name: "a downstream's not processed is not passed on", first: downstreamFailed, method: http.MethodPost, wantFirst: 1, wantErr: true,
			wantMessage: "not retried: may have been processed and is not idempotent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var first string
			var firstRuns *atomic.Int32
			if tt.refused {
				first, firstRuns = deadAddr(t), new(atomic.Int32)
			} else {
				first, firstRuns = start(t, tt.first)
			}
			second, secondRuns := start(t, ok)
			e := discovery.NewEndpointer(discovery.FixedInstancer{first, second}, factory(tt.method, tt.opts...))
			t.Cleanup(func() { require.NoError(t, e.Close()) })
			call := discovery.Retry(inOrder(t, e, []string{first, second}))

			_, err := call(context.Background(), echoReq{N: 1})
			assert.Equal(t, tt.wantFirst, firstRuns.Load(), "runs on the first instance")
			assert.Equal(t, tt.wantSecond, secondRuns.Load(), "runs on the second instance")
			if !tt.wantErr {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, kit.Unavailable, kit.CodeOf(err))
			assert.Contains(t, err.Error(), tt.wantMessage)
		})
	}
}
