package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/httpx"
	"github.com/typedkit/kit/tlsx"
)

// PeerPolicy lists the mutual-TLS callers a [PeerAuthorizer] admits, by
// the subject alternative names of their verified client certificates. A
// caller whose certificate holds any one of the names is admitted.
type PeerPolicy struct {
	// DNSNames are DNS SANs, compared without regard to case. An entry
	// "*.example.com" admits any name one label below example.com (not
	// example.com itself, nor a.b.example.com).
	DNSNames []string
	// URIs are URI SANs, such as the SPIFFE ID
	// "spiffe://example.org/ns/prod/sa/billing", compared exactly. An
	// entry ending in "/*" admits every URI under that path, such as
	// "spiffe://example.org/ns/prod/*".
	URIs []string
	// AnyVerified admits every caller with a verified client certificate,
	// whatever its names: for a service that trusts everyone its client
	// CA signs.
	AnyVerified bool
}

// A PeerAuthorizer admits callers by the names of their verified client
// certificates (see [PeerPolicy]). Build it with [NewPeerAuthorizer]; use
// it for a whole service as a transport guard ([HTTPPeerGuard],
// [GRPCPeerGuard]) or for the methods an interceptor wraps ([RequirePeer]).
type PeerAuthorizer struct {
	any               bool
	dns, dnsWildcards []string // lower case; wildcards without the "*"
	uris, uriPrefixes []string // prefixes with their trailing "/"
}

// NewPeerAuthorizer returns the authorizer of p. It fails if p admits no
// one or an entry is malformed, so that a typo never opens or closes a
// service silently.
func NewPeerAuthorizer(p PeerPolicy) (*PeerAuthorizer, error) {
	if len(p.DNSNames) == 0 && len(p.URIs) == 0 && !p.AnyVerified {
		return nil, errors.New("auth: a PeerPolicy needs at least one DNS name or URI, or AnyVerified")
	}
	a := &PeerAuthorizer{any: p.AnyVerified}
	for _, d := range p.DNSNames {
		d = strings.ToLower(strings.TrimSuffix(d, "."))
		switch {
		case d == "" || strings.ContainsAny(d, " /:"):
			return nil, fmt.Errorf("auth: PeerPolicy DNS name %q is not a DNS name", d)
		case strings.HasPrefix(d, "*."):
			if strings.Contains(d[2:], "*") || !strings.Contains(d[2:], ".") {
				return nil, fmt.Errorf("auth: PeerPolicy DNS name %q: a wildcard must be the whole first label of a name with at least two more", d)
			}
			a.dnsWildcards = append(a.dnsWildcards, d[1:])
		case strings.Contains(d, "*"):
			return nil, fmt.Errorf("auth: PeerPolicy DNS name %q: a wildcard must be the whole first label", d)
		default:
			a.dns = append(a.dns, d)
		}
	}
	for _, u := range p.URIs {
		prefix := strings.HasSuffix(u, "/*")
		raw := strings.TrimSuffix(u, "*")
		parsed, err := url.Parse(raw)
		if err != nil || parsed.Scheme == "" || strings.Contains(raw, "*") {
			return nil, fmt.Errorf("auth: PeerPolicy URI %q is not an absolute URI (a trailing /* admits a path and what is under it)", u)
		}
		if prefix {
			a.uriPrefixes = append(a.uriPrefixes, raw)
		} else {
			a.uris = append(a.uris, raw)
		}
	}
	return a, nil
}

// Allows reports whether p holds one of the names of the policy.
func (a *PeerAuthorizer) Allows(p *tlsx.Peer) bool {
	if p == nil {
		return false
	}
	if a.any {
		return true
	}
	for _, name := range p.DNSNames {
		name = strings.ToLower(strings.TrimSuffix(name, "."))
		for _, d := range a.dns {
			if name == d {
				return true
			}
		}
		for _, w := range a.dnsWildcards {
			if rest, ok := strings.CutSuffix(name, w); ok && rest != "" && !strings.Contains(rest, ".") {
				return true
			}
		}
	}
	for _, u := range p.URIs {
		s := u.String()
		for _, want := range a.uris {
			if s == want {
				return true
			}
		}
		for _, pre := range a.uriPrefixes {
			if strings.HasPrefix(s, pre) && len(s) > len(pre) {
				return true
			}
		}
	}
	return false
}

// admit checks the peer of ctx: Unauthenticated without a verified client
// certificate, PermissionDenied with one the policy does not name.
func (a *PeerAuthorizer) admit(p *tlsx.Peer, ok bool) error {
	if !ok {
		return &Error{Err: kit.NewError(kit.Unauthenticated, "a verified client certificate is required")}
	}
	if !a.Allows(p) {
		return &Error{Err: kit.NewError(kit.PermissionDenied, "the client certificate is not allowed")}
	}
	return nil
}

// RequirePeer returns an interceptor that admits calls whose verified
// client certificate a allows (see tlsx.PeerFrom). A call without one
// fails with Unauthenticated, one that a does not allow with
// PermissionDenied. The guards ([HTTPPeerGuard], [GRPCPeerGuard]) check a
// whole server before the request is read; RequirePeer checks the methods
// it wraps, so it suits a policy that differs by method:
//
//	func(call kit.Call, next kit.Invoker) kit.Invoker {
//		if call.Method == "DeleteUser" {
//			return auth.RequirePeer(admins)(call, next)
//		}
//		return next
//	}
//
// RequirePeer panics if a is nil.
func RequirePeer(a *PeerAuthorizer) kit.Interceptor {
	if a == nil {
		panic("auth: RequirePeer needs a PeerAuthorizer")
	}
	return func(_ kit.Call, next kit.Invoker) kit.Invoker {
		return func(ctx context.Context, c kit.Call) error {
			if err := a.admit(tlsx.PeerFrom(ctx)); err != nil {
				return err
			}
			return next(ctx, c)
		}
	}
}

// HTTPPeerGuard returns an httpx server guard (for httpx.ServerGuard) that
// admits requests whose verified client certificate a allows, before the
// request is read, and puts the peer into the context. Requests public
// reports true for pass without a check; a nil public checks every one.
func HTTPPeerGuard(a *PeerAuthorizer, public func(r *http.Request) bool) httpx.GuardFunc {
	return func(ctx context.Context, r *http.Request) (context.Context, error) {
		p, ok := tlsx.PeerFrom(ctx)
		if !ok {
			if p, ok = tlsx.PeerFromState(r.TLS); ok {
				ctx = tlsx.ContextWithPeer(ctx, p)
			}
		}
		if public != nil && public(r) {
			return ctx, nil
		}
		return ctx, a.admit(p, ok)
	}
}

// GRPCPeerGuard returns a grpcx server guard (for grpcx.ServerGuard) that
// admits calls whose verified client certificate a allows, before the
// request is decoded, and puts the peer into the context. Calls whose full
// method name public reports true for pass without a check; a nil public
// checks every call.
func GRPCPeerGuard(a *PeerAuthorizer, public func(fullMethod string) bool) grpcx.GuardFunc {
	return func(ctx context.Context, _ metadata.MD) (context.Context, error) {
		p, ok := grpcx.PeerFrom(ctx)
		if ok {
			if _, had := tlsx.PeerFrom(ctx); !had {
				ctx = tlsx.ContextWithPeer(ctx, p)
			}
		}
		if public != nil {
			if m, known := grpc.Method(ctx); known && public(m) {
				return ctx, nil
			}
		}
		return ctx, a.admit(p, ok)
	}
}
