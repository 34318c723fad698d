package consultest_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit/internal/consultest"
)

// TestClusterElectsAnotherLeader starts three servers, kills the leader and
// waits for the two left to elect another.
func TestClusterElectsAnotherLeader(t *testing.T) {
	t.Parallel()
	c := consultest.StartCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	leader, err := c.Leader(ctx)
	require.NoError(t, err)
	require.NoError(t, leader.Kill())
	start := time.Now()
	var next *consultest.Agent
	require.Eventually(t, func() bool {
		next, err = c.Leader(ctx)
		return err == nil && next != leader
	}, 30*time.Second, 10*time.Millisecond, "a new leader")
	t.Logf("a new leader %v after the leader was killed", time.Since(start))
	assert.NotSame(t, leader, next)
}
