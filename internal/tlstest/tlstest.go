// Package tlstest makes certificates for tests: a CA, server and client
// certificates signed by it, an expired client certificate and one from
// another CA, written as PEM files into a test's temporary directory.
package tlstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// A CA signs certificates.
type CA struct {
	Cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// File is the PEM file of the CA's certificate.
	File string
	dir  string
}

// Files are the PEM files of a certificate and its key.
type Files struct {
	Cert, Key string
	Leaf      *x509.Certificate
}

var serial atomic.Int64

// NewCA returns a CA named name whose files are in t.TempDir().
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial.Add(1)),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"typedkit test"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ca := &CA{Cert: cert, key: key, dir: dir, File: filepath.Join(dir, name+"-ca.pem")}
	writePEM(t, ca.File, "CERTIFICATE", der)
	return ca
}

// Pool returns a pool of the CA's certificate.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// An Identity describes a certificate to issue.
type Identity struct {
	CommonName string
	DNSNames   []string
	IPs        []net.IP
	URIs       []string
	// Client makes it a client certificate, else a server one.
	Client bool
	// Expired makes it valid only in the past.
	Expired bool
}

// Server returns a server certificate for localhost and 127.0.0.1.
func (ca *CA) Server(t testing.TB, name string) Files {
	return ca.Issue(t, name, Identity{CommonName: "localhost", DNSNames: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}})
}

// Client returns a client certificate with the DNS name dns and the URI
// SAN uri (either may be empty).
func (ca *CA) Client(t testing.TB, name, dns, uri string) Files {
	id := Identity{CommonName: name, Client: true}
	if dns != "" {
		id.DNSNames = []string{dns}
	}
	if uri != "" {
		id.URIs = []string{uri}
	}
	return ca.Issue(t, name, id)
}

// Issue writes the certificate of id, signed by ca, as name.pem and
// name-key.pem.
func (ca *CA) Issue(t testing.TB, name string, id Identity) Files {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)),
		Subject:      pkix.Name{CommonName: id.CommonName, Organization: []string{"typedkit test"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(12 * time.Hour),
		DNSNames:     id.DNSNames,
		IPAddresses:  id.IPs,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if id.Client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	if id.Expired {
		tmpl.NotBefore = time.Now().Add(-48 * time.Hour)
		tmpl.NotAfter = time.Now().Add(-24 * time.Hour)
	}
	for _, u := range id.URIs {
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = append(tmpl.URIs, pu)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	f := Files{Cert: filepath.Join(ca.dir, name+".pem"), Key: filepath.Join(ca.dir, name+"-key.pem"), Leaf: leaf}
	writePEM(t, f.Cert, "CERTIFICATE", der)
	writePEM(t, f.Key, "PRIVATE KEY", kder)
	return f
}

// KeyPair loads f.
func (f Files) KeyPair(t testing.TB) tls.Certificate {
	t.Helper()
	kp, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

// Replace copies the files of src over those of dst, the key first, then
// the certificate, each written to a temporary file and renamed, as a
// secret mount or cert-manager updates them.
func Replace(t testing.TB, dst, src Files) {
	t.Helper()
	for _, pair := range [][2]string{{src.Key, dst.Key}, {src.Cert, dst.Cert}} {
		b, err := os.ReadFile(pair[0])
		if err != nil {
			t.Fatal(err)
		}
		tmp := pair[1] + ".tmp"
		if err := os.WriteFile(tmp, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, pair[1]); err != nil {
			t.Fatal(err)
		}
	}
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func writePEM(t testing.TB, file, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Set is the certificates of a mutual-TLS test: a CA, a server
// certificate, two client identities, an expired client and a client of
// another CA.
type Set struct {
	CA, OtherCA      *CA
	Server           Files
	ClientA, ClientB Files
	Expired          Files
	Foreign          Files
}

// URIs and DNS names of the clients of a Set.
const (
	ClientAURI = "spiffe://typedkit.test/ns/prod/sa/client-a"
	ClientBURI = "spiffe://typedkit.test/ns/dev/sa/client-b"
	ClientADNS = "client-a.typedkit.test"
	ClientBDNS = "client-b.typedkit.test"
)

// NewSet makes a Set.
func NewSet(t testing.TB) *Set {
	ca := NewCA(t, "test")
	other := NewCA(t, "other")
	return &Set{
		CA: ca, OtherCA: other,
		Server:  ca.Server(t, "server"),
		ClientA: ca.Client(t, "client-a", ClientADNS, ClientAURI),
		ClientB: ca.Client(t, "client-b", ClientBDNS, ClientBURI),
		Expired: ca.Issue(t, "expired", Identity{CommonName: "expired", Client: true, Expired: true, URIs: []string{ClientAURI}}),
		Foreign: other.Client(t, "foreign", ClientADNS, ClientAURI),
	}
}
