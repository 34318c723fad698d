package consultest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// A Cluster is a Consul datacenter of several servers on loopback, each
// with ports and data of its own, that elect a leader among themselves
// with Raft at its fastest timings (raft_multiplier = 1). Each server is
// also an agent that clients and registrations can use.
type Cluster struct {
	// Agents are the servers, in the order they were made.
	Agents []*Agent
}

// StartCluster starts a cluster of n servers for the test, waits until
// each knows the leader, and stops them, removing their data, when the
// test ends.
func StartCluster(tb testing.TB, n int) *Cluster {
	tb.Helper()
	c, err := NewCluster(n)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := c.Close(); err != nil {
			tb.Error(err)
		}
	})
	return c
}

// NewCluster starts a cluster of n servers and waits until each knows the
// leader. The caller must Close it.
func NewCluster(n int) (*Cluster, error) {
	if n < 1 {
		return nil, errors.New("consultest: a cluster needs a server")
	}
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	ports, err := clusterPorts(n)
	if err != nil {
		return nil, err
	}
	c := &Cluster{}
	for i := range n {
		dir, err := os.MkdirTemp("", "typedkit-consul-cluster-")
		if err != nil {
			return nil, errors.Join(fmt.Errorf("consultest: %w", err), c.Close())
		}
		tr := &http.Transport{Proxy: nil, DisableKeepAlives: true}
		a := &Agent{
			Addr:    net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[i].http)),
			bin:     bin,
			dir:     dir,
			ownDir:  true,
			node:    "typedkit-server-" + strconv.Itoa(i) + "-" + filepath.Base(dir),
			ports:   ports[i],
			expect:  n,
			probeTr: tr,
			probe:   &http.Client{Transport: tr, Timeout: 2 * time.Second},
		}
		for j, p := range ports {
			if j != i {
				a.join = append(a.join, net.JoinHostPort("127.0.0.1", strconv.Itoa(p.serfLAN)))
			}
		}
		c.Agents = append(c.Agents, a)
	}
	exited := make([]<-chan struct{}, n)
	for i, a := range c.Agents {
		a.mu.Lock()
		exited[i], err = a.launchLocked()
		a.mu.Unlock()
		if err != nil {
			return nil, errors.Join(err, c.Close())
		}
	}
	var (
		wg   sync.WaitGroup
		errs = make([]error, n)
	)
	for i, a := range c.Agents {
		wg.Go(func() {
			if err := a.waitLeader(exited[i]); err != nil {
				errs[i] = fmt.Errorf("%w\nagent log:\n%s", err, a.Logs())
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, errors.Join(err, c.Close())
	}
	return c, nil
}

// Leader returns the server that is the leader, as the first of the
// running servers that answers says, or an error if none knows one.
func (c *Cluster) Leader(ctx context.Context) (*Agent, error) {
	var last error
	for _, a := range c.Agents {
		leader, err := a.leader(ctx)
		if err != nil {
			last = err
			continue
		}
		_, port, _ := net.SplitHostPort(leader)
		for _, b := range c.Agents {
			if strconv.Itoa(b.ports.server) == port {
				return b, nil
			}
		}
		return nil, fmt.Errorf("consultest: the leader %s is not a server of the cluster", leader)
	}
	return nil, fmt.Errorf("consultest: no server knows a leader: %w", last)
}

// leader asks the agent for the leader's server address, and fails when
// there is none.
func (a *Agent) leader(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+a.Addr+"/v1/status/leader", nil)
	if err != nil {
		return "", fmt.Errorf("consultest: %w", err)
	}
	resp, err := a.probe.Do(req)
	if err != nil {
		return "", fmt.Errorf("consultest: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	leader := strings.Trim(strings.TrimSpace(string(body)), `"`)
	if resp.StatusCode != http.StatusOK || leader == "" {
		return "", fmt.Errorf("consultest: %s: status %d, leader %q", a.Addr, resp.StatusCode, leader)
	}
	return leader, nil
}

// Close stops every server and removes their data.
func (c *Cluster) Close() error {
	var errs []error
	for _, a := range c.Agents {
		errs = append(errs, a.Close())
	}
	return errors.Join(errs...)
}

// clusterPorts returns distinct free ports for n agents.
func clusterPorts(n int) ([]agentPorts, error) {
	for try := 0; try < 5; try++ {
		seen := map[int]bool{}
		var out []agentPorts
		ok := true
		for range n {
			p, err := freePorts()
			if err != nil {
				return nil, err
			}
			for _, q := range []int{p.http, p.serfLAN, p.serfWAN, p.server} {
				if seen[q] {
					ok = false
				}
				seen[q] = true
			}
			out = append(out, p)
		}
		if ok {
			return out, nil
		}
	}
	return nil, errors.New("consultest: no distinct free ports for a cluster")
}
