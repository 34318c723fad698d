package consul

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestBackoff(t *testing.T) {
	t.Parallel()
	i := &Instancer{minBackoff: 100 * time.Millisecond, maxBackoff: time.Second}
	tests := []struct {
		failures int
		nominal  time.Duration
	}{
		{1, 100 * time.Millisecond},
		{2, 200 * time.Millisecond},
		{3, 400 * time.Millisecond},
		{4, 800 * time.Millisecond},
		{5, time.Second},
		{50, time.Second},
	}
	for _, tt := range tests {
		for range 100 {
			d := i.backoff(tt.failures)
			assert.GreaterOrEqual(t, d, tt.nominal/2, "failure %d", tt.failures)
			assert.LessOrEqual(t, d, tt.nominal, "failure %d", tt.failures)
		}
	}
}
