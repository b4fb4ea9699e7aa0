package sigv4_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/internal/authz"
	"github.com/sigv4/sigv4/internal/httpfile"
)

// This file holds the fuzz targets of the root package and the helpers they
// share with property_test.go. Every helper is prefixed fz to keep clear of
// the other test files of the package.

// fzSuiteTime is the X-Amz-Date of the AWS suite; fzS3Time that of the S3
// worked examples.
var (
	fzSuiteTime = time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	fzS3Time    = time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)
)

var (
	fzSuiteCreds   = sigv4.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
	fzS3Creds      = sigv4.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	fzSessionToken = "AQoDYXdzEPT//////////wEXAMPLE+token="
)

// fzStatus is the HTTP status of every error code, from the sentinels.
var fzStatus = func() map[string]int {
	m := map[string]int{}
	for _, e := range []*sigv4.Error{
		sigv4.ErrAccessDenied, sigv4.ErrAuthorizationHeaderMalformed, sigv4.ErrAuthorizationQueryParametersError,
		sigv4.ErrBadDigest, sigv4.ErrInvalidDigest, sigv4.ErrExpiredToken, sigv4.ErrIncompleteBody, sigv4.ErrInternalError,
		sigv4.ErrInvalidAccessKeyID, sigv4.ErrInvalidArgument, sigv4.ErrInvalidRequest, sigv4.ErrInvalidToken,
		sigv4.ErrMaxMessageLengthExceeded, sigv4.ErrMissingSecurityHeader, sigv4.ErrNotImplemented,
		sigv4.ErrRequestHeaderSectionTooLarge, sigv4.ErrRequestTimeTooSkewed, sigv4.ErrSignatureDoesNotMatch,
		sigv4.ErrXAmzContentSHA256Mismatch,
	} {
		m[e.Code] = e.Status
	}
	return m
}()

// fzSigError checks that err is a *sigv4.Error with a known code and the
// status that goes with it, and returns it.
func fzSigError(t testing.TB, err error) *sigv4.Error {
	t.Helper()
	e, ok := err.(*sigv4.Error)
	if !ok {
		t.Fatalf("error %v (%T) is not a *sigv4.Error", err, err)
	}
	if status, known := fzStatus[e.Code]; !known || status != e.Status {
		t.Fatalf("error %v has code %q and status %d; the sentinels say %d", err, e.Code, e.Status, status)
	}
	return e
}

// ---- Requests as Go's HTTP stack carries them ----

func fzTokenByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func fzToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !fzTokenByte(s[i]) {
			return false
		}
	}
	return true
}

// fzFieldValue is what net/http accepts as a header value (RFC 9110
// field-value): no control byte but HTAB.
func fzFieldValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// fzHostHeader approximates the Host header bytes net/http's server takes.
func fzHostHeader(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!$&'()*+,-.:;=[]_~%", c) >= 0) {
			return false
		}
	}
	return true
}

// fzClientValid applies the checks Go's Transport makes before it sends a
// request: a token method and valid header names and values.
func fzClientValid(req *http.Request) bool {
	if !fzToken(req.Method) {
		return false
	}
	for k, vv := range req.Header {
		if !fzToken(k) {
			return false
		}
		for _, v := range vv {
			if !fzFieldValue(v) {
				return false
			}
		}
	}
	return true
}

// fzServerRead parses a request from wire bytes as net/http's server does:
// http.ReadRequest, then the server's own checks (HTTP/1.x, one valid Host
// header, valid header names and values), then Host out of the map.
func fzServerRead(wire []byte) (*http.Request, bool) {
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(wire)))
	if err != nil || req.ProtoMajor != 1 {
		return nil, false
	}
	// http.ReadRequest has taken Host out of the map already: count the
	// Host lines of the head as the server does.
	head, _, _ := bytes.Cut(wire, []byte("\r\n\r\n"))
	hosts := 0
	for _, line := range strings.Split(string(head), "\n")[1:] {
		if name, value, ok := strings.Cut(strings.TrimSuffix(line, "\r"), ":"); ok && strings.EqualFold(name, "Host") {
			hosts++
			if !fzHostHeader(strings.Trim(value, " \t")) {
				return nil, false
			}
		}
	}
	if hosts != 1 {
		return nil, false
	}
	for k, vv := range req.Header {
		if !fzToken(k) {
			return nil, false
		}
		for _, v := range vv {
			if !fzFieldValue(v) {
				return nil, false
			}
		}
	}
	return req, true
}

