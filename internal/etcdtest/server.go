package etcdtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/typedkit/kit/internal/toolbin"
)

// A Server is a single-member etcd cluster listening on loopback ports of
// its own. Its data directory lives as long as the Server, so
// [Server.Stop], [Server.Kill] and [Server.Restart] keep its keys and
// leases, as a restarted production member does.
type Server struct {
	// Addr is the host:port of the server's client URL, which serves both
	// the gRPC API and HTTP (/health, the JSON gateway under /v3/).
	Addr string

	bin      string
	dir      string // holds data/ and etcd.log
	name     string
	peerAddr string
	probe    *http.Client
	probeTr  *http.Transport

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
	log    *os.File
	paused bool
	closed bool
}

// StartTimeout bounds how long starting a server may take, from launching
// the process to its /health endpoint reporting a healthy member with a
// leader.
var StartTimeout = 30 * time.Second

// Start starts a server for the test and stops it, removing its data, when
// the test and its subtests end. It fails the test if the server cannot be
// found, built or started.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s, err := New()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Error(err)
		}
	})
	return s
}

// New starts a server, building the binary first if needed (see [Binary]),
// and waits until it serves. The caller must Close it; it suits a TestMain
// that shares one server between the tests of a package.
func New() (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "typedkit-etcd-")
	if err != nil {
		return nil, fmt.Errorf("etcdtest: %w", err)
	}
	tr := &http.Transport{Proxy: nil, DisableKeepAlives: true}
	s := &Server{
		bin:     bin,
		dir:     dir,
		name:    "typedkit-" + filepath.Base(dir),
		probeTr: tr,
		probe:   &http.Client{Transport: tr, Timeout: 2 * time.Second},
	}
	// Free ports are found by binding and releasing them, so another process
	// may take one before etcd binds it; try again with new ports.
	for try := 1; ; try++ {
		var ports [2]int
		if ports, err = freePorts(); err == nil {
			s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
			s.peerAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))
			if err = s.start(); err == nil {
				return s, nil
			}
		}
		// A failed first start may have written a member's data for the
		// old ports: start afresh.
		_ = os.RemoveAll(filepath.Join(dir, "data"))
		if try == 3 {
			_ = os.RemoveAll(dir)
			return nil, err
		}
	}
}

// Endpoints returns the server's client URL, for clientv3.Config.Endpoints.
func (s *Server) Endpoints() []string { return []string{"http://" + s.Addr} }

// Stop stops the server gracefully (SIGTERM, as an operator or a
// supervisor does) and waits for it to exit. Its address, ports and data
// are kept for [Server.Restart]. Stopping a stopped server does nothing.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopLocked(false)
}

// Kill kills the server process (SIGKILL: a crash, or the OOM killer) and
// waits for it to exit. Its data is kept for [Server.Restart]; etcd
// recovers it from its write-ahead log.
func (s *Server) Kill() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopLocked(true)
}

// Pause stops the server process (SIGSTOP) without closing anything: its
// connections stay open and its ports keep accepting, but nothing
// answers, as with a hung process or a network that drops every packet.
// [Server.Resume] lets it go on. It returns an error on systems without
// SIGSTOP.
func (s *Server) Pause() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return errors.New("etcdtest: Pause of a server that is not running")
	}
	if err := toolbin.Pause(s.cmd.Process); err != nil {
		return fmt.Errorf("etcdtest: pausing etcd: %w", err)
	}
	s.paused = true
	return nil
}

// Resume lets a paused server go on (SIGCONT). Resuming a server that is
// not paused does nothing.
func (s *Server) Resume() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resumeLocked()
}

func (s *Server) resumeLocked() error {
	if s.cmd == nil || !s.paused {
		return nil
	}
	if err := toolbin.Resume(s.cmd.Process); err != nil {
		return fmt.Errorf("etcdtest: resuming etcd: %w", err)
	}
	s.paused = false
	return nil
}

