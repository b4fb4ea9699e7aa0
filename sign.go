package sigv4

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sigv4/sigv4/internal/authz"
	"github.com/sigv4/sigv4/internal/canonical"
	"github.com/sigv4/sigv4/internal/v4a"
)

// Payload hash values other than a hex SHA-256.
const (
	UnsignedPayload = "UNSIGNED-PAYLOAD"
	EmptySHA256     = canonical.EmptySHA256
)

// Header names.
const (
	HeaderAuthorization = "Authorization"
	HeaderDate          = "X-Amz-Date"
	HeaderContentSHA256 = "X-Amz-Content-Sha256"
	HeaderSecurityToken = "X-Amz-Security-Token"
)

// Signer signs requests with AWS Signature Version 4. Its zero value is not
// usable: Credentials, Region and Service are required. A Signer is safe for
// concurrent use and must not be copied after first use.
type Signer struct {
	Credentials Credentials
	Region      string
	Service     string

	// S3 applies Amazon S3's path rules (no normalization, encoded once).
	// Service "s3" implies it.
	S3 bool
	// ContentSHA256 sends the payload hash in X-Amz-Content-Sha256 and signs
	// it. Amazon S3 requires it; Service "s3" implies it.
	ContentSHA256 bool
	// UnsignedPayload signs UNSIGNED-PAYLOAD instead of hashing the body.
	UnsignedPayload bool
	// OmitSessionToken adds the session token after signing, outside the
	// signature, for the few services that want it that way.
	OmitSessionToken bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Debug, if set, is called with the canonical request and the string to
	// sign of every signature. The canonical request holds the session
	// token, if any.
	Debug func(canonicalRequest, stringToSign string)

	// RegionSet, if set, signs with SigV4a (AWS4-ECDSA-P256-SHA256) for
	// these regions instead of SigV4 for Region: "*" for any, or a list
	// whose entries may hold '*' wildcards. The ECDSA key is derived from
	// the credentials, once. See package sigv4a.
	RegionSet []string

	key    atomic.Pointer[signerKey]
	v4aKey atomic.Pointer[signerV4aKey]
}

type signerV4aKey struct {
	accessKeyID, secret string
	key                 *ecdsa.PrivateKey
}

type signerKey struct {
	secret, date, region, service string
	mac                           *macKey
}

// unsignedHeaders are never signed: they are added or changed on the way by
// HTTP clients and proxies. Header names, compared without regard to case.
var unsignedHeaders = []string{
	"Authorization", "User-Agent", "X-Amzn-Trace-Id", "Expect", "Transfer-Encoding",
	"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Proxy-Connection", "Te", "Trailer", "Upgrade", "Host",
}

// unsignedByLen indexes unsignedHeaders by length, so that most names are
// settled by one comparison of lengths.
var unsignedByLen = func() (t [32][]string) {
	for _, h := range unsignedHeaders {
		t[len(h)] = append(t[len(h)], h)
	}
	return t
}()

func signable(name string) bool {
	if len(name) >= len(unsignedByLen) {
		return true
	}
	for _, u := range unsignedByLen[len(name)] {
		if u == name || strings.EqualFold(name, u) {
			return false
		}
	}
	return true
}

// state is the pooled working memory of one signature.
type state struct {
	buf     []byte
	out     []byte
	q       []byte
	scratch canonical.Scratch
	headers canonical.HeaderSet
	req     request   // the verifier's view of the request
	sha     hash.Hash // scratch for macKey.sum
	digest  [sha256.Size]byte
	sig     []byte // the hex signature
	host    [1]string
}

var statePool = sync.Pool{New: func() any {
	return &state{buf: make([]byte, 0, 1024), out: make([]byte, 0, 256), sig: make([]byte, 0, v4a.MaxSignatureLen), sha: sha256.New()}
}}

func getState() *state { return statePool.Get().(*state) }

func putState(st *state) {
	if cap(st.buf) > 64<<10 {
		return
	}
	st.headers.Reset()
	st.host[0] = ""
	st.req = request{}
	statePool.Put(st)
}

