package gateway

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/chunked"
	"github.com/sigv4/sigv4/internal/authz"
	"github.com/sigv4/sigv4/internal/canonical"
)

// ProxyConfig configures a SigningProxy. Upstream, Credentials, Service
// and Region (or RegionSet) are required.
type ProxyConfig struct {
	// Upstream is the one service the proxy signs for: every request goes
	// there, whatever Host it names.
	Upstream    *url.URL
	Credentials CredentialsProvider
	Service     string
	Region      string
	// RegionSet, if set, signs with SigV4a for these regions ("*": any).
	RegionSet []string
	// Transport carries requests upstream (default: as for a Gateway).
	Transport http.RoundTripper
	// MaxBody bounds a body that must be held before it is signed: one of
	// unknown length, or any body for a service other than S3, which
	// wants its hash (default DefaultMaxBody). It is held in an unlinked
	// temporary file in TempDir (default os.TempDir()).
	MaxBody int64
	TempDir string
	// Logger receives one line per request (default slog.Default()).
	Logger *slog.Logger
}

// SigningProxy is an http.Handler for programs that cannot sign: it takes
// unsigned requests and forwards them to its one upstream signed with its
// credentials. Bodies stream: to Amazon S3 over https as UNSIGNED-PAYLOAD,
// over http as signed aws-chunked; a body of unknown length, or one for
// another service, is held (bounded by MaxBody) and hashed.
//
// It is an open signer for whoever can reach it: serve it on a loopback
// address. It signs for its upstream only (the client's Host is ignored)
// and removes whatever authentication a client sent.
type SigningProxy struct {
	cfg     ProxyConfig
	s3      bool
	signers resigner
	proxy   *httputil.ReverseProxy
	log     *slog.Logger
}

// NewSigningProxy returns a SigningProxy, or an error if cfg is not usable.
func NewSigningProxy(cfg ProxyConfig) (*SigningProxy, error) {
	switch u := cfg.Upstream; {
	case u == nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return nil, errors.New("gateway: ProxyConfig.Upstream must be an absolute http or https URL")
	case cfg.Credentials == nil:
		return nil, errors.New("gateway: ProxyConfig.Credentials is required")
	case cfg.Service == "" || (cfg.Region == "" && len(cfg.RegionSet) == 0):
		return nil, errors.New("gateway: ProxyConfig.Service and Region (or RegionSet) are required")
	}
	cfg.MaxBody = cmp.Or(cfg.MaxBody, DefaultMaxBody)
	cfg.TempDir = cmp.Or(cfg.TempDir, os.TempDir())
	p := &SigningProxy{cfg: cfg, s3: canonical.IsS3Service(cfg.Service), log: cmp.Or(cfg.Logger, slog.Default()),
		signers: resigner{signers: map[signerKey]*sigv4.Signer{}}}
	p.proxy = &httputil.ReverseProxy{
		Rewrite:      p.rewrite,
		BufferPool:   copyBuffers,
		Transport:    proxyTransport{p: p, next: cmp.Or(cfg.Transport, upstreamTransport())},
		ErrorHandler: p.proxyError,
		ErrorLog:     slog.NewLogLogger(p.log.Handler(), slog.LevelWarn),
	}
	return p, nil
}

// proxyStripped are the request headers of a client's own authentication:
// the proxy signs anew.
var proxyStripped = []string{
	sigv4.HeaderAuthorization, sigv4.HeaderDate, sigv4.HeaderSecurityToken, sigv4.HeaderContentSHA256,
	sigv4.HeaderRegionSet, "Proxy-Authorization",
}

func (p *SigningProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > p.cfg.MaxBody {
		http.Error(w, "the body is larger than the proxy's --max-body", http.StatusRequestEntityTooLarge)
		return
	}
	p.proxy.ServeHTTP(w, r)
}

func (p *SigningProxy) rewrite(pr *httputil.ProxyRequest) {
	pr.SetURL(p.cfg.Upstream) // the upstream's host, whatever the client named
	pr.Out.URL.RawQuery = authz.WithoutAuthParams(pr.In.URL.RawQuery)
	for _, name := range proxyStripped {
		pr.Out.Header.Del(name)
	}
}

func (p *SigningProxy) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusBadGateway
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		status = http.StatusRequestEntityTooLarge
	}
	p.log.Warn("proxy", "method", r.Method, "path", r.URL.Path, "status", status, "error", err)
	http.Error(w, "sigv4 proxy: "+err.Error(), status)
}

// proxyTransport signs each outbound request, then sends it.
type proxyTransport struct {
	p    *SigningProxy
	next http.RoundTripper
}

func (t proxyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	clean, err := t.p.sign(req)
	if err != nil {
		return nil, err
	}
	resp, err := t.next.RoundTrip(req)
	if clean != nil {
		if err != nil {
			clean()
		} else {
			resp.Body = cleanupBody{resp.Body, clean}
		}
	}
	return resp, err
}

type cleanupBody struct {
	io.ReadCloser
	clean func()
}

func (b cleanupBody) Close() error { err := b.ReadCloser.Close(); b.clean(); return err }

// sign signs req with the proxy's credentials, streaming its body where
// the service allows it. clean, if set, removes a held body.
func (p *SigningProxy) sign(req *http.Request) (clean func(), err error) {
	creds, err := p.cfg.Credentials.Retrieve(req.Context())
	if err != nil {
		return nil, &errSigning{err}
	}
	s := p.signers.signer(signerKey{creds: creds, region: p.cfg.Region, service: p.cfg.Service,
		regionSet: strings.Join(p.cfg.RegionSet, ",")})
	switch {
	case req.Body == nil || req.Body == http.NoBody || req.ContentLength == 0:
		req.Body, req.ContentLength = http.NoBody, 0
		return nil, s.SignPayload(req, sigv4.EmptySHA256)
	case !p.s3 || req.ContentLength < 0:
		hash, clean, err := p.hold(req)
		if err != nil {
			return nil, err
		}
		return clean, s.SignPayload(req, hash)
	case req.URL.Scheme == "https":
		return nil, s.SignPayload(req, sigv4.UnsignedPayload)
	}
	return nil, chunked.Sign(s, req, chunked.Options{})
}

// hold reads req's body into an unlinked temporary file, hashing it on the
// way, and makes the file the body, with its length.
func (p *SigningProxy) hold(req *http.Request) (string, func(), error) {
	f, err := os.CreateTemp(p.cfg.TempDir, "sigv4-proxy-*")
	if err != nil {
		return "", nil, err
	}
	os.Remove(f.Name()) // unlinked: gone with the last descriptor
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), http.MaxBytesReader(nil, req.Body, p.cfg.MaxBody))
	req.Body.Close()
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return "", nil, fmt.Errorf("reading the request body: %w", err)
	}
	req.Body, req.ContentLength, req.TransferEncoding = io.NopCloser(f), n, nil
	req.GetBody = nil
	return hex.EncodeToString(h.Sum(nil)), func() { f.Close() }, nil
}
