package httpx_test

import (
	"context"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/typedkit/kit/health"
	"github.com/typedkit/kit/httpx"
)

// One route answers JSON or XML, as the Accept header asks, and 406 when
// it asks for neither.
func ExampleNegotiateResponse() {
	type Greeting struct {
		XMLName xml.Name `json:"-" xml:"greeting"`
		Text    string   `json:"text" xml:"text"`
	}
	greet := func(_ context.Context, name string) (Greeting, error) { return Greeting{Text: "hello " + name}, nil }
	decode := func(_ context.Context, r *http.Request) (string, error) { return r.URL.Query().Get("name"), nil }
	srv := httptest.NewServer(httpx.NewServer(greet, decode, httpx.NegotiateResponse(httpx.JSONEncoder[Greeting](), httpx.XMLEncoder[Greeting]())))
	defer srv.Close()

	for _, accept := range []string{"", "application/xml", "text/html;q=0.9, application/*;q=0.8", "image/png"} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"?name=Ada", nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%q: %d %s %s\n", accept, resp.StatusCode, resp.Header.Get("Content-Type"), strings.TrimSpace(string(body)))
	}
	// Output:
	// "": 200 application/json {"text":"hello Ada"}
	// "application/xml": 200 application/xml <greeting><text>hello Ada</text></greeting>
	// "text/html;q=0.9, application/*;q=0.8": 200 application/json {"text":"hello Ada"}
	// "image/png": 406 application/problem+json {"title":"Not Acceptable","status":406,"detail":"not acceptable: Accept \"image/png\" matches none of application/json, application/xml","code":"invalid_argument"}
}

// A raw codec serves a binary format with the same typed server and
// client as JSON.
func ExampleRawCodec() {
	type Counter struct{ N uint64 }
	codec := httpx.RawCodec[Counter]{
		ContentType: "application/x-counter",
		Marshal:     func(c Counter) ([]byte, error) { return binary.AppendUvarint(nil, c.N), nil },
		Unmarshal: func(b []byte, c *Counter) error {
			n, k := binary.Uvarint(b)
			if k <= 0 || k != len(b) {
				return errors.New("not one uvarint")
			}
			c.N = n
			return nil
		},
	}
	inc := func(_ context.Context, c Counter) (Counter, error) { return Counter{N: c.N + 1}, nil }
	srv := httptest.NewServer(httpx.NewServer(inc, codec.DecodeRequest, codec.EncodeResponse))
	defer srv.Close()

	client := httpx.NewClient(http.MethodPost, mustParse(srv.URL), codec.EncodeRequest, codec.DecodeResponse).Endpoint()
	c, err := client(context.Background(), Counter{N: 41})
	fmt.Println(c.N, err)

	resp, _ := http.Post(srv.URL, "application/x-counter", strings.NewReader("\xff"))
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, strings.TrimSpace(string(body)))
	// Output:
	// 42 <nil>
	// 400 {"title":"Bad Request","status":400,"detail":"malformed application/x-counter body","code":"invalid_argument"}
}

// A service's main serves until a signal arrives and then drains: here the
// signal is a cancel, and the errgroup would also hold a gRPC server.
func ExampleServe() {
	h := new(health.Health)
	mux := http.NewServeMux()
	h.Register(mux)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}

	// In a main: ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ctx, stop := context.WithCancel(context.Background())
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return httpx.Serve(ctx, &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, lis, httpx.ServeHealth(h))
	})

	resp, err := http.Get("http://" + lis.Addr().String() + "/readyz")
	if err == nil {
		resp.Body.Close()
		fmt.Println("ready:", resp.StatusCode)
	}

	stop()
	fmt.Println("served:", g.Wait(), "draining:", h.Draining())
	// Output:
	// ready: 200
	// served: <nil> draining: true
}

func mustParse(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
