package consultest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// An Agent is a Consul agent in dev mode (a single server that is its own
// leader) listening on loopback ports of its own. Its data directory lives
// as long as the Agent, so [Agent.Stop] and [Agent.Restart] keep its
// registrations, as a restarted production agent does.
type Agent struct {
	// Addr is the host:port of the agent's HTTP API.
	Addr string

	bin     string
	dir     string // holds data/ and agent.log
	ownDir  bool   // remove dir on Close
	node    string
	ports   agentPorts
	expect  int      // servers of a cluster (see StartCluster), or 0 for a dev agent
	join    []string // the serf LAN addresses of the other servers of its cluster
	probe   *http.Client
	probeTr *http.Transport

	mu         sync.Mutex
	cmd        *exec.Cmd
	exited     chan struct{} // closed when cmd has exited
	log        *os.File
	transports []*http.Transport
	closed     bool
}

type agentPorts struct{ http, serfLAN, serfWAN, server int }

// StartTimeout bounds how long starting an agent may take, from launching
// the process to the agent having a leader.
var StartTimeout = 30 * time.Second

// Start starts an agent for the test and stops it, removing its data, when
// the test and its subtests end. It fails the test if the agent cannot be
// found, built or started.
func Start(tb testing.TB) *Agent {
	tb.Helper()
	a, err := New()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := a.Close(); err != nil {
			tb.Error(err)
		}
	})
	return a
}

// New starts an agent, building the binary first if needed (see [Binary]),
// and waits until it has a leader. The caller must Close it; it suits a
// TestMain that shares one agent between the tests of a package.
func New() (*Agent, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "typedkit-consul-")
	if err != nil {
		return nil, fmt.Errorf("consultest: %w", err)
	}
	tr := &http.Transport{Proxy: nil, DisableKeepAlives: true}
	a := &Agent{
		bin:     bin,
		dir:     dir,
		ownDir:  true,
		node:    "typedkit-" + filepath.Base(dir),
		probeTr: tr,
		probe:   &http.Client{Transport: tr, Timeout: 2 * time.Second},
	}
	// Free ports are found by binding and releasing them, so another process
	// may take one before the agent binds it; try again with new ports.
	for try := 1; ; try++ {
		if a.ports, err = freePorts(); err == nil {
			a.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(a.ports.http))
			if err = a.start(); err == nil {
				return a, nil
			}
		}
		if try == 3 {
			_ = os.RemoveAll(dir)
			return nil, err
		}
	}
}

// Transport returns an HTTP transport of its own for a client of the agent,
// such as the Consul API client's Config.Transport. Its idle connections are
// closed when tb ends (if tb is not nil) and when the agent is closed, so
// that they leave no goroutines behind.
func (a *Agent) Transport(tb testing.TB) *http.Transport {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     30 * time.Second,
	}
	a.mu.Lock()
	a.transports = append(a.transports, tr)
	a.mu.Unlock()
	if tb != nil {
		tb.Cleanup(tr.CloseIdleConnections)
	}
	return tr
}

// Stop stops the agent process and waits for it to exit. Its address, ports
// and data are kept for [Agent.Restart]. Stopping a stopped agent does
// nothing.
func (a *Agent) Stop() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stopLocked()
}

// Restart starts the agent again on the same address with the same data,
// and waits until it has a leader.
func (a *Agent) Restart() error {
	a.mu.Lock()
	closed := a.closed
	a.mu.Unlock()
	if closed {
		return errors.New("consultest: Restart after Close")
	}
	if err := a.Stop(); err != nil {
		return err
	}
	return a.start()
}

// Close stops the agent, closes the idle connections of its clients and
// removes its data.
func (a *Agent) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil
	}
	a.closed = true
	err := a.stopLocked()
	for _, tr := range a.transports {
		tr.CloseIdleConnections()
	}
	a.probeTr.CloseIdleConnections()
	if a.ownDir {
		err = errors.Join(err, os.RemoveAll(a.dir))
	}
	return err
}

// Logs returns the end of the agent's log, for failure messages.
func (a *Agent) Logs() string {
	b, err := os.ReadFile(filepath.Join(a.dir, "agent.log"))
	if err != nil {
		return ""
	}
	const tail = 4 << 10
	if len(b) > tail {
		b = b[len(b)-tail:]
	}
	return string(b)
}

func (a *Agent) start() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	exited, err := a.launchLocked()
	if err != nil {
		return err
	}
	if err := a.waitLeader(exited); err != nil {
		_ = a.stopLocked()
		return fmt.Errorf("%w\nagent log:\n%s", err, a.Logs())
	}
	return nil
}

