package discoverytest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/typedkit/kit/httpx"
	"github.com/typedkit/kit/internal/grpctest/testpb"
	"github.com/typedkit/kit/internal/toolbin"
)

// The environment of an instance process: its name, and the addresses it
// is reached at (its proxies), for a register hook.
const (
	envName          = "TYPEDKIT_DISCOVERYTEST_INSTANCE"
	envAdvertiseHTTP = "TYPEDKIT_DISCOVERYTEST_ADVERTISE_HTTP"
	envAdvertiseGRPC = "TYPEDKIT_DISCOVERYTEST_ADVERTISE_GRPC"
)

// EchoRequest is the request of an instance's POST /echo.
type EchoRequest struct{ N int }

// EchoResponse is its answer: the instance's name and the request's N.
type EchoResponse struct {
	Instance string
	N        int
}

// Advertised is what an instance process tells its register hook: its
// name and the addresses clients reach it at, which are its proxies'.
type Advertised struct {
	Name, HTTP, GRPC string
}

// ServeIfInstance makes the test binary an instance process when
// [StartInstance] started it, and returns at once otherwise; call it first
// in TestMain. An instance serves POST /echo ([EchoRequest] →
// [EchoResponse]) and GET /health over HTTP, and the Test service of
// internal/grpctest, whose Sum answers with the instance's name in C, over
// gRPC, each on a loopback port of its own. If register is not nil the
// instance calls it once it serves, to register itself in a registry, and
// the function it returns when it exits. It exits when its standard input
// closes (the test ended, or died) and never returns.
func ServeIfInstance(register func(context.Context, Advertised) (deregister func(), err error)) {
	name := os.Getenv(envName)
	if name == "" {
		return
	}
	if err := serveInstance(name, register); err != nil {
		fmt.Fprintln(os.Stderr, "instance", name+":", err)
		os.Exit(1)
	}
	os.Exit(0)
}

type nameServer struct {
	testpb.UnimplementedTestServer
	name string
}

func (s nameServer) Sum(context.Context, *testpb.SumRequest) (*testpb.SumReply, error) {
	return &testpb.SumReply{C: s.name}, nil
}

func serveInstance(name string, register func(context.Context, Advertised) (func(), error)) error {
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	gl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	echo := func(_ context.Context, req EchoRequest) (EchoResponse, error) {
		return EchoResponse{Instance: name, N: req.N}, nil
	}
	mux := http.NewServeMux()
	mux.Handle("POST /echo", httpx.NewServer(echo, httpx.DecodeJSONRequest[EchoRequest], httpx.EncodeJSONResponse[EchoResponse]))
	mux.HandleFunc("GET /health", func(http.ResponseWriter, *http.Request) {})
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(hl) }()
	gs := grpc.NewServer()
	testpb.RegisterTestServer(gs, nameServer{name: name})
	go func() { _ = gs.Serve(gl) }()

	deregister := func() {}
	if register != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		deregister, err = register(ctx, Advertised{Name: name, HTTP: os.Getenv(envAdvertiseHTTP), GRPC: os.Getenv(envAdvertiseGRPC)})
		cancel()
		if err != nil {
			return fmt.Errorf("registering: %w", err)
		}
	}
	fmt.Printf("READY %s %s\n", hl.Addr(), gl.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	deregister()
	gs.Stop()
	return hs.Close()
}

// An Instance is a service instance in a process of its own (the test
// binary, run again by [StartInstance]) behind two [Proxy]s, one for its
// HTTP port and one for its gRPC port: clients and registrations use the
// proxies' addresses, so that a test can kill the process, hang it
// (SIGSTOP), or drop its traffic.
type Instance struct {
	// Name is the name the instance answers with.
	Name string
	// HTTP and GRPC are the proxies in front of its ports.
	HTTP, GRPC *Proxy

	cmd    *exec.Cmd
	stdin  io.WriteCloser
	exited chan struct{}

	mu     sync.Mutex
	paused bool
}

// StartInstance starts an instance process named name, with env added to
// its environment (for a register hook), and returns once it serves and,
// with a hook, has registered. The process is ended when tb ends. The
// test's TestMain must call [ServeIfInstance].
func StartInstance(tb testing.TB, name string, env ...string) *Instance {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	i := &Instance{Name: name, HTTP: NewProxy(tb, ""), GRPC: NewProxy(tb, ""), exited: make(chan struct{})}
	i.cmd = exec.Command(exe, "-test.run=^$")
	i.cmd.Env = append(append(os.Environ(),
		envName+"="+name,
		envAdvertiseHTTP+"="+i.HTTP.Addr,
		envAdvertiseGRPC+"="+i.GRPC.Addr),
		env...)
	i.cmd.Stderr = os.Stderr
	if i.stdin, err = i.cmd.StdinPipe(); err != nil {
		tb.Fatal(err)
	}
	out, err := i.cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := i.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() {
		_ = i.cmd.Wait()
		close(i.exited)
	}()
	tb.Cleanup(i.end)

	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		ready <- line
	}()
	var line string
	select {
	case line = <-ready:
	case <-time.After(30 * time.Second):
		tb.Fatalf("instance %s: not ready within 30s", name)
	}
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "READY" {
		tb.Fatalf("instance %s did not start: %q", name, line)
	}
	i.HTTP.Retarget(f[1])
	i.GRPC.Retarget(f[2])
	return i
}

// Kill kills the process (SIGKILL, a crash) and waits for it to exit.
func (i *Instance) Kill() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if err := i.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	<-i.exited
	return nil
}

// Shutdown ends the instance gracefully: it deregisters (with a register
// hook), stops serving and exits. Shutdown waits for it to exit.
func (i *Instance) Shutdown() error {
	if err := i.Resume(); err != nil {
		return err
	}
	if err := i.stdin.Close(); err != nil {
		return err
	}
	select {
	case <-i.exited:
		return nil
	case <-time.After(wait):
		return fmt.Errorf("instance %s did not exit within %v", i.Name, wait)
	}
}

// Hang stops the process (SIGSTOP) without closing anything: its ports
// still accept connections, which the kernel queues, and nothing answers.
func (i *Instance) Hang() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if err := toolbin.Pause(i.cmd.Process); err != nil {
		return err
	}
	i.paused = true
	return nil
}

// Resume lets a hung process go on (SIGCONT).
func (i *Instance) Resume() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if !i.paused {
		return nil
	}
	i.paused = false
	return toolbin.Resume(i.cmd.Process)
}

// Drop makes both proxies stop forwarding without closing connections, as
// a network that drops every packet to the instance.
func (i *Instance) Drop() {
	i.HTTP.Hold()
	i.GRPC.Hold()
}

// end resumes the process if it hangs, closes its input so that it exits,
// and kills it if it has not within five seconds.
func (i *Instance) end() {
	_ = i.Resume()
	_ = i.stdin.Close()
	select {
	case <-i.exited:
		return
	case <-time.After(5 * time.Second):
	}
	_ = i.Kill()
}