// fzWire writes req as Go's client writes it, leaving req's body readable.
func fzWire(req *http.Request) ([]byte, error) {
	clone := req.Clone(req.Context())
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		clone.Body = body
	}
	var buf bytes.Buffer
	err := clone.Write(&buf)
	return buf.Bytes(), err
}

// ---- Reference canonicalization: what a signature binds ----

func fzUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

func fzEncode(s []byte, keepSlash bool) string {
	var b strings.Builder
	for _, c := range s {
		if fzUnreserved(c) || keepSlash && c == '/' {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte("0123456789ABCDEF"[c>>4])
			b.WriteByte("0123456789ABCDEF"[c&15])
		}
	}
	return b.String()
}

// fzDecode percent-decodes leniently: a '%' without two hex digits is itself.
func fzDecode(s string, plusIsSpace bool) []byte {
	var out []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if b, err := hex.DecodeString(s[i+1 : i+3]); err == nil {
				out = append(out, b[0])
				i += 2
				continue
			}
		}
		if s[i] == '+' && plusIsSpace {
			out = append(out, ' ')
			continue
		}
		out = append(out, s[i])
	}
	return out
}

// fzRefURI is the canonical URI of a path as sent: S3 decodes and encodes
// once; other services drop empty and dot segments and encode each segment
// as it stands.
func fzRefURI(path string, s3 bool) string {
	if path == "" {
		return "/"
	}
	if s3 {
		return fzEncode(fzDecode(path, false), true)
	}
	var stack []string
	dir := false
	for _, seg := range strings.Split(path, "/") {
		switch seg {
		case "", ".":
			dir = true
		case "..":
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			dir = true
		default:
			stack = append(stack, fzEncode([]byte(seg), false))
			dir = false
		}
	}
	out := "/" + strings.Join(stack, "/")
	if dir && len(stack) > 0 {
		out += "/"
	}
	return out
}

// fzRefQuery is the canonical query of a raw query, as the specification
// has it: every parameter, decoded and encoded again, sorted; only a
// presigned request leaves out its own X-Amz-Signature, and with omitToken
// its X-Amz-Security-Token (added after signing). A request signed in its
// Authorization header signs every query parameter.
func fzRefQuery(raw string, presigned, omitToken bool) string {
	var pairs []string
	for _, field := range strings.Split(raw, "&") {
		if field == "" {
			continue
		}
		k, v, _ := strings.Cut(field, "=")
		ek, ev := fzEncode(fzDecode(k, true), false), fzEncode(fzDecode(v, true), false)
		if presigned && ek == "X-Amz-Signature" || presigned && omitToken && ek == "X-Amz-Security-Token" {
			continue
		}
		pairs = append(pairs, ek+"="+ev)
	}
	slices.SortFunc(pairs, func(a, b string) int {
		ka, va, _ := strings.Cut(a, "=")
		kb, vb, _ := strings.Cut(b, "=")
		if c := strings.Compare(ka, kb); c != 0 {
			return c
		}
		return strings.Compare(va, vb)
	})
	return strings.Join(pairs, "&")
}

// fzRefHeaderValue trims a header value and collapses inner runs of white
// space (the only white space a server can receive is SP and HTAB).
func fzRefHeaderValue(values []string) string {
	var out []string
	for _, v := range values {
		out = append(out, strings.Join(strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == '\t' }), " "))
	}
	return strings.Join(out, ",")
}

// fzWirePath is the path of a server-side request as received.
func fzWirePath(req *http.Request) string {
	if p, _, _ := strings.Cut(req.RequestURI, "?"); strings.HasPrefix(p, "/") || p == "*" {
		return p
	}
	return req.URL.EscapedPath()
}

// fzMeaning is everything of a received request that its signature binds,
// computed independently of the code under test.
type fzMeaning struct {
	Method, Path, Query, Headers, Auth, Payload string
}