func (s *Signer) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Signer) s3() bool { return s.S3 || canonical.IsS3Service(s.Service) }

func (s *Signer) check(req *http.Request) error {
	if strings.Contains(req.URL.Opaque, "?") {
		return errors.New("sigv4: URL.Opaque holds a '?': put the query in URL.RawQuery, as net/http sends it")
	}
	if host := requestHost(req); !ascii(host) {
		return fmt.Errorf("sigv4: host %q is not ASCII: net/http sends it in punycode, so convert it (golang.org/x/net/idna) before signing", host)
	}
	if s.Credentials.AccessKeyID == "" || s.Credentials.SecretAccessKey == "" {
		return errors.New("sigv4: Signer has no credentials")
	}
	if s.Region == "" && len(s.RegionSet) == 0 || s.Service == "" {
		return errors.New("sigv4: Signer needs Region (or RegionSet) and Service")
	}
	return nil
}

// Sign signs req with an Authorization header. It sets X-Amz-Date (and
// X-Amz-Content-Sha256, X-Amz-Security-Token where they apply) and signs
// every header present except those that proxies and clients change.
// A Content-Length in req.Header is signed as it is there; net/http sends
// req.ContentLength, so keep the two equal.
//
// The payload hash is, in order: an X-Amz-Content-Sha256 header already on
// req, UNSIGNED-PAYLOAD if UnsignedPayload is set, or the SHA-256 of the body
// (read through req.GetBody when it is set; otherwise the body is read into
// memory and replaced).
func (s *Signer) Sign(req *http.Request) error {
	hash, err := s.payloadHash(req, "")
	if err != nil {
		return err
	}
	return s.SignPayload(req, hash)
}

// SignPayload is Sign with the payload hash given: a hex SHA-256,
// UNSIGNED-PAYLOAD or a STREAMING-* value.
func (s *Signer) SignPayload(req *http.Request, payloadHash string) error {
	if err := s.check(req); err != nil {
		return err
	}
	st := getState()
	defer putState(st)

	var amzDate [len(canonical.TimeFormat)]byte
	canonical.AppendTime(amzDate[:0], s.now())
	h := req.Header
	if h == nil {
		h = make(http.Header)
		req.Header = h
	}
	// The keys are constants in canonical form: writing the map directly
	// is http.Header.Set without re-canonicalizing them. The values share
	// one backing array, and X-Amz-Date and Authorization one string,
	// made once the signature is known.
	vals := new([3]string)
	delete(h, HeaderAuthorization)
	// A payload hash that is not the body's own SHA-256 must be declared, or
	// no verifier could know it.
	if s.ContentSHA256 || canonical.IsS3Service(s.Service) || !isHexSHA256(payloadHash) {
		vals[1] = payloadHash
		h[HeaderContentSHA256] = vals[1:2:2]
	}
	token := s.Credentials.SessionToken
	if token != "" && !s.OmitSessionToken {
		h[HeaderSecurityToken] = []string{token}
	}
	if s.sigv4a() {
		h[HeaderRegionSet] = []string{strings.Join(s.RegionSet, ",")}
	}
	s.collectHeaders(st, req, amzDate[:])
	if err := checkHeaders(&st.headers); err != nil {
		return err
	}

	sig, err := s.signature(st, req, "", amzDate[:], payloadHash)
	if err != nil {
		return err
	}
	if len(st.buf) > MaxCanonicalRequest {
		return errTooLarge
	}
	st.buf = st.headers.AppendSigned(st.buf[:0])
	st.out = authz.AppendHeader(st.out[:0], s.algorithm(), s.Credentials.AccessKeyID,
		string(amzDate[:8]), s.scopeRegion(), s.Service, st.buf, sig)
	if len(st.out) > authz.MaxHeaderLen {
		return errTooLarge
	}
	both := string(append(st.out, amzDate[:]...))
	vals[0], vals[2] = both[len(st.out):], both[:len(st.out)]
	h[HeaderDate] = vals[0:1:1]
	h[HeaderAuthorization] = vals[2:3:3]
	if token != "" && s.OmitSessionToken {
		h[HeaderSecurityToken] = []string{token}
	}
	return nil
}

