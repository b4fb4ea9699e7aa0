package keyauthority

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/sigv4/sigv4"
)

// Grant is what one verifier may ask the authority for: the signing keys
// of its regions and services ("*" for any), and, with Admin, revocations.
// Its Name is the common name of the verifier's certificate.
type Grant struct {
	Name     string   `json:"name"`
	Regions  []string `json:"regions"`
	Services []string `json:"services"`
	Admin    bool     `json:"admin,omitempty"`
}

// Allows reports whether g covers scope.
func (g Grant) Allows(scope sigv4.Scope) bool {
	return in(g.Regions, scope.Region) && in(g.Services, scope.Service)
}

func in(list []string, s string) bool { return slices.Contains(list, s) || slices.Contains(list, "*") }

// Grants is the operator's file of grants, a JSON list. The file is read
// again when it changes, so that an edit takes effect without a restart.
type Grants struct {
	path  string
	mu    sync.Mutex
	mtime time.Time
	byKey map[string]Grant
}

// LoadGrants reads the grants at path; a missing file is no grants.
func LoadGrants(path string) (*Grants, error) {
	g := &Grants{path: path}
	if err := g.reload(); err != nil {
		return nil, err
	}
	return g, nil
}

func (g *Grants) reload() error {
	info, err := os.Stat(g.path)
	if errors.Is(err, os.ErrNotExist) {
		g.byKey, g.mtime = map[string]Grant{}, time.Time{}
		return nil
	}
	if err != nil {
		return err
	}
	if g.byKey != nil && info.ModTime().Equal(g.mtime) {
		return nil
	}
	data, err := os.ReadFile(g.path)
	if err != nil {
		return err
	}
	var list []Grant
	if err := json.Unmarshal(data, &list); err != nil {
		return fmt.Errorf("keyauthority: %s: %w", g.path, err)
	}
	m := make(map[string]Grant, len(list))
	for _, gr := range list {
		m[gr.Name] = gr
	}
	g.byKey, g.mtime = m, info.ModTime()
	return nil
}

// Get returns the grant of a verifier, reading the file again if it
// changed (a file that no longer parses keeps the grants last read).
func (g *Grants) Get(name string) (Grant, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.reload()
	gr, ok := g.byKey[name]
	return gr, ok
}

// Put adds or replaces a grant and writes the file (atomically).
func (g *Grants) Put(gr Grant) error {
	if gr.Name == "" || len(gr.Regions) == 0 || len(gr.Services) == 0 {
		return errors.New("keyauthority: a grant has a name, regions and services")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.reload(); err != nil {
		return err
	}
	g.byKey[gr.Name] = gr
	list := make([]Grant, 0, len(g.byKey))
	for _, v := range g.byKey {
		list = append(list, v)
	}
	slices.SortFunc(list, func(a, b Grant) int { return cmpString(a.Name, b.Name) })
	data, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(g.path, append(data, '\n'), 0o600)
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// CA is the authority's own certificate authority, which issues the
// certificates of its verifiers and of its server.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	PEM  []byte // the certificate
}

// Files of an authority's directory.
const (
	caCertFile = "ca.crt"
	caKeyFile  = "ca.key"
)

// NewCA makes a CA in dir (ca.crt, and ca.key readable by the owner only).
func NewCA(dir string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "sigv4 key authority CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(10, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	certPEM, keyPEM, err := encodePair(der, key)
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(filepath.Join(dir, caKeyFile), keyPEM, 0o600); err != nil {
		return nil, err
	}
	if err := writeFileAtomic(filepath.Join(dir, caCertFile), certPEM, 0o644); err != nil {
		return nil, err
	}
	return LoadCA(dir)
}

// LoadCA reads the CA of dir.
func LoadCA(dir string) (*CA, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, caCertFile))
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, caKeyFile))
	if err != nil {
		return nil, err
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, fmt.Errorf("keyauthority: %s holds no CA certificate and key", dir)
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, err
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key, PEM: certPEM}, nil
}

// Issue makes a certificate and key for name: a client certificate of a
// verifier, or, with hosts, the server certificate of the authority.
func (ca *CA) Issue(name string, hosts ...string) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if len(hosts) > 0 {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		for _, h := range hosts {
			if ip := net.ParseIP(h); ip != nil {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			} else {
				tmpl.DNSNames = append(tmpl.DNSNames, h)
			}
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return nil, nil, err
	}
	return encodePair(der, key)
}

func encodePair(der []byte, key *ecdsa.PrivateKey) ([]byte, []byte, error) {
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n
}