func fzMeaningOf(req *http.Request, body []byte, signedHeaders []string, s3, omitToken bool) fzMeaning {
	presigned := authz.IsPresigned(req.URL.RawQuery)
	m := fzMeaning{
		Method: req.Method,
		Path:   fzRefURI(fzWirePath(req), s3),
		Query:  fzRefQuery(req.URL.RawQuery, presigned, omitToken),
	}
	for _, name := range signedHeaders {
		values := req.Header.Values(name)
		if name == "host" {
			values = []string{req.Host}
		}
		m.Headers += name + ":" + fzRefHeaderValue(values) + "\n"
	}
	if presigned {
		a, err := authz.ParseQuery(req.URL.RawQuery)
		m.Auth = "query " + reflectString(a, err)
	} else {
		a, err := authz.ParseHeader(req.Header.Get("Authorization"))
		m.Auth = "header " + reflectString(a, err) + " " + strings.Join(req.Header.Values("Authorization"), "|")
	}
	if !(presigned && s3) { // presigned S3 requests leave the payload unsigned
		sum := sha256.Sum256(body)
		m.Payload = hex.EncodeToString(sum[:])
	}
	return m
}

func reflectString(a authz.Auth, err error) string {
	if err != nil {
		return "error " + err.Error()
	}
	b, _ := json.Marshal(a)
	return string(b)
}

// ---- FuzzVerify ----

type fzVector struct {
	method, target, headers string
	body                    []byte
	skew                    int64
}

