package etcd_test

import (
	"net"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// A proxy forwards loopback TCP connections to a target, and can fail the
// way a network does: hold stops every byte in both directions while the
// connections stay open (a partition, or a cable pulled: packets dropped),
// refuse resets every connection and each new one (a host that went away),
// and heal forwards again, held bytes first.
type proxy struct {
	addr string
	lis  net.Listener
	wg   sync.WaitGroup

	mu     sync.Mutex
	target string
	cond   *sync.Cond
	mode   proxyMode
	closed bool
	conns  map[net.Conn]struct{}
}

type proxyMode int

const (
	pass proxyMode = iota
	hold
	refuse
)

// newProxy starts a proxy to target, closed when t ends.
func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{addr: lis.Addr().String(), target: target, lis: lis, conns: map[net.Conn]struct{}{}}
	p.cond = sync.NewCond(&p.mu)
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

// retarget makes new connections go to target.
func (p *proxy) retarget(target string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = target
}

func (p *proxy) hold()   { p.set(hold) }
func (p *proxy) refuse() { p.set(refuse) }
func (p *proxy) heal()   { p.set(pass) }

func (p *proxy) set(m proxyMode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = m
	if m == refuse {
		for c := range p.conns {
			c.Close()
		}
	}
	p.cond.Broadcast()
}

func (p *proxy) close() {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.cond.Broadcast()
	p.mu.Unlock()
	p.lis.Close()
	p.wg.Wait()
}

func (p *proxy) accept() {
	for {
		in, err := p.lis.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		refused, target := p.mode == refuse || p.closed, p.target
		p.mu.Unlock()
		if refused {
			in.Close()
			continue
		}
		out, err := net.Dial("tcp", target)
		if err != nil {
			in.Close()
			continue
		}
		if !p.track(in, out) {
			continue
		}
		p.wg.Go(func() { p.pipe(out, in) })
		p.wg.Go(func() { p.pipe(in, out) })
	}
}

// track records a connection's two sides, or closes them if the proxy
// refuses connections by now.
func (p *proxy) track(in, out net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mode == refuse || p.closed {
		in.Close()
		out.Close()
		return false
	}
	p.conns[in], p.conns[out] = struct{}{}, struct{}{}
	return true
}

// pipe copies src to dst while the proxy lets it, then closes both.
func (p *proxy) pipe(dst, src net.Conn) {
	defer func() {
		p.mu.Lock()
		delete(p.conns, src)
		delete(p.conns, dst)
		p.mu.Unlock()
		src.Close()
		dst.Close()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.gate() {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// gate waits while the proxy holds, and reports whether bytes may pass.
func (p *proxy) gate() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.mode == hold && !p.closed {
		p.cond.Wait()
	}
	return p.mode == pass && !p.closed
}
