package limit_test

import (
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// How long, and how often, tests poll for a condition that another
// goroutine brings about.
const (
	testTimeout = 30 * time.Second // an upper bound only: no test waits it out unless it fails
	tick        = time.Millisecond
)