// Restart starts the server again on the same address with the same data,
// stopping it first if it runs, and waits until it serves.
func (s *Server) Restart() error {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return errors.New("etcdtest: Restart after Close")
	}
	if err := s.Stop(); err != nil {
		return err
	}
	return s.start()
}

// Close stops the server and removes its data.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.stopLocked(false)
	s.probeTr.CloseIdleConnections()
	return errors.Join(err, os.RemoveAll(s.dir))
}

// Logs returns the end of the server's log, for failure messages.
func (s *Server) Logs() string {
	b, err := os.ReadFile(filepath.Join(s.dir, "etcd.log"))
	if err != nil {
		return ""
	}
	const tail = 8 << 10
	if len(b) > tail {
		b = b[len(b)-tail:]
	}
	return string(b)
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("etcdtest: server already running")
	}
	log, err := os.OpenFile(filepath.Join(s.dir, "etcd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("etcdtest: %w", err)
	}
	clientURL, peerURL := "http://"+s.Addr, "http://"+s.peerAddr
	cmd := exec.Command(s.bin,
		"--name", s.name,
		"--data-dir", filepath.Join(s.dir, "data"),
		"--listen-client-urls", clientURL,
		"--advertise-client-urls", clientURL,
		"--listen-peer-urls", peerURL,
		"--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", s.name+"="+peerURL,
		"--initial-cluster-state", "new",
		// The write-ahead log is written but not synced: a killed process
		// loses nothing (the kernel holds the writes), and a loaded test
		// machine's disk does not slow every write down.
		"--unsafe-no-fsync",
		"--log-level", "warn",
	)
	cmd.Stdout, cmd.Stderr = log, log // files: exec starts no copying goroutines
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("etcdtest: starting %s: %w", s.bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s.cmd, s.exited, s.log, s.paused = cmd, exited, log, false

	if err := s.waitHealthy(exited); err != nil {
		_ = s.stopLocked(true)
		return fmt.Errorf("%w\netcd log:\n%s", err, s.Logs())
	}
	return nil
}

// waitHealthy polls the server's /health endpoint until it reports a
// healthy member, which etcd does once the member has a leader and can
// serve a read.
func (s *Server) waitHealthy(exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	url := "http://" + s.Addr + "/health"
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("etcdtest: %w", err)
		}
		resp, err := s.probe.Do(req)
		if err == nil {
			var h struct {
				Health string `json:"health"`
				Reason string `json:"reason"`
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if json.Unmarshal(body, &h) == nil && resp.StatusCode == http.StatusOK && h.Health == "true" {
				return nil
			}
			last = fmt.Errorf("status %d: %s", resp.StatusCode, body)
		} else {
			last = err
		}
		select {
		case <-exited:
			return fmt.Errorf("etcdtest: etcd exited while starting on %s", s.Addr)
		case <-ctx.Done():
			return fmt.Errorf("etcdtest: etcd on %s not healthy after %v: %w", s.Addr, StartTimeout, last)
		case <-tick.C:
		}
	}
}

func (s *Server) stopLocked(kill bool) error {
	if s.cmd == nil {
		return nil
	}
	// A stopped process receives SIGTERM only once it runs again.
	_ = s.resumeLocked()
	cmd, exited := s.cmd, s.exited
	s.cmd, s.exited, s.paused = nil, nil, false
	defer s.log.Close()
	s.probeTr.CloseIdleConnections()

	if kill {
		_ = cmd.Process.Kill()
		<-exited
		return nil
	}
	if err := cmd.Process.Signal(toolbin.Terminate); err != nil {
		_ = cmd.Process.Kill()
	}
	select {
	case <-exited:
		return nil
	case <-time.After(15 * time.Second):
	}
	_ = cmd.Process.Kill()
	<-exited
	return fmt.Errorf("etcdtest: etcd on %s did not stop within 15s and was killed", s.Addr)
}

// freePorts returns two distinct free loopback TCP ports: the client's and
// the peers'.
func freePorts() ([2]int, error) {
	var ports [2]int
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return ports, fmt.Errorf("etcdtest: finding a free port: %w", err)
		}
		defer l.Close()
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}