// launchLocked starts the agent's process and returns a channel closed when
// it exits.
func (a *Agent) launchLocked() (<-chan struct{}, error) {
	if a.cmd != nil {
		return nil, errors.New("consultest: agent already running")
	}
	log, err := os.OpenFile(filepath.Join(a.dir, "agent.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("consultest: %w", err)
	}
	p := a.ports
	args := []string{"agent", "-dev"}
	if a.expect > 0 {
		args = []string{"agent", "-server", "-bootstrap-expect", strconv.Itoa(a.expect),
			"-retry-interval", "200ms",
			// Raft's timings at their fastest (production's default is 5):
			// a leader is lost after a second, not five.
			"-hcl", "performance { raft_multiplier = 1 }",
			"-hcl", "disable_host_node_id = true",
		}
		for _, j := range a.join {
			args = append(args, "-retry-join", j)
		}
	}
	args = append(args,
		"-node", a.node,
		"-bind", "127.0.0.1",
		"-client", "127.0.0.1",
		"-http-port", strconv.Itoa(p.http),
		"-serf-lan-port", strconv.Itoa(p.serfLAN),
		"-serf-wan-port", strconv.Itoa(p.serfWAN),
		"-server-port", strconv.Itoa(p.server),
		"-dns-port", "-1",
		"-grpc-port", "-1",
		"-grpc-tls-port", "-1",
		"-data-dir", filepath.Join(a.dir, "data"),
		"-hcl", "disable_update_check = true",
		"-log-level", "warn",
	)
	cmd := exec.Command(a.bin, args...)
	cmd.Stdout, cmd.Stderr = log, log // files: exec starts no copying goroutines
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("consultest: starting %s: %w", a.bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	a.cmd, a.exited, a.log = cmd, exited, log
	return exited, nil
}

// Kill kills the agent process (SIGKILL: a crash) and waits for it to
// exit. Its address, ports and data are kept for [Agent.Restart].
func (a *Agent) Kill() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cmd == nil {
		return nil
	}
	cmd, exited := a.cmd, a.exited
	a.cmd, a.exited = nil, nil
	defer a.log.Close()
	a.probeTr.CloseIdleConnections()
	if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("consultest: %w", err)
	}
	<-exited
	return nil
}

// waitLeader polls the agent until it reports a leader.
func (a *Agent) waitLeader(exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	url := "http://" + a.Addr + "/v1/status/leader"
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("consultest: %w", err)
		}
		resp, err := a.probe.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			leader := strings.Trim(strings.TrimSpace(string(body)), `"`)
			if resp.StatusCode == http.StatusOK && leader != "" {
				return nil
			}
			last = fmt.Errorf("status %d, leader %q", resp.StatusCode, leader)
		} else {
			last = err
		}
		select {
		case <-exited:
			return fmt.Errorf("consultest: the agent exited while starting on %s", a.Addr)
		case <-ctx.Done():
			return fmt.Errorf("consultest: no leader on %s after %v: %w", a.Addr, StartTimeout, last)
		case <-tick.C:
		}
	}
}

func (a *Agent) stopLocked() error {
	if a.cmd == nil {
		return nil
	}
	cmd, exited := a.cmd, a.exited
	a.cmd, a.exited = nil, nil
	defer a.log.Close()
	a.probeTr.CloseIdleConnections()

	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		_ = cmd.Process.Kill()
	}
	select {
	case <-exited:
		return nil
	case <-time.After(15 * time.Second):
	}
	_ = cmd.Process.Kill()
	<-exited
	return fmt.Errorf("consultest: the agent on %s did not stop within 15s and was killed", a.Addr)
}

// freePorts returns four distinct loopback ports that are free for TCP, the
// serf ports for UDP too.
func freePorts() (agentPorts, error) {
	var (
		closers []io.Closer
		ports   []int
	)
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	for len(ports) < 4 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return agentPorts{}, fmt.Errorf("consultest: finding a free port: %w", err)
		}
		closers = append(closers, l)
		port := l.Addr().(*net.TCPAddr).Port
		if len(ports) == 1 || len(ports) == 2 { // serf LAN and WAN also use UDP
			u, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			if err != nil {
				continue
			}
			closers = append(closers, u)
		}
		ports = append(ports, port)
	}
	return agentPorts{http: ports[0], serfLAN: ports[1], serfWAN: ports[2], server: ports[3]}, nil
}