// collectHeaders puts host and every signable header of req into
// st.headers, sorted. It sets req.Host when the default port is stripped,
// so that the Host sent is the host signed. A non-nil amzDate is signed as
// X-Amz-Date in place of the one in the map, which the caller replaces.
func (s *Signer) collectHeaders(st *state, req *http.Request, amzDate []byte) {
	host := requestHost(req)
	if stripped := stripDefaultPort(host, req.URL.Scheme); stripped != host {
		host = stripped
		req.Host = host
	}
	st.host[0] = host
	st.headers.Reset()
	st.headers.Add("host", st.host[:])
	if amzDate != nil {
		st.headers.AddBytes(HeaderDate, amzDate)
	}
	for name, values := range req.Header {
		if signable(name) && (amzDate == nil || name != HeaderDate) {
			st.headers.Add(name, values)
		}
	}
	st.headers.Sort()
}

// errTooLarge refuses to sign what no Verifier would accept.
var errTooLarge = errors.New("sigv4: the request's signed headers and query are larger than a verifier accepts")

// checkHeaders refuses header sets that a Verifier's bounds reject.
func checkHeaders(h *canonical.HeaderSet) error {
	if n := h.Unique(); n > authz.MaxSignedHeaders {
		return fmt.Errorf("sigv4: %d headers to sign; at most %d are accepted", n, authz.MaxSignedHeaders)
	}
	for i := range h.Len() {
		if n := len(h.Name(i)); n > authz.MaxNameLen {
			return fmt.Errorf("sigv4: header name of %d bytes; at most %d are accepted", n, authz.MaxNameLen)
		}
	}
	return nil
}

