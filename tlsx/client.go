package tlsx

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
)

// ClientFiles names the files of a client configuration.
type ClientFiles struct {
	// CA is a PEM bundle of the CAs the server's certificate must chain
	// to. Empty means the system's roots.
	CA string
	// Cert and Key are the PEM files of the client's certificate and key,
	// for servers that require one (mutual TLS). Both or neither. They are
	// reloaded, when they change, at the next handshake that asks for a
	// certificate.
	Cert, Key string
	// ServerName is the name the server's certificate must hold. Empty
	// means the host of the address dialled, which, for clients that a
	// discovery Factory builds per instance, is the instance's.
	ServerName string
}

// Config returns the client *tls.Config of f, with TLS 1.2 as the lowest
// version. It fails if a file cannot be read or the key does not match
// the certificate.
func (f ClientFiles) Config() (*tls.Config, error) {
	if (f.Cert == "") != (f.Key == "") {
		return nil, errors.New("tlsx: a client certificate needs both a certificate and a key file")
	}
	cfg := &tls.Config{MinVersion: minVersion, ServerName: f.ServerName}
	if f.CA != "" {
		pool, err := loadPool(f.CA)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if f.Cert != "" {
		kp := &clientCert{cert: f.Cert, key: f.Key}
		if err := kp.load(); err != nil {
			return nil, err
		}
		cfg.GetClientCertificate = kp.get
	}
	return cfg, nil
}

// WithServerName returns a copy of cfg that verifies name, unless cfg
// already names a server: what a per-instance Factory calls with the
// instance's host when it dials by something else.
func WithServerName(cfg *tls.Config, name string) *tls.Config {
	c := cfg.Clone()
	if c.ServerName == "" {
		c.ServerName = name
	}
	return c
}

// HostOf returns the host of a host:port instance, or instance itself
// when it has no port.
func HostOf(instance string) string {
	if h, _, err := net.SplitHostPort(instance); err == nil {
		return h
	}
	return instance
}

// clientCert is a client certificate reloaded when its files change.
type clientCert struct {
	cert, key string
	mu        sync.Mutex
	loaded    *tls.Certificate
	stamps    []fileStamp
}

func (c *clientCert) stat() ([]fileStamp, error) {
	var out []fileStamp
	for _, p := range []string{c.cert, c.key} {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("tlsx: %w", err)
		}
		out = append(out, fileStamp{info: fi})
	}
	return out, nil
}

func (c *clientCert) load() error {
	stamps, err := c.stat()
	if err != nil {
		return err
	}
	kp, err := tls.LoadX509KeyPair(c.cert, c.key)
	if err != nil {
		return fmt.Errorf("tlsx: loading %s and %s: %w", c.cert, c.key, err)
	}
	c.loaded, c.stamps = &kp, stamps
	return nil
}

func (c *clientCert) get(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if stamps, err := c.stat(); err == nil && !sameStamps(stamps, c.stamps) {
		if kp, err := tls.LoadX509KeyPair(c.cert, c.key); err == nil {
			c.loaded, c.stamps = &kp, stamps
		}
	}
	return c.loaded, nil
}
