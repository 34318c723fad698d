// Package tlsx holds the TLS plumbing that httpx, grpcx and auth share:
// server certificates read from files and reloaded when the files change,
// client configurations with a CA bundle and a client certificate, and the
// verified identity of the peer of a mutual-TLS connection, carried in the
// context.
//
// # Servers
//
// [NewServer] loads a certificate and key, and optionally a CA bundle that
// client certificates must chain to (mutual TLS). Every handshake checks
// the files' size and modification time (a stat each, no read) and, when
// they changed, loads them again; a connection keeps the certificate it
// was handshaken with, and a pair that fails to load (a certificate
// written before its key) leaves the last good one in place until the
// files change again. TLS 1.2 is the minimum version.
//
//	srv, err := tlsx.NewServer(tlsx.ServerFiles{Cert: "tls.crt", Key: "tls.key", ClientCA: "ca.crt"})
//	httpx.Serve(ctx, &http.Server{Handler: h}, lis, httpx.ServeTLS(srv))  // HTTP/2 and HTTP/1.1 through ALPN
//	grpcx.NewGRPCServer(grpcx.ServerTLS(srv))
//
// # Clients
//
// [ClientFiles.Config] builds a client *tls.Config. Without a ServerName
// the transports verify the host of the address they dial (the instance's,
// when a discovery Factory builds one client per instance); set it when
// the certificate names a DNS name and instances are reached by IP.
//
// # The caller's identity
//
// With mutual TLS, [PeerFrom] returns the verified client certificate's
// subject and subject alternative names (DNS names and URIs, such as
// SPIFFE IDs) from the context of a call: httpx.Serve puts it there, and
// on gRPC the hook grpcx.TLSPeerToContext (or auth's peer guard) does.
// auth.PeerPolicy admits callers by those names.
package tlsx