// requestHost is the host net/http sends for req.
func requestHost(req *http.Request) string {
	if req.Host != "" {
		return req.Host
	}
	return req.URL.Host
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// signature computes the hex signature of req, whose headers are in
// st.headers, into st.sig. presignedQuery is the query of a presigned URL,
// or "" to sign req's query as it is. It leaves the canonical request in
// st.buf.
func (s *Signer) signature(st *state, req *http.Request, presignedQuery string, amzDate []byte, payloadHash string) ([]byte, error) {
	rawQuery := presignedQuery
	if rawQuery == "" {
		rawQuery = req.URL.RawQuery
	}
	var path string
	decoded := s.s3() && req.RequestURI == "" && req.URL.Opaque == "" && req.URL.RawPath == ""
	if decoded {
		// S3 rules decode the path anyway: start from the decoded path and
		// skip escaping it only to decode it again.
		path = req.URL.Path
	} else {
		path = wirePath(req)
	}
	cr := canonical.Request{
		Method:            req.Method,
		Path:              path,
		PathDecoded:       decoded,
		RawQuery:          rawQuery,
		Headers:           &st.headers,
		PayloadHash:       payloadHash,
		S3:                s.s3(),
		Presigned:         presignedQuery != "",
		OmitSecurityToken: s.OmitSessionToken,
	}
	st.buf = cr.Append(st.buf[:0], &st.scratch)
	creqHash := sha256.Sum256(st.buf)

	st.out = canonical.AppendStringToSign(st.out[:0], s.algorithm(), string(amzDate), string(amzDate[:8]), s.scopeRegion(), s.Service, &creqHash)
	if s.Debug != nil {
		s.Debug(string(st.buf), string(st.out))
	}
	if s.sigv4a() {
		key, err := s.ecdsaKey()
		if err != nil {
			return nil, err
		}
		st.sig, err = v4a.AppendSign(st.sig[:0], key, st.out)
		return st.sig, err
	}
	sum := s.macKey(amzDate[:8]).sum(st.sha, st.digest[:], st.out)
	st.sig = canonical.AppendHex(st.sig[:0], sum[:])
	return st.sig, nil
}

func (s *Signer) sigv4a() bool { return len(s.RegionSet) > 0 }

func (s *Signer) algorithm() string {
	if s.sigv4a() {
		return canonical.AlgorithmECDSA
	}
	return canonical.AlgorithmHMAC
}

// scopeRegion is the region of the credential scope: none for SigV4a.
func (s *Signer) scopeRegion() string {
	if s.sigv4a() {
		return ""
	}
	return s.Region
}

// ecdsaKey is the SigV4a key of the credentials, derived once.
func (s *Signer) ecdsaKey() (*ecdsa.PrivateKey, error) {
	c := s.Credentials
	if k := s.v4aKey.Load(); k != nil && k.accessKeyID == c.AccessKeyID && k.secret == c.SecretAccessKey {
		return k.key, nil
	}
	key, err := v4a.DeriveKey(c.AccessKeyID, c.SecretAccessKey)
	if err != nil {
		return nil, err
	}
	s.v4aKey.Store(&signerV4aKey{accessKeyID: c.AccessKeyID, secret: c.SecretAccessKey, key: key})
	return key, nil
}

func (s *Signer) macKey(date []byte) *macKey {
	if k := s.key.Load(); k != nil && k.date == string(date) && k.secret == s.Credentials.SecretAccessKey &&
		k.region == s.Region && k.service == s.Service {
		return k.mac
	}
	scope := Scope{Date: string(date), Region: s.Region, Service: s.Service}
	k := &signerKey{
		secret: s.Credentials.SecretAccessKey, date: scope.Date, region: s.Region, service: s.Service,
		mac: newMACKey(DeriveSigningKey(s.Credentials.SecretAccessKey, scope)),
	}
	s.key.Store(k)
	return k.mac
}

// payloadHash returns the hash to sign for req. queryHash is an
// X-Amz-Content-Sha256 query parameter of a presigned URL.
func (s *Signer) payloadHash(req *http.Request, queryHash string) (string, error) {
	if v := req.Header[HeaderContentSHA256]; len(v) > 0 && v[0] != "" {
		return v[0], nil
	}
	if queryHash != "" {
		return queryHash, nil
	}
	if s.UnsignedPayload {
		return UnsignedPayload, nil
	}
	return hashBody(req)
}

// hashBody returns the hex SHA-256 of req's body, leaving the body readable.
func hashBody(req *http.Request) (string, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return EmptySHA256, nil
	}
	h := sha256.New()
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return "", err
		}
		defer body.Close()
		if _, err := io.Copy(h, body); err != nil {
			return "", err
		}
	} else {
		data, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return "", err
		}
		h.Write(data)
		req.Body = io.NopCloser(bytes.NewReader(data))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// wirePath is the path of req as it will be sent: URL.Opaque if set (a
// path the caller escaped itself), otherwise Go's escaping of URL.Path.
func wirePath(req *http.Request) string {
	if req.RequestURI != "" { // a server-side request: exactly what was received
		path, _, _ := strings.Cut(req.RequestURI, "?")
		if strings.HasPrefix(path, "/") || path == "*" {
			return path
		}
		// absolute-form request target: fall through to the parsed URL
	}
	u := req.URL
	if u.Opaque != "" {
		if strings.HasPrefix(u.Opaque, "//") { // "//host/path"
			if i := strings.IndexByte(u.Opaque[2:], '/'); i >= 0 {
				return u.Opaque[2+i:]
			}
			return "/"
		}
		return u.Opaque
	}
	return u.EscapedPath()
}

// stripDefaultPort removes :80 from an http host and :443 from an https
// host, as every AWS SDK signs them.
func stripDefaultPort(host, scheme string) string {
	port := ""
	switch scheme {
	case "http":
		port = ":80"
	case "https":
		port = ":443"
	default:
		return host
	}
	if strings.HasSuffix(host, port) && !strings.HasSuffix(host, "]") {
		return host[:len(host)-len(port)]
	}
	return host
}
