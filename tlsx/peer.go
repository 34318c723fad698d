package tlsx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net/url"
	"sync"
)

// A Peer is the verified identity of the other end of a mutual-TLS
// connection: its leaf certificate, which chained to a CA the server
// trusts.
type Peer struct {
	// Subject is the certificate's subject.
	Subject pkix.Name
	// DNSNames and URIs are its subject alternative names; a SPIFFE ID is
	// a URI.
	DNSNames []string
	URIs     []*url.URL
	// Certificate is the leaf certificate itself.
	Certificate *x509.Certificate
}

// PeerFromState returns the peer of a connection whose client
// certificate was verified, and false for one without a verified
// certificate (plaintext, no client certificate, or one that was not
// checked against a CA).
func PeerFromState(cs *tls.ConnectionState) (*Peer, bool) {
	if cs == nil || !cs.HandshakeComplete || len(cs.VerifiedChains) == 0 || len(cs.PeerCertificates) == 0 {
		return nil, false
	}
	leaf := cs.PeerCertificates[0]
	return &Peer{Subject: leaf.Subject, DNSNames: leaf.DNSNames, URIs: leaf.URIs, Certificate: leaf}, true
}

type peerKey struct{}

// peerSource is what the context holds: a peer, or a connection whose
// peer is read when first asked for once its handshake is complete.
type peerSource struct {
	conn *tls.Conn
	mu   sync.Mutex
	done bool
	peer *Peer
}

func (p *peerSource) get() *Peer {
	if p.conn == nil {
		return p.peer
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.done {
		cs := p.conn.ConnectionState()
		if !cs.HandshakeComplete {
			return nil // asked too early: ask the connection again later
		}
		p.peer, _ = PeerFromState(&cs)
		p.done = true
	}
	return p.peer
}

// ContextWithPeer returns ctx carrying p.
func ContextWithPeer(ctx context.Context, p *Peer) context.Context {
	return context.WithValue(ctx, peerKey{}, &peerSource{peer: p})
}

// ContextWithConn returns ctx carrying the peer of c, read from c when
// [PeerFrom] first asks, which must be after the handshake: what a
// server's http.Server.ConnContext calls, so requests pay nothing until
// one asks.
func ContextWithConn(ctx context.Context, c *tls.Conn) context.Context {
	return context.WithValue(ctx, peerKey{}, &peerSource{conn: c})
}

// PeerFrom returns the verified peer of the call whose context is ctx,
// and false when there is none.
func PeerFrom(ctx context.Context) (*Peer, bool) {
	src, ok := ctx.Value(peerKey{}).(*peerSource)
	if !ok {
		return nil, false
	}
	p := src.get()
	return p, p != nil
}
