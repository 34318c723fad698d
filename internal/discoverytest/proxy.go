package discoverytest

import (
	"net"
	"sync"
	"testing"
)

// A Proxy forwards loopback TCP connections to a target, and can fail the
// way a network does: [Proxy.Hold] stops every byte in both directions
// while the connections stay open and new ones are accepted (a partition,
// or a cable pulled: packets dropped), [Proxy.Refuse] resets every
// connection and each new one (a host that went away), and [Proxy.Heal]
// forwards again, held bytes first.
type Proxy struct {
	// Addr is the proxy's loopback address, for clients.
	Addr string

	lis net.Listener
	wg  sync.WaitGroup

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

// NewProxy starts a proxy to target on a loopback port, closed when tb
// ends. The target may be empty, to be set by [Proxy.Retarget] before the
// first connection; until then connections are closed.
func NewProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proxy{Addr: lis.Addr().String(), target: target, lis: lis, conns: map[net.Conn]struct{}{}}
	p.cond = sync.NewCond(&p.mu)
	p.wg.Go(p.accept)
	tb.Cleanup(p.Close)
	return p
}

// Retarget makes new connections go to target.
func (p *Proxy) Retarget(target string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = target
}

// Hold stops forwarding without closing anything: bytes in either
// direction wait, new connections are accepted and dialled but carry
// nothing.
func (p *Proxy) Hold() { p.set(hold) }

// Refuse closes every connection, and each new one at once.
func (p *Proxy) Refuse() { p.set(refuse) }

// Heal forwards again, the bytes held first.
func (p *Proxy) Heal() { p.set(pass) }

func (p *Proxy) set(m proxyMode) {
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

// Close closes the listener and every connection, and waits for the
// proxy's goroutines. It is called when the test ends.
func (p *Proxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.cond.Broadcast()
	p.mu.Unlock()
	p.lis.Close()
	p.wg.Wait()
}

func (p *Proxy) accept() {
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
		if target == "" {
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
func (p *Proxy) track(in, out net.Conn) bool {
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
func (p *Proxy) pipe(dst, src net.Conn) {
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
func (p *Proxy) gate() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.mode == hold && !p.closed {
		p.cond.Wait()
	}
	return p.mode == pass && !p.closed
}
