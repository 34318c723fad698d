package tlsx

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
)

// minVersion is the lowest TLS version the configurations of this package
// accept: TLS 1.2.
const minVersion = tls.VersionTLS12

// ServerFiles names the files of a [Server].
type ServerFiles struct {
	// Cert is a PEM file with the server's certificate, followed by any
	// intermediates. Required.
	Cert string
	// Key is the PEM file of Cert's private key. Required.
	Key string
	// ClientCA, when set, is a PEM bundle of the CAs that client
	// certificates must chain to: mutual TLS. A client without such a
	// certificate fails the handshake unless ClientAuth says otherwise.
	ClientCA string
	// ClientAuth is the client-certificate policy. The zero value means
	// tls.RequireAndVerifyClientCert with ClientCA and tls.NoClientCert
	// without it; tls.VerifyClientCertIfGiven admits clients without a
	// certificate (the authorizer then sees no peer). A policy that
	// verifies needs ClientCA; one that asks for a certificate without
	// verifying it is refused, as it would admit anyone.
	ClientAuth tls.ClientAuthType
}

// Server serves a certificate read from files, reloaded when they change.
// Build it with [NewServer]; hand it to httpx.ServeTLS or grpcx.ServerTLS.
// It is safe for concurrent use.
type Server struct {
	files      ServerFiles
	clientAuth tls.ClientAuthType

	mu      sync.Mutex // serialises loads
	state   atomic.Pointer[serverState]
	tried   atomic.Pointer[[]fileStamp] // stamps of the last failed load
	lastErr atomic.Pointer[error]
}

// serverState is one loaded generation of the files.
type serverState struct {
	gen    uint64
	cert   *tls.Certificate
	pool   *x509.CertPool
	stamps []fileStamp
}

// NewServer loads files and returns a Server that serves them. It fails
// if a file cannot be read, the key does not match the certificate or the
// bundle holds no certificate.
func NewServer(files ServerFiles) (*Server, error) {
	if files.Cert == "" || files.Key == "" {
		return nil, errors.New("tlsx: a server needs both a certificate and a key file")
	}
	ca := files.ClientAuth
	switch {
	case ca == tls.NoClientCert && files.ClientCA != "":
		ca = tls.RequireAndVerifyClientCert
	case ca == tls.RequestClientCert || ca == tls.RequireAnyClientCert:
		return nil, fmt.Errorf("tlsx: client auth %v accepts unverified certificates; use tls.VerifyClientCertIfGiven or tls.RequireAndVerifyClientCert with a ClientCA", ca)
	case (ca == tls.VerifyClientCertIfGiven || ca == tls.RequireAndVerifyClientCert) && files.ClientCA == "":
		return nil, fmt.Errorf("tlsx: client auth %v needs a ClientCA bundle", ca)
	}
	s := &Server{files: files, clientAuth: ca}
	if err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// Reload loads the files again, whether or not they changed, and serves
// them from the next handshake on. On failure the files loaded last stay
// in place and Reload returns why.
func (s *Server) Reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	stamps, err := s.stat()
	if err != nil {
		return err
	}
	return s.load(stamps)
}

// Err returns why the last automatic reload failed, or nil when the files
// in place are the newest ones seen. A failed reload keeps the previous
// certificate; Err is how a health check or a log notices it.
func (s *Server) Err() error {
	if p := s.lastErr.Load(); p != nil {
		return *p
	}
	return nil
}

// Leaf returns the certificate served now.
func (s *Server) Leaf() *x509.Certificate { return s.state.Load().cert.Leaf }

// paths returns the files the server watches.
func (s *Server) paths() []string {
	p := []string{s.files.Cert, s.files.Key}
	if s.files.ClientCA != "" {
		p = append(p, s.files.ClientCA)
	}
	return p
}

func (s *Server) stat() ([]fileStamp, error) {
	paths := s.paths()
	stamps := make([]fileStamp, len(paths))
	for i, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("tlsx: %w", err)
		}
		stamps[i] = fileStamp{info: fi}
	}
	return stamps, nil
}

// load reads the files, which had stamps, and makes them current. s.mu is
// held.
func (s *Server) load(stamps []fileStamp) error {
	cert, err := tls.LoadX509KeyPair(s.files.Cert, s.files.Key)
	if err != nil {
		return s.fail(stamps, fmt.Errorf("tlsx: loading %s and %s: %w", s.files.Cert, s.files.Key, err))
	}
	var pool *x509.CertPool
	if s.files.ClientCA != "" {
		if pool, err = loadPool(s.files.ClientCA); err != nil {
			return s.fail(stamps, err)
		}
	}
	var gen uint64
	if old := s.state.Load(); old != nil {
		gen = old.gen + 1
	}
	s.state.Store(&serverState{gen: gen, cert: &cert, pool: pool, stamps: stamps})
	s.tried.Store(nil)
	s.lastErr.Store(nil)
	return nil
}

func (s *Server) fail(stamps []fileStamp, err error) error {
	s.tried.Store(&stamps)
	s.lastErr.Store(&err)
	return err
}

// refresh reloads the files if they changed since they were loaded (or
// since a load of them last failed), and returns the current state.
func (s *Server) refresh() *serverState {
	st := s.state.Load()
	stamps, err := s.stat()
	if err != nil {
		s.lastErr.Store(&err) // a file went away: keep serving what we have
		return st
	}
	if sameStamps(stamps, st.stamps) {
		return st
	}
	if t := s.tried.Load(); t != nil && sameStamps(stamps, *t) {
		return st
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur := s.state.Load(); cur != st {
		return cur // another handshake loaded them
	}
	_ = s.load(stamps)
	return s.state.Load()
}

// Config returns a server *tls.Config that serves the current files and
// offers nextProtos through ALPN, such as "h2" and "http/1.1". Each
// handshake goes through its GetConfigForClient, which checks the files.
// Do not change the fields of the returned configuration.
func (s *Server) Config(nextProtos ...string) *tls.Config {
	nextProtos = slices.Clone(nextProtos)
	var cache atomic.Pointer[genConfig]
	base := &tls.Config{MinVersion: minVersion, NextProtos: nextProtos}
	base.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		st := s.refresh()
		if c := cache.Load(); c != nil && c.gen == st.gen {
			return c.cfg, nil
		}
		cfg := &tls.Config{
			MinVersion:   minVersion,
			NextProtos:   nextProtos,
			Certificates: []tls.Certificate{*st.cert},
			ClientAuth:   s.clientAuth,
			ClientCAs:    st.pool,
		}
		cache.Store(&genConfig{gen: st.gen, cfg: cfg})
		return cfg, nil
	}
	// Certificates are served by GetConfigForClient; GetCertificate is
	// there for code that inspects a config for a certificate source.
	base.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return s.refresh().cert, nil }
	return base
}

type genConfig struct {
	gen uint64
	cfg *tls.Config
}

// fileStamp identifies one version of a file: the same file (inode), with
// the same size and modification time.
type fileStamp struct{ info os.FileInfo }

func sameStamps(a, b []fileStamp) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i].info, b[i].info
		if !os.SameFile(x, y) || x.Size() != y.Size() || !x.ModTime().Equal(y.ModTime()) {
			return false
		}
	}
	return true
}

// loadPool reads a PEM bundle of CA certificates.
func loadPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("tlsx: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("tlsx: %s holds no PEM certificate", file)
	}
	return pool, nil
}
