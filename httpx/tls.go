package httpx

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"

	"github.com/typedkit/kit/tlsx"
)

// ServeTLS makes [Serve] serve TLS with the certificate of s, reloaded
// when its files change: TLS 1.2 at least, HTTP/2 and HTTP/1.1 through
// ALPN, and, when s has a client CA, mutual TLS, with the verified client
// certificate available to hooks and endpoints through tlsx.PeerFrom. A
// plaintext HTTP request on the port is answered 400 and its connection
// closed; the server goes on serving. The http.Server must not have a
// TLSConfig of its own.
func ServeTLS(s *tlsx.Server) ServeOption {
	return func(c *serveConfig) { c.tls = s }
}

// tlsConnContext puts each TLS connection into its requests' contexts, so
// that tlsx.PeerFrom finds the peer's certificate, and then calls next.
func tlsConnContext(next func(context.Context, net.Conn) context.Context) func(context.Context, net.Conn) context.Context {
	return func(ctx context.Context, c net.Conn) context.Context {
		if tc, ok := c.(*tls.Conn); ok {
			ctx = tlsx.ContextWithConn(ctx, tc)
		}
		if next != nil {
			ctx = next(ctx, c)
		}
		return ctx
	}
}

// TLSPeerToContext returns a server hook (for ServerBefore) that puts the
// verified client certificate of a request into the context, for servers
// not run by [Serve] with [ServeTLS], which does it already.
func TLSPeerToContext() RequestFunc {
	return func(ctx context.Context, r *http.Request) context.Context {
		if _, ok := tlsx.PeerFrom(ctx); ok {
			return ctx
		}
		if p, ok := tlsx.PeerFromState(r.TLS); ok {
			return tlsx.ContextWithPeer(ctx, p)
		}
		return ctx
	}
}

// ClientTLS makes a Client send its requests over TLS with cfg (see
// tlsx.ClientFiles.Config): the HTTP client it sets has a transport of its
// own, cloned from http.DefaultTransport with cfg, HTTP/2 through ALPN and
// the timeout DefaultClientTimeout. The transport is made once, when
// ClientTLS is called, so every Client given the same option (all the
// methods of a generated NewHTTPClient) shares its connections. Targets
// need the https scheme. The server name is the URL's host unless cfg sets
// one.
func ClientTLS(cfg *tls.Config) ClientOption {
	c := &http.Client{Timeout: DefaultClientTimeout, Transport: TLSTransport(cfg)}
	return func(cc *clientConfig) { cc.client = c }
}

// TLSTransport returns a clone of http.DefaultTransport that uses cfg and
// attempts HTTP/2.
func TLSTransport(cfg *tls.Config) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = cfg.Clone()
	t.ForceAttemptHTTP2 = true
	return t
}