// fzVectors returns every signed request of the AWS suite and of the S3
// worked examples, headers as "Name:value" lines.
func fzVectors(f testing.TB) []fzVector {
	f.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", "aws-sig-v4-test-suite", "v4", "*", "*signed-request.txt"))
	if err != nil || len(names) == 0 {
		f.Fatalf("no test vectors: %v", err)
	}
	var out []fzVector
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		file, err := httpfile.Parse(data)
		if err != nil {
			f.Fatal(err)
		}
		var lines []string
		for _, h := range file.Headers {
			lines = append(lines, h.Name+":"+h.Value)
		}
		out = append(out, fzVector{file.Method, file.Target, strings.Join(lines, "\n"), file.Body, 0})
	}
	data, err := os.ReadFile(filepath.Join("testdata", "s3-examples.json"))
	if err != nil {
		f.Fatal(err)
	}
	var doc struct {
		Examples []struct {
			Scope   string `json:"credential_scope"`
			Request struct {
				Method  string     `json:"method"`
				Path    string     `json:"path"`
				Query   [][]string `json:"query"`
				Headers [][]string `json:"headers"`
				Payload string     `json:"payload_utf8"`
			} `json:"request"`
			Expected struct {
				SignedHeaders string `json:"signed_headers"`
				Signature     string `json:"signature"`
				SignedQuery   string `json:"signed_query_string"`
			} `json:"expected"`
		} `json:"examples"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		f.Fatal(err)
	}
	skew := int64(fzS3Time.Sub(fzSuiteTime) / time.Second)
	for _, e := range doc.Examples {
		r, x := e.Request, e.Expected
		if r.Method == "" || x.Signature == "" {
			continue // the aws-chunked examples have a seed signature only
		}
		var fields, lines []string
		for _, kv := range r.Query {
			if len(kv) == 2 {
				fields = append(fields, url.QueryEscape(kv[0])+"="+url.QueryEscape(kv[1]))
			}
		}
		for _, kv := range r.Headers {
			if len(kv) == 2 {
				lines = append(lines, kv[0]+":"+kv[1])
			}
		}
		target := r.Path
		switch {
		case x.SignedQuery != "":
			target += "?" + x.SignedQuery
		default:
			lines = append(lines, "Authorization:AWS4-HMAC-SHA256 Credential="+fzS3Creds.AccessKeyID+"/"+e.Scope+
				", SignedHeaders="+x.SignedHeaders+", Signature="+x.Signature)
			if len(fields) > 0 {
				target += "?" + strings.Join(fields, "&")
			}
		}
		out = append(out, fzVector{r.Method, target, strings.Join(lines, "\n"), []byte(r.Payload), skew})
	}
	return out
}

func fzVerifierAt(now time.Time) *sigv4.Verifier {
	return &sigv4.Verifier{
		Keys:     sigv4.NewKeyring(fzSuiteCreds, fzS3Creds),
		Regions:  []string{"us-east-1"},
		Services: []string{"service", "s3", "iam"},
		Now:      func() time.Time { return now },
	}
}

// fzRawRequest builds a server-side request from arbitrary bytes, as a
// caller that does not use net/http's server might: no validation at all.
func fzRawRequest(method, target, headers string, body []byte) *http.Request {
	req := &http.Request{Method: method, RequestURI: target, Header: http.Header{}, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	if u, err := url.ParseRequestURI(target); err == nil {
		req.URL = u
	} else {
		p, q, _ := strings.Cut(target, "?")
		req.URL = &url.URL{Path: p, RawQuery: q}
	}
	for _, line := range strings.Split(headers, "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if strings.EqualFold(name, "Host") {
			req.Host = value
			continue
		}
		name = http.CanonicalHeaderKey(name) // leaves a name with invalid bytes as it is
		req.Header[name] = append(req.Header[name], value)
	}
	req.Body, req.ContentLength = http.NoBody, 0
	if len(body) > 0 {
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	}
	return req
}

// fzCheckVerify runs Verify and checks its contract whatever the request.
func fzCheckVerify(t *testing.T, v *sigv4.Verifier, req *http.Request, body []byte) {
	t.Helper()
	header := req.Header.Clone()
	method, uri, host, rawQuery := req.Method, req.RequestURI, req.Host, req.URL.RawQuery
	res, err := v.Verify(req)
	if !reflect.DeepEqual(header, req.Header) || method != req.Method || uri != req.RequestURI || host != req.Host || rawQuery != req.URL.RawQuery {
		t.Fatalf("Verify modified the request")
	}
	if err != nil {
		fzSigError(t, err)
		if res != nil {
			t.Fatalf("Verify returned both a result and an error")
		}
		return
	}
	if res == nil || res.Body == nil {
		t.Fatalf("Verify succeeded with no result or no body")
	}
	if id := res.Identity.AccessKeyID; id != fzSuiteCreds.AccessKeyID && id != fzS3Creds.AccessKeyID {
		t.Fatalf("Verify succeeded for unknown access key %q", id)
	}
	if res.Presigned != authz.IsPresigned(req.URL.RawQuery) {
		t.Fatalf("Result.Presigned = %v for query %q", res.Presigned, req.URL.RawQuery)
	}
	if !slices.Contains(strings.Split(res.SignedHeaders, ";"), "host") {
		t.Fatalf("Verify succeeded without host signed: %q", res.SignedHeaders)
	}
	got, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		if e := fzSigError(t, err); e.Code != sigv4.ErrXAmzContentSHA256Mismatch.Code && e.Code != sigv4.ErrIncompleteBody.Code {
			t.Fatalf("reading the verified body: %v", err)
		}
		return
	}
	if !bytes.Equal(got, body) {
		t.Fatalf("the verified body is %q, want %q", got, body)
	}
	if len(res.PayloadHash) == 64 {
		if sum := sha256.Sum256(got); hex.EncodeToString(sum[:]) != res.PayloadHash {
			t.Fatalf("the body read without error does not match PayloadHash %s", res.PayloadHash)
		}
	}
}

// FuzzVerify gives Verify requests made of arbitrary method, target, header
// and body bytes, both as they are and as net/http's server would deliver
// them: Verify must not panic, must not modify the request, and must
// return a *sigv4.Error or a consistent Result.
func FuzzVerify(f *testing.F) {
	for _, v := range fzVectors(f) {
		f.Add(v.method, v.target, v.headers, v.body, v.skew)
	}
	f.Fuzz(func(t *testing.T, method, target, headers string, body []byte, skew int64) {
		skew %= 1 << 40
		v := fzVerifierAt(fzSuiteTime.Add(time.Duration(skew) * time.Second))
		fzCheckVerify(t, v, fzRawRequest(method, target, headers, body), body)

		var wire bytes.Buffer
		wire.WriteString(method + " " + target + " HTTP/1.1\r\n")
		for _, line := range strings.Split(headers, "\n") {
			wire.WriteString(strings.TrimSuffix(line, "\r") + "\r\n")
		}
		if len(body) > 0 && !strings.Contains(strings.ToLower(headers), "content-length") {
			wire.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
		}
		wire.WriteString("\r\n")
		wire.Write(body)
		if req, ok := fzServerRead(wire.Bytes()); ok {
			// The server reads the body through Content-Length or chunking.
			all, err := io.ReadAll(req.Body)
			if err != nil {
				return
			}
			req.Body = io.NopCloser(bytes.NewReader(all))
			if len(all) == 0 {
				req.Body = http.NoBody
			}
			fzCheckVerify(t, v, req, all)
		}
	})
}

// ---- FuzzSignVerify ----

// fzSpecialHeaders are headers Go's client writes from fields of the
// request rather than from the header map, or that the signer sets itself:
// a fuzzed header name among them is dropped.
var fzSpecialHeaders = []string{
	"Host", "Content-Length", "Transfer-Encoding", "Trailer", "User-Agent", "Authorization",
	"X-Amz-Date", "X-Amz-Content-Sha256", "X-Amz-Security-Token", "Connection", "Expect", "Te", "Upgrade",
	"Keep-Alive", "Proxy-Connection", "Proxy-Authorization", "Proxy-Authenticate", "X-Amzn-Trace-Id",
}

type fzCase struct {
	method, path, query string
	values              []string // of X-Fuzz-A
	name, value         string   // one more header
	body                []byte
	s3, presign         bool
	urlMode             int
	token, omitToken    bool
}

var fzMethods = []string{"GET", "PUT", "POST", "DELETE"}

// fzClientRequest builds the request a client would sign, or nil if Go's
// HTTP client cannot send it as intended.
func fzClientRequest(c *fzCase) *http.Request {
	host := "example.amazonaws.com"
	if c.s3 {
		host = "examplebucket.s3.amazonaws.com"
	}
	var u *url.URL
	switch c.urlMode {
	case 0: // url.Parse of the whole URL, the usual way
		if !strings.HasPrefix(c.path, "/") || strings.ContainsAny(c.path, "?#") || strings.Contains(c.query, "#") {
			return nil
		}
		var err error
		if u, err = url.Parse("http://" + host + c.path); err != nil {
			return nil
		}
		u.RawQuery = c.query
	case 1: // a decoded path in URL.Path, escaped by Go
		// Without a leading '/', Go sends the path as it is, which is no
		// origin-form target ("a:" even reads as an absolute URI).
		if c.path != "" && !strings.HasPrefix(c.path, "/") {
			return nil
		}
		u = &url.URL{Scheme: "http", Host: host, Path: c.path, RawQuery: c.query}
	default: // a path escaped by the caller, in URL.Opaque
		// Go sends Opaque as it is: a '?' in it would start the query.
		if !strings.HasPrefix(c.path, "/") || strings.HasPrefix(c.path, "//") || strings.Contains(c.path, "?") {
			return nil
		}
		u = &url.URL{Scheme: "http", Host: host, Opaque: c.path, RawQuery: c.query}
	}
	req := &http.Request{Method: c.method, URL: u, Host: u.Host, Header: http.Header{}, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	if u.RequestURI() == "*" || strings.HasPrefix(u.RequestURI(), "*?") {
		return nil // asterisk-form takes no query, and presigning adds one
	}
	req.Header["X-Fuzz-A"] = slices.Clone(c.values)
	if c.name != "" {
		if !fzToken(c.name) || slices.ContainsFunc(fzSpecialHeaders, func(s string) bool { return strings.EqualFold(s, c.name) }) {
			return nil
		}
		req.Header.Add(c.name, c.value)
	}
	req.Body = http.NoBody
	if len(c.body) > 0 {
		body := c.body
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		req.ContentLength = int64(len(body))
	}
	if !fzClientValid(req) {
		return nil
	}
	// What Go would send unsigned must reach a server as it is.
	wire, err := fzWire(req)
	if err != nil {
		return nil
	}
	if _, ok := fzServerRead(wire); !ok {
		return nil
	}
	if !c.presign && authz.IsPresigned(c.query) {
		return nil // a request carrying both mechanisms is the caller's error
	}
	return req
}

func fzSignerFor(c *fzCase, now time.Time) *sigv4.Signer {
	creds := fzSuiteCreds
	if c.token {
		creds.SessionToken = fzSessionToken
	}
	service := "service"
	if c.s3 {
		service = "s3"
	}
	return &sigv4.Signer{Credentials: creds, Region: "us-east-1", Service: service, OmitSessionToken: c.omitToken,
		Now: func() time.Time { return now }}
}

func fzVerifierFor(c *fzCase, now time.Time) *sigv4.Verifier {
	creds := fzSuiteCreds
	if c.token {
		creds.SessionToken = fzSessionToken
	}
	return &sigv4.Verifier{Keys: sigv4.NewKeyring(creds), Regions: []string{"us-east-1"}, Services: []string{"service", "s3"},
		OmitSessionToken: c.omitToken, Now: func() time.Time { return now }}
}

// fzOutcome verifies req and reads its body: "" if accepted, else the
// error code (of Verify or of reading the body).
func fzOutcome(t *testing.T, v *sigv4.Verifier, req *http.Request) (string, *sigv4.Error) {
	t.Helper()
	res, err := v.Verify(req)
	if err != nil {
		e := fzSigError(t, err)
		return e.Code, e
	}
	if _, err := io.ReadAll(res.Body); err != nil {
		e := fzSigError(t, err)
		return e.Code, e
	}
	return "", nil
}

// fzElements locates the signed elements in wire bytes: each as [start, end).
func fzElements(wire []byte, presigned bool) map[string][2]int {
	el := map[string][2]int{}
	line := bytes.IndexByte(wire, '\n')
	sp1 := bytes.IndexByte(wire, ' ')
	sp2 := bytes.LastIndexByte(wire[:line], ' ')
	el["method"] = [2]int{0, sp1}
	target := [2]int{sp1 + 1, sp2}
	if q := bytes.IndexByte(wire[target[0]:target[1]], '?'); q >= 0 {
		el["path"] = [2]int{target[0], target[0] + q}
		el["query"] = [2]int{target[0] + q + 1, target[1]}
		el["append"] = [2]int{target[1], target[1]}
	} else {
		el["path"] = target
		el["append"] = [2]int{target[1], target[1]}
	}
	headEnd := bytes.Index(wire, []byte("\r\n\r\n"))
	el["body"] = [2]int{headEnd + 4, len(wire)}
	value := func(name, prefix string) {
		for i := line + 1; i < headEnd; {
			j := i + bytes.Index(wire[i:], []byte("\r\n"))
			if k, ok := bytes.CutPrefix(wire[i:j], []byte(name+": ")); ok {
				start := j - len(k)
				if p := bytes.Index(k, []byte(prefix)); p >= 0 {
					el[name+prefix] = [2]int{start + p + len(prefix), j}
					return
				}
			}
			i = j + 2
		}
	}
	value("X-Fuzz-A", "")
	if presigned {
		q := el["query"]
		for _, name := range []string{"X-Amz-Date", "X-Amz-Signature"} {
			if i := bytes.Index(wire[q[0]:q[1]], []byte(name+"=")); i >= 0 {
				start := q[0] + i + len(name) + 1
				end := start + bytes.IndexByte(append(wire[start:q[1]:q[1]], '&'), '&')
				el[name] = [2]int{start, end}
			}
		}
	} else {
		value("X-Amz-Date", "")
		value("Authorization", "Signature=")
		el["X-Amz-Signature"] = el["AuthorizationSignature="]
		delete(el, "AuthorizationSignature=")
	}
	return el
}

var fzElementNames = []string{"method", "path", "query", "X-Fuzz-A", "X-Amz-Date", "X-Amz-Signature", "body", "append"}

// FuzzSignVerify signs a fuzzed request with Signer, carries it to the
// server side exactly as net/http would, and checks that Verify accepts it;
// then it changes one byte of one signed element (or appends a query
// parameter) on the wire and checks that Verify rejects the request if and
// only if the change alters what the signature binds.
func FuzzSignVerify(f *testing.F) {
	seeds := 0
	for _, v := range fzVectors(f) {
		p, q, _ := strings.Cut(v.target, "?")
		if strings.Contains(q, "X-Amz-Signature") {
			q = "Param1=value1&Param2=value2"
		}
		var value string
		for _, line := range strings.Split(v.headers, "\n") {
			if n, val, _ := strings.Cut(line, ":"); !strings.EqualFold(n, "host") && !strings.HasPrefix(strings.ToLower(n), "x-amz") && !strings.EqualFold(n, "authorization") {
				value = val
			}
		}
		f.Add(p, q, value, " b  c ", "My-Header", value, v.body, uint8(seeds), uint16(seeds), uint8(seeds*7+1), "x=1")
		seeds++
	}
	for _, s := range []struct{ path, query string }{
		{"/a/./b/../c//d/", "a=1&a=0&b&=&c=+%2B"},
		{"/ü €/%41%2f/", "ü=€&k=v%20w"},
		{"/a%2Fb+c;d=e", "X-Amz-%53ignature=1&X-Amz-Date=x"},
		{"/..", "%zz=%"},
		{"", ""},
	} {
		for mode := range 16 {
			f.Add(s.path, s.query, "\tv  1 ", "", "X-Amz-Meta-Key", "  x\ty ", []byte("body"), uint8(mode), uint16(mode*13), uint8(0x20), "X-Amz-%53ignature=evil")
		}
	}
	f.Fuzz(func(t *testing.T, path, query, v1, v2, name, value string, body []byte, mode uint8, mut uint16, flip uint8, extra string) {
		c := &fzCase{
			method: fzMethods[mode>>5%4], path: path, query: query, values: []string{v1, v2}, name: name, value: value, body: body,
			s3: mode&1 != 0, presign: mode&2 != 0, urlMode: int(mode>>2) % 3, token: mode&16 != 0, omitToken: mode&16 != 0 && mode&128 != 0,
		}
		req := fzClientRequest(c)
		if req == nil {
			t.Skip("not representable by Go's HTTP client")
		}
		now := fzSuiteTime
		var err error
		if c.presign {
			err = fzSignerFor(c, now).Presign(req, time.Hour)
		} else {
			err = fzSignerFor(c, now).Sign(req)
		}
		if err != nil {
			// Signer refuses what Verifier would refuse: a header name beyond
			// authz.MaxNameLen, a canonical request beyond
			// sigv4.MaxCanonicalRequest. Anything else must sign.
			if size := len(c.path) + len(c.query) + len(v1) + len(v2) + len(c.value); len(c.name) > authz.MaxNameLen || size > sigv4.MaxCanonicalRequest-2048 {
				t.Skipf("beyond the verifier's bounds: %v", err)
			}
			t.Fatalf("signing: %v", err)
		}
		if !fzClientValid(req) {
			t.Fatalf("the signed request has headers Go's client refuses: %q", req.Header)
		}
		wire, err := fzWire(req)
		if err != nil {
			t.Fatalf("writing the signed request: %v", err)
		}
		sreq, ok := fzServerRead(wire)
		if !ok {
			t.Fatalf("the signed request does not reach the server:\n%q", wire)
		}
		v := fzVerifierFor(c, now)
		if code, e := fzOutcome(t, v, sreq); code != "" {
			msg := ""
			if e != nil {
				msg = "\ncanonical request:\n" + e.CanonicalRequest
			}
			t.Fatalf("Verify rejected a request signed by Signer: %s%s\nwire:\n%q", code, msg, wire)
		}

		// One change on the wire.
		sreq, _ = fzServerRead(wire)
		var signedHeaders []string
		if c.presign {
			a, _ := authz.ParseQuery(sreq.URL.RawQuery)
			signedHeaders = strings.Split(a.SignedHeaders, ";")
		} else {
			a, _ := authz.ParseHeader(sreq.Header.Get("Authorization"))
			signedHeaders = strings.Split(a.SignedHeaders, ";")
		}
		els := fzElements(wire, c.presign)
		what := fzElementNames[int(mut)%len(fzElementNames)]
		span, ok := els[what]
		if !ok {
			return
		}
		mutated := slices.Clone(wire)
		if what == "append" {
			sep := "&"
			if _, has := els["query"]; !has {
				sep = "?"
			}
			if extra == "" {
				return
			}
			mutated = slices.Insert(mutated, span[0], []byte(sep+extra)...)
		} else {
			if span[1] <= span[0] {
				return
			}
			i := span[0] + int(mut>>3)%(span[1]-span[0])
			if flip == 0 {
				flip = 1
			}
			mutated[i] ^= flip
		}
		mreq, ok := fzServerRead(mutated)
		if !ok {
			return
		}
		mbody, err := io.ReadAll(mreq.Body)
		if err != nil {
			return
		}
		mreq.Body = io.NopCloser(bytes.NewReader(mbody))
		if len(mbody) == 0 {
			mreq.Body = http.NoBody
		}
		before := fzMeaningOf(sreq, c.body, signedHeaders, c.s3, c.omitToken)
		after := fzMeaningOf(mreq, mbody, signedHeaders, c.s3, c.omitToken)
		code, _ := fzOutcome(t, v, mreq)
		switch {
		case before != after && code == "":
			t.Fatalf("Verify accepted a request whose signed %s changed:\nbefore %+v\nafter  %+v\nwire:\n%q\nmutated:\n%q", what, before, after, wire, mutated)
		case before == after && code != "":
			t.Fatalf("Verify rejected (%s) a change to %s that the signature does not bind:\nmeaning %+v\nwire:\n%q\nmutated:\n%q", code, what, before, wire, mutated)
		}
	})
}

// TestFuzzHelpers checks the reference canonicalization against the AWS
// suite's canonical requests, so that the fuzz oracle is itself right.
func TestFuzzHelpers(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join("testdata", "aws-sig-v4-test-suite", "v4", "*", "header-canonical-request.txt"))
	if len(dirs) == 0 {
		t.Fatal("no vectors")
	}
	for _, name := range dirs {
		dir := filepath.Dir(name)
		creq, _ := os.ReadFile(name)
		data, _ := os.ReadFile(filepath.Join(dir, "request.txt"))
		ctx, _ := os.ReadFile(filepath.Join(dir, "context.json"))
		var cfg struct {
			Normalize bool `json:"normalize"`
		}
		if err := json.Unmarshal(ctx, &cfg); err != nil {
			t.Fatal(err)
		}
		file, err := httpfile.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		p, q, _ := strings.Cut(file.Target, "?")
		lines := strings.Split(string(creq), "\n")
		if got := fzRefURI(p, !cfg.Normalize); got != lines[1] {
			t.Errorf("%s: fzRefURI(%q) = %q, want %q", dir, p, got, lines[1])
		}
		if got := fzRefQuery(q, false, false); got != lines[2] {
			t.Errorf("%s: fzRefQuery(%q) = %q, want %q", dir, q, got, lines[2])
		}
	}
}

// TestFuzzVectors checks that the seeds of FuzzVerify are requests the
// verifier accepts (with S3 path rules for the suite's unnormalized cases),
// so that fuzzing starts from the success path.
func TestFuzzVectors(t *testing.T) {
	vectors := fzVectors(t)
	if len(vectors) < 80 {
		t.Fatalf("only %d vectors", len(vectors))
	}
	for _, vec := range vectors {
		var errs []error
		for _, s3 := range []bool{false, true} {
			v := fzVerifierAt(fzSuiteTime.Add(time.Duration(vec.skew) * time.Second))
			v.S3 = s3
			res, err := v.Verify(fzRawRequest(vec.method, vec.target, vec.headers, vec.body))
			if err == nil && res != nil {
				errs = nil
				break
			}
			errs = append(errs, err)
		}
		if errs != nil && !strings.Contains(vec.headers+vec.target, "Security-Token") { // the keyring has no token
			t.Errorf("%s %.80s: %v", vec.method, vec.target, errs)
		}
	}
}
