package consul

import (
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
)

func entry(port int, checks ...*api.HealthCheck) *api.ServiceEntry {
	return &api.ServiceEntry{
		Node:    &api.Node{Address: "10.0.0.1"},
		Service: &api.AgentService{Address: "127.0.0.1", Port: port},
		Checks:  append(api.HealthChecks{{CheckID: "serfHealth", Status: api.HealthPassing}}, checks...),
	}
}

func check(status, output string, interval time.Duration) *api.HealthCheck {
	return &api.HealthCheck{CheckID: "service:x", Status: status, Output: output,
		Definition: api.HealthCheckDefinition{IntervalDuration: interval, TimeoutDuration: interval / 2}}
}

// TestPickHoldsPendingInstances checks which instances a watch reports:
// those whose checks pass, and those it reported before whose checks have
// not run since their agent restarted, for a check interval at most.
func TestPickHoldsPendingInstances(t *testing.T) {
	t.Parallel()
	now := time.Now()
	passing := check(api.HealthPassing, "HTTP GET: 200 OK", time.Second)
	pending := check(api.HealthCritical, "", time.Second)
	failing := check(api.HealthCritical, "HTTP GET: connection refused", time.Second)
	maint := &api.HealthCheck{CheckID: api.ServiceMaintPrefix + "x", Status: api.HealthCritical}
	tests := []struct {
		name    string
		failing bool // InstancerIncludeFailing
		entries []*api.ServiceEntry
		prev    []string
		held    map[string]time.Time
		now     time.Time
		want    []string
		recheck time.Time
		after   map[string]time.Time
	}{
		{name: "passing", entries: []*api.ServiceEntry{entry(1, passing), entry(2, passing)},
			want: []string{"127.0.0.1:1", "127.0.0.1:2"}},
		{name: "failing left out", entries: []*api.ServiceEntry{entry(1, passing), entry(2, failing)}, prev: []string{"127.0.0.1:1", "127.0.0.1:2"},
			want: []string{"127.0.0.1:1"}},
		{name: "a new pending instance is left out", entries: []*api.ServiceEntry{entry(1, passing), entry(2, pending)}, prev: []string{"127.0.0.1:1"},
			want: []string{"127.0.0.1:1"}},
		{name: "a known pending instance is held", entries: []*api.ServiceEntry{entry(1, passing), entry(2, pending)}, prev: []string{"127.0.0.1:1", "127.0.0.1:2"},
			want: []string{"127.0.0.1:1", "127.0.0.1:2"}, recheck: now.Add(2500 * time.Millisecond),
			after: map[string]time.Time{"127.0.0.1:2": now.Add(2500 * time.Millisecond)}},
		{name: "held until its time is up", entries: []*api.ServiceEntry{entry(2, pending)}, prev: []string{"127.0.0.1:2"},
			held: map[string]time.Time{"127.0.0.1:2": now.Add(-time.Millisecond)},
			want: []string{}, after: map[string]time.Time{"127.0.0.1:2": now.Add(-time.Millisecond)}},
		{name: "a hold ends when the check runs", entries: []*api.ServiceEntry{entry(2, passing)}, prev: []string{"127.0.0.1:2"},
			held: map[string]time.Time{"127.0.0.1:2": now.Add(time.Second)},
			want: []string{"127.0.0.1:2"}, after: map[string]time.Time{}},
		{name: "pending beside failing is left out", entries: []*api.ServiceEntry{entry(2, pending, failing)}, prev: []string{"127.0.0.1:2"},
			want: []string{}},
		{name: "maintenance is left out", entries: []*api.ServiceEntry{entry(2, maint)}, prev: []string{"127.0.0.1:2"},
			want: []string{}},
		{name: "node address when the service has none", entries: []*api.ServiceEntry{{Node: &api.Node{Address: "10.0.0.1"},
			Service: &api.AgentService{Port: 3}, Checks: api.HealthChecks{passing}}}, want: []string{"10.0.0.1:3"}},
		{name: "include failing", failing: true, entries: []*api.ServiceEntry{entry(1, failing), entry(2, pending)},
			want: []string{"127.0.0.1:1", "127.0.0.1:2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			i := &Instancer{passingOnly: !tt.failing}
			held := tt.held
			if held == nil {
				held = map[string]time.Time{}
			}
			got, recheck := i.pick(tt.entries, tt.prev, held, now)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.recheck, recheck)
			if tt.after == nil {
				tt.after = map[string]time.Time{}
			}
			assert.Equal(t, tt.after, held)
		})
	}
}
