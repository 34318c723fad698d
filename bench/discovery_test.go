package bench

import (
	"io"
	"testing"
	"time"

	gokit "github.com/go-kit/kit/endpoint"
	"github.com/go-kit/kit/sd"
	"github.com/go-kit/kit/sd/lb"
	"github.com/go-kit/log"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/discovery"
)

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// BenchmarkDiscovery calls through endpointer → round robin → retry over
// three fixed instances.
func BenchmarkDiscovery(b *testing.B) {
	instances := []string{"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"}
	b.Run("roundrobin-retry/typedkit", func(b *testing.B) {
		e := discovery.NewEndpointer(discovery.FixedInstancer(instances), func(string) (kit.Endpoint[Req, Resp], io.Closer, error) {
			return work, nopCloser{}, nil
		})
		defer e.Close()
		runTyped(b, discovery.Retry(discovery.RoundRobin(e), discovery.RetryMaxAttempts(3)))
	})
	b.Run("roundrobin-retry/gokit", func(b *testing.B) {
		e := sd.NewEndpointer(sd.FixedInstancer(instances), func(string) (gokit.Endpoint, io.Closer, error) {
			return workAny, nopCloser{}, nil
		}, log.NewNopLogger())
		defer e.Close()
		runGokit(b, lb.Retry(3, time.Second, lb.NewRoundRobin(e)))
	})
}
