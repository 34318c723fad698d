package grpcx

import (
	"context"
	"crypto/tls"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	"github.com/typedkit/kit/tlsx"
)

// ServerTLS returns the grpc.ServerOption that makes a server speak TLS
// with the certificate of s, reloaded when its files change: TLS 1.2 at
// least, "h2" through ALPN, and, when s has a client CA, mutual TLS. Give
// it to [NewGRPCServer]; a grpc.Server fixes its transport security when it
// is built, so, unlike httpx, it is not an option of [Serve]. A plaintext
// client on the port fails its handshake and is disconnected; the server
// goes on serving.
//
// The verified client certificate of a call is in its peer
// (peer.FromContext); [TLSPeerToContext] puts it where tlsx.PeerFrom finds
// it.
func ServerTLS(s *tlsx.Server) grpc.ServerOption {
	return grpc.Creds(credentials.NewTLS(s.Config("h2")))
}

// DialTLS returns the grpc.DialOption of a client connection secured with
// cfg (see tlsx.ClientFiles.Config). The server name verified is cfg's
// ServerName or else the host of the target dialled, so a discovery
// Factory that dials each instance verifies each instance's name.
func DialTLS(cfg *tls.Config) grpc.DialOption {
	return grpc.WithTransportCredentials(credentials.NewTLS(cfg))
}

// PeerFrom returns the verified client certificate of the gRPC call
// whose (server) context is ctx, from the call's grpc peer or, failing
// that, from what tlsx.ContextWithPeer put there.
func PeerFrom(ctx context.Context) (*tlsx.Peer, bool) {
	if p, ok := peer.FromContext(ctx); ok {
		if info, ok := p.AuthInfo.(credentials.TLSInfo); ok {
			return tlsx.PeerFromState(&info.State)
		}
	}
	return tlsx.PeerFrom(ctx)
}

// TLSPeerToContext returns a server hook (for ServerBefore) that puts the
// verified client certificate of a call into the context, for
// tlsx.PeerFrom; calls without one are left as they are.
func TLSPeerToContext() ServerRequestFunc {
	return func(ctx context.Context, _ metadata.MD) context.Context {
		if _, ok := tlsx.PeerFrom(ctx); ok {
			return ctx
		}
		if p, ok := PeerFrom(ctx); ok {
			return tlsx.ContextWithPeer(ctx, p)
		}
		return ctx
	}
}
